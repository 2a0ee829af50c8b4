import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame, ImageData } from '../domain/frame.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import type { Logger } from '../observability/logger.js';
import type { FrameSource, GrabOptions, SourceKind, SourceStats } from './frame-source.js';
import { FramePool } from './frame-pool.js';
import { FrameWaiters } from './frame-waiters.js';
import { FrameStats } from './frame-stats.js';
import { encodedImageSize } from './image-size.js';

/**
 * One connection to a streaming camera: delivers images through `emit` until the stream ends
 * (resolve) or fails (reject with a reason an operator can act on). Must stop promptly when
 * `signal` aborts.
 */
export type StreamSession = (emit: (img: ImageData) => void, signal: AbortSignal, pool: FramePool) => Promise<void>;

/**
 * A session ends with this when it stopped only for want of frames while the camera answered: a
 * hardware-triggered camera on a line with no parts. With `idleOk` that is not a fault.
 */
export class StreamIdle extends Error {
  override readonly name = 'StreamIdle';
}

export interface StreamTiming {
  /** Frames kept for matching to triggers; 1 = newest only (free-running stations). */
  readonly history: number;
  /** No frame for this long on a running connection → camera down, connection restarted. */
  readonly stallAfterMs: number;
  /** A new connection must deliver its first frame within this long. */
  readonly connectTimeoutMs: number;
  /** Reconnect backoff: first retry after min, doubling to max. */
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Subtracted from the arrival time to estimate when the frame was taken (decoder and network delay). */
  readonly latencyMs: number;
  /**
   * Silence is normal (a camera exposing only on a hardware trigger): no stall or first-frame
   * timeout, and a session ending with StreamIdle reconnects at once without marking the camera down.
   */
  readonly idleOk: boolean;
}

export const DEFAULT_TIMING: StreamTiming = {
  history: 1,
  stallAfterMs: 3000,
  connectTimeoutMs: 10_000,
  reconnectMinMs: 250,
  reconnectMaxMs: 2000,
  latencyMs: 0,
  idleOk: false,
};

const WATCHDOG_MS = 200;
/** A reason that means the camera refused our credentials. */
const REFUSED = /\b40[13] (unauthori[sz]ed|forbidden)|HTTP 40[13]\b|\bunauthori[sz]ed\b|refused the credentials/i;
const REFUSED_RETRY_MS = 30_000;

/**
 * Everything a streaming camera (RTSP, MJPEG, V4L2, GigE Vision, video replay) needs beyond its
 * wire protocol: a ring of recent frames matched to triggers, newest-only delivery with drop
 * counting, a stall watchdog, and reconnection with backoff, forever, without restarting lineside.
 */
export class StreamSource implements FrameSource {
  readonly kind: SourceKind;
  readonly description: string;
  readonly #session: StreamSession;
  readonly #t: StreamTiming;
  readonly #log: Logger;
  readonly #health = new HealthCell(HealthState.starting, 'connecting');
  readonly #stats = new FrameStats();
  #ring: Frame[] = [];
  readonly #pool = new FramePool();
  readonly #used = new WeakSet<Frame>();
  readonly #waiters = new FrameWaiters<number | undefined>();
  #seq = 0;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #current: AbortController | null = null;
  #stop: AbortController | null = null;
  #sessionStartedAt = 0;
  #sessionFrames = 0;
  #stalled: string | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  #connectedBefore = false;
  #loggedReason: string | null = null;

  constructor(kind: SourceKind, description: string, session: StreamSession, timing: Partial<StreamTiming>, logger: Logger) {
    this.kind = kind;
    this.description = description;
    this.#session = session;
    this.#t = { ...DEFAULT_TIMING, ...timing };
    this.#log = logger;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#connectedBefore = false;
    this.#health.set(HealthState.starting, 'connecting');
    this.#stop = new AbortController();
    this.#loop = this.#run(this.#stop.signal);
    this.#watchdog = setInterval(() => this.#checkStall(), WATCHDOG_MS);
    this.#watchdog.unref();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#stop?.abort();
    this.#current?.abort();
    await this.#loop;
    this.#waiters.rejectAll(new LinesideError(ErrorCode.stopped, `${this.description}: stopped`));
    this.#ring = [];
  }

  grab(opts: GrabOptions = {}): Promise<Frame> {
    if (!this.#running) return Promise.reject(new LinesideError(ErrorCode.sourceUnavailable, `${this.description}: not started`));
    if (opts.signal?.aborted) return Promise.reject(new LinesideError(ErrorCode.stopped, 'grab cancelled'));
    const ready = this.#pick(opts.after);
    if (ready) return Promise.resolve(ready);
    const timeoutMs = opts.timeoutMs ?? this.#t.stallAfterMs;
    return this.#waiters.wait(opts.after, timeoutMs, opts.signal, () => {
      const h = this.#health.value;
      const why = h.state === HealthState.ok ? '' : `: ${h.detail ?? h.state}`;
      return new LinesideError(ErrorCode.sourceUnavailable, `no frame from ${this.description} within ${timeoutMs} ms${why}`);
    });
  }

  health(): ComponentHealth {
    return this.#health.value;
  }

  stats(): SourceStats {
    return this.#stats.snapshot();
  }

  /** The first unused frame at/after `after`, or the newest if unused; marks it used. */
  #pick(after: number | undefined): Frame | null {
    const f = after === undefined ? this.#ring.at(-1) : this.#ring.find((x) => x.capturedAt >= after && !this.#used.has(x));
    if (!f || this.#used.has(f)) return null;
    this.#used.add(f);
    return f;
  }

  #emit(img: ImageData, session: AbortSignal): void {
    // A session being torn down may still have a frame in its pipe: it is not a live frame.
    if (!this.#running || session.aborted) return;
    const now = Date.now();
    if (this.#sessionFrames === 0 && this.#connectedBefore) this.#stats.restarts++;
    this.#connectedBefore = true;
    const frame: Frame = { ...img, capturedAt: now - this.#t.latencyMs, origin: `${this.kind} #${++this.#seq}`, seq: this.#seq };
    this.#stats.frame(now, img.raw ?? encodedImageSize(img.data) ?? undefined);
    this.#sessionFrames++;
    this.#loggedReason = null;
    if (this.#health.set(HealthState.ok)) this.#log.info({ camera: this.description }, 'camera delivering frames');

    if (this.#waiters.deliver(frame, (after) => after === undefined || frame.capturedAt >= after)) this.#used.add(frame);
    this.#ring.push(frame);
    while (this.#ring.length > this.#t.history) {
      const old = this.#ring.shift()!;
      if (!this.#used.has(old)) {
        this.#stats.framesDropped++;
        if (old.raw) this.#pool.give(old.data);
      }
    }
  }

  async #run(stop: AbortSignal): Promise<void> {
    let delay = this.#t.reconnectMinMs;
    let attempt = 0;
    while (!stop.aborted) {
      const ac = new AbortController();
      this.#current = ac;
      this.#stalled = null;
      this.#sessionStartedAt = Date.now();
      this.#sessionFrames = 0;
      let reason: string;
      let idle = false;
      try {
        await this.#session((img) => this.#emit(img, ac.signal), ac.signal, this.#pool);
        reason = this.#stalled ?? 'stream ended';
      } catch (e) {
        reason = this.#stalled ?? (e instanceof Error ? e.message : String(e));
        idle = e instanceof StreamIdle && this.#t.idleOk;
      }
      this.#current = null;
      if (stop.aborted) break;
      if (idle) {
        // The camera answered and waits for triggers: reconnect at once, still healthy.
        if (this.#health.value.state !== HealthState.ok) this.#health.set(HealthState.ok, 'waiting for triggers');
        delay = this.#t.reconnectMinMs;
        attempt = 0;
        try {
          await sleep(this.#t.reconnectMinMs, undefined, { signal: stop });
        } catch {
          break;
        }
        continue;
      }
      if (this.#sessionFrames > 0) {
        delay = this.#t.reconnectMinMs;
        attempt = 0;
      }
      attempt++;
      const changed = this.#loggedReason !== reason;
      this.#loggedReason = reason;
      this.#health.set(HealthState.down, reason);
      // Logged when the reason changes and now and again while it lasts, not on every retry.
      if (changed || attempt % 30 === 0) this.#log.warn({ camera: this.description, reason, attempt }, 'camera connection lost; reconnecting');
      // Cameras lock accounts after a few failed logins: refused credentials are retried slowly.
      const wait = REFUSED.test(reason) ? Math.max(delay, REFUSED_RETRY_MS) : delay;
      try {
        await sleep(wait, undefined, { signal: stop });
      } catch {
        break;
      }
      delay = Math.min(this.#t.reconnectMaxMs, delay * 2);
    }
  }

  #checkStall(): void {
    const ac = this.#current;
    if (!ac || ac.signal.aborted || this.#t.idleOk) return;
    const now = Date.now();
    const last = this.#sessionFrames > 0 ? this.#stats.lastFrameAt! : this.#sessionStartedAt;
    const limit = this.#sessionFrames > 0 ? this.#t.stallAfterMs : this.#t.connectTimeoutMs;
    if (now - last <= limit) return;
    this.#stalled = this.#sessionFrames > 0 ? `no frame for ${(limit / 1000).toFixed(1)} s (stalled)` : `no first frame within ${(limit / 1000).toFixed(1)} s of connecting`;
    // Down now, not when the decoder has finished exiting (a process saying goodbye to a dead camera can take seconds).
    this.#health.set(HealthState.down, this.#stalled);
    ac.abort();
  }
}
