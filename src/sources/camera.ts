import type { Frame } from '../domain/frame.js';
import type { Box } from '../domain/geometry.js';
import type { ComponentHealth } from '../domain/health.js';
import type { FrameSource, GrabOptions, SourceKind, SourceStats } from './frame-source.js';
import type { ImageHealthMonitor, ImageHealthReport } from './image-health.js';

/**
 * A station's camera: its source, plus the image health checks run on the frames inspected
 * (blur, exposure, frozen, moved). Stations see a plain FrameSource; the page and the metrics
 * also read `image()`.
 */
export class Camera implements FrameSource {
  readonly kind: SourceKind;
  readonly description: string;
  readonly source: FrameSource;
  readonly #monitor: ImageHealthMonitor | null;
  #last: Frame | null = null;
  /** Someone watches the live view until then (ms): only then is each frame copied for it. */
  #liveUntil = 0;
  #live: { data: Buffer; raw?: Frame['raw']; capturedAt: number; blur: readonly Box[] } | null = null;
  /** Frames reach the live view only through showLive(), with the regions to blur (privacy). */
  readonly #privateLive: boolean;

  /**
   * `privateLive`: the live view shows no frame as grabbed, only those a station hands to
   * showLive() with their faces to blur (zone stations with privacy.blurFaces).
   */
  constructor(source: FrameSource, monitor: ImageHealthMonitor | null, opts: { privateLive?: boolean } = {}) {
    this.source = source;
    this.kind = source.kind;
    this.description = source.description;
    this.#monitor = monitor;
    this.#privateLive = opts.privateLive ?? false;
  }

  start(): Promise<void> {
    return this.source.start();
  }

  async stop(): Promise<void> {
    await this.source.stop();
    await this.#monitor?.idle();
    this.#last = null;
  }

  async grab(opts?: GrabOptions): Promise<Frame> {
    const frame = await this.source.grab(opts);
    this.#last = frame;
    // Frames return to a pool after inspection: the live view keeps its own copy, and only while watched.
    if (!this.#privateLive && Date.now() < this.#liveUntil) this.#live = { data: Buffer.from(frame.data), raw: frame.raw, capturedAt: frame.capturedAt, blur: [] };
    this.#monitor?.offer(frame, frame.capturedAt);
    return frame;
  }

  async release(frame: Frame): Promise<void> {
    await this.source.release?.(frame);
  }

  health(): ComponentHealth {
    return this.source.health();
  }

  stats(): SourceStats {
    return this.source.stats();
  }

  /** The latest image health report; null before the first analysis or when checks are off. */
  image(): ImageHealthReport | null {
    return this.#monitor?.latest() ?? null;
  }

  /** Someone has asked for the live view in the last few seconds. */
  liveWatched(): boolean {
    return Date.now() < this.#liveUntil;
  }

  /**
   * A frame for the live view with the regions to blur in it (original pixels), from the station
   * that found them; copied only while someone watches. Blurred when the page asks for it.
   */
  showLive(frame: Frame, blur: readonly Box[]): void {
    if (Date.now() < this.#liveUntil) this.#live = { data: Buffer.from(frame.data), raw: frame.raw, capturedAt: frame.capturedAt, blur: [...blur] };
  }

  /**
   * The newest inspected frame for the page's live view (JPEG), or null before one arrives. Asking
   * keeps the copies coming for a few seconds; nobody watching costs nothing. Regions to blur are
   * blurred at full resolution before the frame is scaled and encoded.
   */
  async liveJpeg(): Promise<{ jpeg: Buffer; capturedAt: number } | null> {
    this.#liveUntil = Date.now() + 5000;
    const live = this.#live;
    if (!live) return null;
    const { liveJpeg } = await import('../vision/annotate.js');
    return { jpeg: await liveJpeg(live, live.blur, { width: 960, quality: 75 }), capturedAt: live.capturedAt };
  }

  /** Makes the last frame inspected the reference view for "camera moved"; false if there is none yet. */
  async setReference(): Promise<boolean> {
    if (!this.#monitor || !this.#last) return false;
    await this.#monitor.setReference(this.#last);
    return true;
  }
}
