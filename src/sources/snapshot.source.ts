import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import { redactUrl, silentLogger, type Logger } from '../observability/logger.js';
import type { FrameSource, GrabOptions, SourceStats } from './frame-source.js';
import { FrameStats } from './frame-stats.js';
import { fetchWithAuth, HttpCameraAuth, networkReason } from './http-auth.js';
import { encodedImageSize } from './image-size.js';
import { MAX_PART_BYTES } from './multipart.js';
import type { SourceContext } from './source-options.js';

export const snapshotSourceSchema = z.strictObject({
  type: z.literal('snapshot'),
  /** http(s) URL answering one still image per GET. Credentials may be in the URL (Basic or Digest); they are never shown. */
  url: z.string().regex(/^https?:\/\/[^/\s]+/i, 'must be an http:// or https:// URL'),
  /** Longest wait for one still, from request to last byte. */
  timeoutMs: z.number().int().min(50).max(30_000).default(2000),
  /** Free-running stations ask for a still at this rate; triggered stations ask once per trigger. */
  fps: z.number().positive().max(30).default(2),
  /**
   * With no still asked for this long (a stopped line), one is fetched to check the camera, so a
   * dead camera raises "camera lost" before the next part arrives, not on it. 0 = never.
   */
  checkEveryMs: z.number().int().min(0).max(600_000).default(5000),
});
export type SnapshotSourceConfig = z.output<typeof snapshotSourceSchema>;

export function snapshotSource(cfg: SnapshotSourceConfig, ctx: SourceContext): SnapshotSource {
  return new SnapshotSource(cfg.url, cfg.timeoutMs, ctx.logger.child({ source: 'snapshot' }), cfg.checkEveryMs);
}

/**
 * One HTTP GET per frame, for cameras that only serve stills: each grab takes a fresh still, so
 * it is taken after the trigger by construction. Basic or Digest with the URL's credentials,
 * which are never shown; a known Digest nonce is reused, so a still costs one request.
 */
export class SnapshotSource implements FrameSource {
  readonly kind = 'snapshot';
  readonly description: string;
  readonly #auth: HttpCameraAuth;
  readonly #origin: string;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #health = new HealthCell(HealthState.starting, 'no still yet');
  readonly #stats = new FrameStats();
  #stop: AbortController | null = null;
  #seq = 0;
  readonly #checkEveryMs: number;
  #lastAsked = 0;
  #checking = false;
  #checkTimer: NodeJS.Timeout | null = null;

  constructor(url: string, timeoutMs: number, logger: Logger = silentLogger(), checkEveryMs = 0) {
    this.#checkEveryMs = checkEveryMs;
    this.#auth = new HttpCameraAuth(url);
    this.#origin = new URL(this.#auth.url).pathname;
    this.#timeoutMs = timeoutMs;
    this.#log = logger;
    this.description = `snapshot ${redactUrl(url)}`;
  }

  async start(): Promise<void> {
    if (this.#stop) return;
    this.#stop = new AbortController();
    this.#health.set(HealthState.starting, 'no still yet');
    if (this.#checkEveryMs > 0) {
      // First check at once: Ready waits for a camera known to answer.
      this.#check();
      this.#checkTimer = setInterval(() => this.#check(), Math.min(1000, this.#checkEveryMs));
      this.#checkTimer.unref();
    }
  }

  /** Fetches a still to check the camera when none was asked for recently. */
  #check(): void {
    if (this.#checking || Date.now() - this.#lastAsked < this.#checkEveryMs) return;
    this.#checking = true;
    this.grab()
      .catch(() => undefined) // the failure is in health()
      .finally(() => (this.#checking = false));
  }

  /** Cancels stills in flight. */
  async stop(): Promise<void> {
    if (this.#checkTimer) clearInterval(this.#checkTimer);
    this.#checkTimer = null;
    this.#stop?.abort();
    this.#stop = null;
  }

  async grab(opts: GrabOptions = {}): Promise<Frame> {
    const stop = this.#stop?.signal;
    if (!stop) throw new LinesideError(ErrorCode.sourceUnavailable, `${this.description}: not started`);
    const timeoutMs = Math.min(this.#timeoutMs, opts.timeoutMs ?? Infinity);
    this.#lastAsked = Date.now();
    // One controller per still, tied to stop(), the caller's signal and the timeout; unhooked after.
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    const outer = opts.signal ? [stop, opts.signal] : [stop];
    for (const s of outer) s.addEventListener('abort', onAbort, { once: true });
    if (outer.some((s) => s.aborted)) ac.abort();
    let timer: NodeJS.Timeout | undefined;
    try {
      // A trigger time still ahead (clock skew with the PLC): ask the camera once it has passed.
      const wait = (opts.after ?? 0) - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal: ac.signal }).catch(() => undefined);
      let timedOut = false;
      timer = setTimeout(() => {
        timedOut = true;
        ac.abort();
      }, timeoutMs);
      return await this.#fetch(ac.signal, () => timedOut, timeoutMs, () => this.#cancelled(stop, opts.signal));
    } finally {
      clearTimeout(timer);
      for (const s of outer) s.removeEventListener('abort', onAbort);
    }
  }

  async #fetch(signal: AbortSignal, timedOut: () => boolean, timeoutMs: number, cancelled: () => LinesideError | null): Promise<Frame> {
    const early = cancelled();
    if (early) throw early;
    const capturedAt = Date.now();
    let res: IncomingMessage;
    try {
      res = await fetchWithAuth(this.#auth, { signal, headers: { accept: 'image/jpeg, image/png;q=0.9, image/*;q=0.8' } });
    } catch (cause) {
      throw cancelled() ?? this.#fail(timedOut() ? `no answer within ${timeoutMs} ms` : `camera unreachable: ${networkReason(cause)}`, cause);
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      res.resume();
      if (status === 401 || status === 403) throw this.#fail(this.#auth.refusal(status));
      throw this.#fail(`camera answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    }
    let data: Buffer;
    try {
      data = await readBody(res, MAX_PART_BYTES);
    } catch (cause) {
      const why = timedOut() ? `no complete image within ${timeoutMs} ms` : cause instanceof TooLarge ? cause.message : `connection lost during the image: ${networkReason(cause)}`;
      throw cancelled() ?? this.#fail(why, cause);
    }
    if (data.length === 0) throw this.#fail('camera sent an empty image');
    const type = String(res.headers['content-type'] ?? '');
    if (!/^\s*image\//i.test(type) && !looksLikeImage(data)) throw this.#fail(`camera sent ${type.split(';')[0] || 'data without a content type'}, not an image: check the URL`);

    const now = Date.now();
    this.#stats.frame(now, encodedImageSize(data) ?? undefined);
    if (this.#health.set(HealthState.ok)) this.#log.info({ source: this.description, auth: this.#auth.scheme }, 'camera delivering stills');
    return { data, capturedAt, origin: this.#origin, seq: ++this.#seq };
  }

  #cancelled(stop: AbortSignal, caller: AbortSignal | undefined): LinesideError | null {
    if (stop.aborted) return new LinesideError(ErrorCode.stopped, `${this.description}: stopped`);
    if (caller?.aborted) return new LinesideError(ErrorCode.stopped, 'grab cancelled');
    return null;
  }

  health(): ComponentHealth {
    return this.#health.value;
  }

  stats(): SourceStats {
    return this.#stats.snapshot();
  }

  #fail(detail: string, cause?: unknown): LinesideError {
    const reason = this.#auth.redact(detail);
    if (this.#health.set(HealthState.down, reason)) this.#log.warn({ source: this.description, reason }, 'camera still failed');
    return new LinesideError(ErrorCode.sourceUnavailable, `${this.description}: ${reason}`, { cause });
  }
}

class TooLarge extends Error {}

async function readBody(res: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      res.destroy();
      throw new TooLarge(`camera sent more than ${max / 1024 / 1024} MB for one still`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** JPEG (FF D8 FF) or PNG magic bytes. */
function looksLikeImage(b: Buffer): boolean {
  return (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || (b.length > 8 && b.readUInt32BE(0) === 0x89504e47);
}
