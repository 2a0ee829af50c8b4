/**
 * Recycles the pixel buffers of frames nobody looked at. A 1080p RGB frame is 6 MB; a camera at
 * 25 frames/s whose station inspects 2 of them would otherwise allocate 150 MB/s and keep the
 * garbage collector busy (measured: the larger part of the Node process's CPU per camera).
 * Only frames never handed to inspection come back here, so no buffer in use is ever reused.
 */
export class FramePool {
  readonly #free = new Map<number, Buffer[]>();
  readonly #perSize: number;

  constructor(perSize = 4) {
    this.#perSize = perSize;
  }

  take(size: number): Buffer {
    return this.#free.get(size)?.pop() ?? Buffer.allocUnsafe(size);
  }

  give(buf: Buffer): void {
    let list = this.#free.get(buf.length);
    if (!list) {
      // Sizes change only when a camera is reconfigured: forget the old ones.
      this.#free.clear();
      list = [];
      this.#free.set(buf.length, list);
    }
    if (list.length < this.#perSize) list.push(buf);
  }
}
