import type { SourceStats } from './frame-source.js';

const RATE_WINDOW_MS = 5000;

/** Counters every source keeps; the frame rate is measured over the last few seconds. */
export class FrameStats {
  framesReceived = 0;
  framesDropped = 0;
  restarts = 0;
  lastFrameAt: number | null = null;
  width: number | null = null;
  height: number | null = null;
  readonly #arrivals: number[] = [];

  frame(at: number, size?: { width: number; height: number }): void {
    this.framesReceived++;
    this.lastFrameAt = at;
    if (size) {
      this.width = size.width;
      this.height = size.height;
    }
    this.#arrivals.push(at);
    while (this.#arrivals.length > 0 && this.#arrivals[0]! < at - RATE_WINDOW_MS) this.#arrivals.shift();
  }

  snapshot(now = Date.now()): SourceStats {
    const recent = this.#arrivals.filter((t) => t >= now - RATE_WINDOW_MS);
    const span = recent.length > 1 ? recent.at(-1)! - recent[0]! : 0;
    const fps = span > 0 && now - recent.at(-1)! < RATE_WINDOW_MS / 2 ? ((recent.length - 1) * 1000) / span : 0;
    return {
      framesReceived: this.framesReceived,
      framesDropped: this.framesDropped,
      restarts: this.restarts,
      fps: Math.round(fps * 10) / 10,
      lastFrameAt: this.lastFrameAt,
      width: this.width,
      height: this.height,
    };
  }
}
