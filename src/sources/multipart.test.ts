import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MultipartParser, multipartBoundary, type MultipartPart } from './multipart.js';

const JPEGS = [0, 1, 2].map((i) => readFileSync(new URL(`../../fixtures/blister/blister-000${i}.jpg`, import.meta.url)));

/** A multipart body the way cameras write it, with the variations seen in the field. */
function stream(parts: readonly Buffer[], o: { delimiter?: string; eol?: string; contentLength?: boolean; closing?: boolean; preamble?: string } = {}): Buffer {
  const eol = o.eol ?? '\r\n';
  const d = o.delimiter ?? '--myboundary';
  const out: Buffer[] = [Buffer.from(o.preamble ?? '')];
  for (const p of parts) {
    const headers = [`${d}`, 'Content-Type: image/jpeg', ...(o.contentLength === false ? [] : [`Content-Length: ${p.length}`]), '', ''].join(eol);
    out.push(Buffer.from(headers, 'latin1'), p, Buffer.from(eol));
  }
  if (o.closing) out.push(Buffer.from(`${d}--${eol}`));
  return Buffer.concat(out);
}

function feed(parser: MultipartParser, data: Buffer, chunk: number | (() => number)): MultipartPart[] {
  const parts: MultipartPart[] = [];
  for (let i = 0; i < data.length; ) {
    const n = typeof chunk === 'number' ? chunk : chunk();
    parts.push(...parser.push(data.subarray(i, i + n)));
    i += n;
  }
  return parts;
}

/** Parts compared by length and digest: a failure then reads "which part", not a megabyte of bytes. */
function bodies(parts: readonly (MultipartPart | Buffer | undefined)[]): string[] {
  return parts.map((p) => {
    const b = Buffer.isBuffer(p) ? p : p!.body;
    return `${b.length} bytes ${createHash('sha1').update(b).digest('hex').slice(0, 12)}`;
  });
}

describe('multipartBoundary', () => {
  it('reads the boundary quoted or not, with or without the leading -- cameras add', () => {
    expect(multipartBoundary('multipart/x-mixed-replace; boundary=myboundary')).toBe('myboundary');
    expect(multipartBoundary('multipart/x-mixed-replace;boundary="--frame"')).toBe('frame');
    expect(multipartBoundary('multipart/x-mixed-replace; boundary=--BoundaryString; charset=x')).toBe('BoundaryString');
    expect(multipartBoundary('Multipart/X-Mixed-Replace; Boundary="a b"')).toBe('a b');
    expect(multipartBoundary('multipart/x-mixed-replace')).toBeNull();
    expect(multipartBoundary(undefined)).toBeNull();
  });
});

describe('MultipartParser', () => {
  it('splits parts with Content-Length, whatever the chunking (one byte at a time included)', () => {
    const data = stream(JPEGS);
    for (const chunk of [1, 7, 1000, data.length]) {
      const parts = feed(new MultipartParser('myboundary'), data, chunk);
      expect(bodies(parts)).toEqual(bodies(JPEGS));
      expect(parts[0]!.headers['content-type']).toBe('image/jpeg');
    }
  });

  it('splits parts without Content-Length by finding the next boundary, one byte at a time', () => {
    const data = stream(JPEGS, { contentLength: false, closing: true });
    const parser = new MultipartParser('--myboundary');
    expect(bodies(feed(parser, data, 1))).toEqual(bodies(JPEGS));
    expect(parser.ended).toBe(true);
  });

  it('copes with LF-only line endings, with and without Content-Length', () => {
    for (const contentLength of [true, false]) {
      const data = stream(JPEGS, { eol: '\n', contentLength, closing: true });
      expect(bodies(feed(new MultipartParser('myboundary'), data, 3))).toEqual(bodies(JPEGS));
    }
  });

  it('handles random chunk edges across parts, headers and boundaries', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return 1 + (seed % 200);
    };
    const data = stream([...JPEGS, ...JPEGS], { contentLength: false });
    const parts = feed(new MultipartParser('myboundary'), data, rnd);
    // Without Content-Length a part is complete only when the next boundary arrives.
    expect(bodies(parts)).toEqual(bodies([...JPEGS, ...JPEGS].slice(0, -1)));
  });

  it('learns the boundary from the stream when the Content-Type declares none (ffmpeg sends octet-stream)', () => {
    const data = stream(JPEGS, { delimiter: '--ffmpeg' });
    expect(bodies(feed(new MultipartParser(null), data, 5))).toEqual(bodies(JPEGS));
  });

  it('accepts a declared "--x" boundary delimited as "----x", and a preamble before the first part', () => {
    const data = stream(JPEGS, { delimiter: '----x', contentLength: false, closing: true, preamble: 'This is a multipart stream.\r\n' });
    expect(bodies(feed(new MultipartParser('--x'), data, 11))).toEqual(bodies(JPEGS));
  });

  it('does not cut a part at boundary text that is not at a line start', () => {
    const tricky = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.from('xx--myboundary\r\n--myboundaryX\r\nyy'), Buffer.from([0xff, 0xd9])]);
    const data = stream([tricky, JPEGS[0]!], { contentLength: false, closing: true });
    expect(bodies(feed(new MultipartParser('myboundary'), data, 1))).toEqual(bodies([tricky, JPEGS[0]]));
  });

  it('takes a JPEG that follows the boundary line with no headers, and a boundary straight after the JPEG end', () => {
    const data = Buffer.concat([Buffer.from('--b\r\n'), JPEGS[0]!, Buffer.from('--b\r\n'), JPEGS[1]!, Buffer.from('\r\n--b--\r\n')]);
    expect(bodies(feed(new MultipartParser('b'), data, 4))).toEqual(bodies([JPEGS[0], JPEGS[1]]));
  });

  it('refuses a part larger than the limit, declared or not, instead of growing without bound', () => {
    const big = Buffer.alloc(5000, 0x11);
    expect(() => feed(new MultipartParser('b', { maxPartBytes: 4096 }), stream([big], { delimiter: '--b' }), 512)).toThrow(/over the .* limit/);
    expect(() => feed(new MultipartParser('b', { maxPartBytes: 4096 }), stream([big], { delimiter: '--b', contentLength: false }), 512)).toThrow(/over the .* limit/);
  });

  it('refuses a body that is not multipart', () => {
    const html = Buffer.from(`<!DOCTYPE html><html><body>${'login '.repeat(20_000)}</body></html>`);
    expect(() => feed(new MultipartParser('b'), html, 4096)).toThrow(/no multipart boundary/);
    expect(() => feed(new MultipartParser(null), html, 4096)).toThrow(/does not start with a multipart boundary/);
  });
});
