import type { RawLayout } from '../domain/frame.js';

export interface RawImage {
  readonly data: Buffer;
  readonly raw: RawLayout;
}

const MAX_SIDE = 16_384;

/**
 * Splits a byte stream of binary PNM images (P5 grey, P6 RGB, 8-bit) into frames. ffmpeg
 * (`-c:v ppm -f image2pipe`) and GStreamer (`pnmenc`) both write this: a few bytes of header per
 * frame, then the raw pixels, so decoded video crosses the pipe with no encode or decode.
 */
export class PnmSplitter {
  /** Bytes of the next header, until it is complete. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** The frame being filled: allocated once its header is read, each byte copied once. */
  #frame: { raw: RawLayout; data: Buffer; filled: number } | null = null;
  readonly #alloc: (size: number) => Buffer;

  /** `alloc` supplies the buffer for each frame (a pool of recycled ones); default a fresh one. */
  constructor(alloc: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size)) {
    this.#alloc = alloc;
  }

  /** Feed bytes; returns the frames completed by them. Throws on a stream that is not PNM. */
  push(chunk: Buffer): RawImage[] {
    const out: RawImage[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      if (!this.#frame) {
        this.#chunks.push(rest);
        this.#buffered += rest.length;
        const header = this.#parseHeader();
        if (!header) return out;
        const all = this.#chunks[0]!;
        this.#chunks = [];
        this.#buffered = 0;
        this.#frame = { raw: header.raw, data: this.#alloc(header.size), filled: 0 };
        rest = all.subarray(header.headerBytes);
        continue;
      }
      const f = this.#frame;
      const n = Math.min(rest.length, f.data.length - f.filled);
      rest.copy(f.data, f.filled, 0, n);
      f.filled += n;
      rest = rest.subarray(n);
      if (f.filled === f.data.length) {
        out.push({ data: f.data, raw: f.raw });
        this.#frame = null;
      }
    }
    return out;
  }

  #parseHeader(): { raw: RawLayout; headerBytes: number; size: number } | null {
    if (this.#buffered < 2) return null;
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    const b = this.#chunks[0]!;
    const magic = b.toString('latin1', 0, 2);
    if (magic !== 'P5' && magic !== 'P6') throw new Error(`not a binary PNM stream (starts with ${JSON.stringify(b.toString('latin1', 0, 8))})`);
    // Magic, width, height, maxval: whitespace-separated, '#' comments, one whitespace byte after maxval.
    const fields: number[] = [];
    let i = 2;
    while (fields.length < 3) {
      while (i < b.length && (isSpace(b[i]!) || b[i] === 0x23)) {
        if (b[i] === 0x23) while (i < b.length && b[i] !== 0x0a) i++;
        else i++;
      }
      let j = i;
      while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
      if (j === b.length) {
        if (b.length > 512) throw new Error('PNM header longer than 512 bytes');
        return null;
      }
      if (j === i) throw new Error(`bad PNM header near byte ${i}`);
      fields.push(Number(b.toString('latin1', i, j)));
      i = j;
    }
    if (i >= b.length) return null;
    if (!isSpace(b[i]!)) throw new Error('bad PNM header: no whitespace after maxval');
    const [width, height, maxval] = fields as [number, number, number];
    if (maxval !== 255) throw new Error(`PNM maxval ${maxval}: only 8-bit images are supported`);
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) throw new Error(`PNM size ${width}×${height} out of range`);
    const channels = magic === 'P6' ? 3 : 1;
    return { raw: { width, height, channels }, headerBytes: i + 1, size: width * height * channels };
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
