import { describe, expect, it } from 'vitest';
import { PnmSplitter } from './pnm-stream.js';

const ppm = (w: number, h: number, fill: number, header = `P6\n${w} ${h}\n255\n`): Buffer => Buffer.concat([Buffer.from(header, 'latin1'), Buffer.alloc(w * h * 3, fill)]);
const pgm = (w: number, h: number, fill: number): Buffer => Buffer.concat([Buffer.from(`P5 ${w} ${h} 255\n`, 'latin1'), Buffer.alloc(w * h, fill)]);

function feed(stream: Buffer, chunkSize: number) {
  const s = new PnmSplitter();
  const frames = [];
  for (let i = 0; i < stream.length; i += chunkSize) frames.push(...s.push(stream.subarray(i, i + chunkSize)));
  return frames;
}

describe('PnmSplitter (decoded frames from ffmpeg or GStreamer on a pipe)', () => {
  const stream = Buffer.concat([ppm(4, 3, 1), pgm(5, 2, 2), ppm(4, 3, 3, 'P6\n# written by a decoder\n4 3\n255\n'), ppm(2, 2, 4)]);

  it('splits frames wherever the pipe cuts the bytes, with their layout', () => {
    for (const size of [1, 2, 7, 13, 64, stream.length]) {
      const frames = feed(stream, size);
      expect(frames.map((f) => [f.raw.width, f.raw.height, f.raw.channels, f.data[0], f.data.length])).toEqual([
        [4, 3, 3, 1, 36],
        [5, 2, 1, 2, 10],
        [4, 3, 3, 3, 36],
        [2, 2, 3, 4, 12],
      ]);
      for (const f of frames) expect(new Set(f.data).size).toBe(1);
    }
  });

  it('keeps each frame intact after the next one arrives (no shared buffers)', () => {
    const frames = feed(stream, 5);
    expect(frames[0]!.data.every((b) => b === 1)).toBe(true);
    expect(frames[2]!.data.every((b) => b === 3)).toBe(true);
  });

  it('refuses a stream that is not 8-bit binary PNM, saying what it got', () => {
    expect(() => new PnmSplitter().push(Buffer.from('\xff\xd8\xff\xe0 a jpeg', 'latin1'))).toThrow(/not a binary PNM stream/);
    expect(() => new PnmSplitter().push(Buffer.from('P6\n4 3\n65535\n', 'latin1'))).toThrow(/only 8-bit/);
    expect(() => new PnmSplitter().push(Buffer.from('P6\n0 3\n255\n', 'latin1'))).toThrow(/out of range/);
  });
});
