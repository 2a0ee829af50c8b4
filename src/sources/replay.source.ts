import { statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import { runChildFrames } from './child-frames.js';
import { ffmpegArgs, ffmpegPath } from './ffmpeg.js';
import type { FrameSource, SourceStats } from './frame-source.js';
import { FrameStats } from './frame-stats.js';
import { encodedImageSize } from './image-size.js';
import { streamOptions, timingOf, type SourceContext } from './source-options.js';
import { StreamSource } from './stream-source.js';

export const replaySourceSchema = z.strictObject({
  type: z.literal('replay'),
  /** A folder of JPEG/PNG images (replayed in name order) or a video file; both loop. */
  path: z.string().min(1),
  /** Free-running frame rate; triggered stations take the next image on each trigger instead. */
  fps: z.number().positive().max(120).default(5),
  ...streamOptions,
});
export type ReplaySourceConfig = z.output<typeof replaySourceSchema>;

const IMAGE = /\.(jpe?g|png)$/i;

/**
 * The demo, tests, and re-inspection of stored images: a folder of images, or a video file decoded
 * by ffmpeg at the set rate. Both loop.
 */
export function replaySource(cfg: ReplaySourceConfig, ctx: SourceContext): FrameSource {
  let isDir: boolean;
  try {
    isDir = statSync(cfg.path).isDirectory();
  } catch (cause) {
    throw new LinesideError(ErrorCode.config, `replay path ${cfg.path} does not exist`, { cause });
  }
  if (isDir) return new ReplaySource(cfg.path);
  const log = ctx.logger.child({ source: 'replay' });
  // -re reads the file at its own rate; the fps filter then sets the rate lineside sees.
  const args = ffmpegArgs(['-re', '-stream_loop', '-1', '-i', cfg.path], { fps: cfg.fps });
  return new StreamSource(
    'replay',
    `replay ${cfg.path}`,
    (emit, signal, pool) => runChildFrames({ command: ffmpegPath(), args, secrets: [] }, emit, signal, log, pool),
    timingOf(cfg, ctx),
    log,
  );
}

/**
 * Replays a folder of images in name order, looping. Files are read on every grab, so a replaced
 * file is picked up.
 */
export class ReplaySource implements FrameSource {
  readonly kind = 'replay';
  readonly description: string;
  readonly #dir: string;
  readonly #health = new HealthCell();
  readonly #stats = new FrameStats();
  #files: string[] = [];
  #next = 0;
  #seq = 0;

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
      const now = Date.now();
      this.#stats.frame(now, encodedImageSize(data) ?? undefined);
      this.#health.set(HealthState.ok);
      return { data, capturedAt: now, origin: name, seq: ++this.#seq };
    } catch (cause) {
      this.#health.set(HealthState.down, `cannot read ${name}`);
      throw new LinesideError(ErrorCode.sourceUnavailable, `cannot read ${name}`, { cause });
    }
  }

  health(): ComponentHealth {
    return this.#health.value;
  }

  stats(): SourceStats {
    return this.#stats.snapshot();
  }
}
