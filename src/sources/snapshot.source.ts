import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import { redactUrl } from '../observability/logger.js';
import type { FrameSource } from './frame-source.js';

/**
 * One HTTP GET per frame, for cameras that only serve stills. Credentials in the URL are sent as
 * HTTP Basic auth and never shown.
 */
export class SnapshotSource implements FrameSource {
  readonly description: string;
  readonly #url: string;
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;
  readonly #health = new HealthCell();

  constructor(url: string, timeoutMs: number) {
    const u = new URL(url);
    this.#auth = u.username ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined;
    u.username = '';
    u.password = '';
    this.#url = u.toString();
    this.#timeoutMs = timeoutMs;
    this.description = `snapshot ${redactUrl(url)}`;
  }

  async start(): Promise<void> {
    this.#health.set(HealthState.starting, 'no frame yet');
  }

  async stop(): Promise<void> {}

  async grab(signal?: AbortSignal): Promise<Frame> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const capturedAt = Date.now();
    let res: Response;
    try {
      res = await fetch(this.#url, {
        headers: this.#auth ? { authorization: this.#auth } : {},
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (cause) {
      const why = timeout.aborted ? `no answer within ${this.#timeoutMs} ms` : (cause as Error).message;
      throw this.#fail(`camera unreachable: ${why}`, cause);
    }
    if (res.status === 401 || res.status === 403) throw this.#fail(`camera refused the credentials (HTTP ${res.status})`);
    if (!res.ok) throw this.#fail(`camera answered HTTP ${res.status}`);
    const data = Buffer.from(await res.arrayBuffer());
    if (data.length === 0) throw this.#fail('camera sent an empty image');
    this.#health.set(HealthState.ok);
    return { data, capturedAt, origin: new URL(this.#url).pathname };
  }

  health(): ComponentHealth {
    return this.#health.value;
  }

  #fail(detail: string, cause?: unknown): LinesideError {
    this.#health.set(HealthState.down, detail);
    return new LinesideError(ErrorCode.sourceUnavailable, `${this.description}: ${detail}`, { cause });
  }
}
