import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import type { FrameSource } from './frame-source.js';

const IMAGE = /\.(jpe?g|png)$/i;

/**
 * Replays a folder of images in name order, looping: the demo, tests, and re-inspection of
 * stored images. Files are read on every grab, so a replaced file is picked up.
 */
export class ReplaySource implements FrameSource {
  readonly description: string;
  readonly #dir: string;
  readonly #health = new HealthCell();
  #files: string[] = [];
  #next = 0;

  constructor(dir: string) {
    this.#dir = dir;
    this.description = `replay ${dir}`;
  }

  async start(): Promise<void> {
    try {
      this.#files = (await readdir(this.#dir)).filter((f) => IMAGE.test(f)).sort();
    } catch (cause) {
      this.#health.set(HealthState.down, `cannot read folder ${this.#dir}`);
      throw new LinesideError(ErrorCode.sourceUnavailable, `replay folder ${this.#dir} cannot be read`, { cause });
    }
    if (this.#files.length === 0) {
      this.#health.set(HealthState.down, `no images in ${this.#dir}`);
      throw new LinesideError(ErrorCode.sourceUnavailable, `replay folder ${this.#dir} has no .jpg/.png images`);
    }
    this.#health.set(HealthState.ok);
  }

  async stop(): Promise<void> {
    this.#files = [];
  }

  async grab(): Promise<Frame> {
    const name = this.#files[this.#next % this.#files.length];
    if (name === undefined) throw new LinesideError(ErrorCode.sourceUnavailable, 'replay source not started');
    this.#next = (this.#next + 1) % this.#files.length;
    try {
      const data = await readFile(join(this.#dir, name));
      this.#health.set(HealthState.ok);
      return { data, capturedAt: Date.now(), origin: name };
    } catch (cause) {
      this.#health.set(HealthState.down, `cannot read ${name}`);
      throw new LinesideError(ErrorCode.sourceUnavailable, `cannot read ${name}`, { cause });
    }
  }

  health(): ComponentHealth {
    return this.#health.value;
  }
}
