/**
 * Streaming parser for multipart bodies as MJPEG cameras send them (multipart/x-mixed-replace).
 * Cameras vary: the boundary is declared quoted or not, with or without a leading `--`, or not at
 * all (ffmpeg's HTTP server sends application/octet-stream); parts carry a Content-Length or not;
 * lines end in CRLF or LF. Chunks may split anything anywhere. Memory is bounded by the largest
 * allowed part.
 */

export const MAX_PART_BYTES = 32 * 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
/** Bytes of non-boundary data tolerated before the first boundary (some cameras send a preamble). */
const MAX_PREAMBLE_BYTES = 64 * 1024;

export interface MultipartPart {
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * The boundary declared in a Content-Type, without the leading `--` some cameras include;
 * null when absent (the parser then takes it from the first delimiter line in the stream).
 */
export function multipartBoundary(contentType: string | undefined): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(contentType ?? '');
  const raw = m?.[1] ?? m?.[2];
  if (!raw) return null;
  const core = raw.replace(/^-+/, '');
  return core || raw;
}

type State = 'preamble' | 'headers' | 'body' | 'done';

export class MultipartParser {
  readonly #max: number;
  #boundary: Buffer | null;
  #buf: Buffer = Buffer.alloc(64 * 1024);
  #len = 0;
  /** Start of the unconsumed data. */
  #pos = 0;
  /** Where the next boundary search resumes (everything before it has been searched). */
  #scan = 0;
  #state: State = 'preamble';
  #headers: Record<string, string> = {};
  #contentLength: number | null = null;
  /** Bytes skipped looking for a boundary since the last part. */
  #skipped = 0;
  #parts = 0;

  /** `boundary` as from `multipartBoundary` (a leading `--` is tolerated); null to learn it from the stream. */
  constructor(boundary: string | null, opts: { maxPartBytes?: number } = {}) {
    const core = boundary?.replace(/^-+/, '') || boundary;
    this.#boundary = core ? Buffer.from(core, 'latin1') : null;
    this.#max = opts.maxPartBytes ?? MAX_PART_BYTES;
  }

  /** True after the closing delimiter (`--boundary--`). */
  get ended(): boolean {
    return this.#state === 'done';
  }

  /** Feeds bytes; returns the parts completed by them. Throws on a part over the limit or on data that is not multipart. */
  push(chunk: Buffer): MultipartPart[] {
    if (this.#state === 'done') return [];
    this.#append(chunk);
    const parts: MultipartPart[] = [];
    for (;;) {
      const progressed =
        this.#state === 'preamble' ? this.#findDelimiter() : this.#state === 'headers' ? this.#readHeaders() : this.#state === 'body' ? this.#readBody(parts) : false;
      if (!progressed) break;
    }
    this.#compact();
    return parts;
  }

  #append(chunk: Buffer): void {
    const need = this.#len + chunk.length;
    if (need > this.#buf.length) {
      const used = this.#len - this.#pos;
      const grown = Buffer.alloc(Math.max(this.#buf.length * 2, used + chunk.length));
      this.#buf.copy(grown, 0, this.#pos, this.#len);
      this.#shift(this.#pos);
      this.#buf = grown;
    }
    chunk.copy(this.#buf, this.#len);
    this.#len += chunk.length;
  }

  /** Drops consumed bytes when they are a good share of the buffer. */
  #compact(): void {
    if (this.#pos === 0 || this.#pos < this.#buf.length / 2) return;
    this.#buf.copy(this.#buf, 0, this.#pos, this.#len);
    this.#shift(this.#pos);
  }

  #shift(by: number): void {
    this.#len -= by;
    this.#scan -= by;
    this.#pos -= by;
  }

  /** Looks for a delimiter line; on finding one moves to the part headers. */
  #findDelimiter(): boolean {
    if (!this.#boundary && !this.#learnBoundary()) return false;
    const d = this.#nextDelimiter(this.#pos);
    if (d === 'more') return false;
    if (d === null) {
      this.#skipped += this.#scan - this.#pos;
      // Before the first part this tells a stream that is not multipart; later, a Content-Length too short.
      if (this.#skipped > (this.#parts === 0 ? MAX_PREAMBLE_BYTES : this.#max)) throw new Error(`no multipart boundary "--${this.#boundary!.toString('latin1')}" in ${this.#skipped} bytes`);
      // Keep only what a delimiter split by the chunk edge could start with.
      this.#pos = this.#scan;
      return false;
    }
    this.#skipped = 0;
    this.#pos = d.next;
    this.#scan = d.next;
    this.#state = d.final ? 'done' : 'headers';
    this.#headers = {};
    this.#contentLength = null;
    return true;
  }

  /** Without a declared boundary: the first line starting with `--` declares it. */
  #learnBoundary(): boolean {
    const nl = this.#buf.indexOf(0x0a, this.#pos);
    if (nl < 0 || nl >= this.#len) {
      if (this.#len - this.#pos > MAX_HEADER_BYTES) throw new Error('stream does not start with a multipart boundary line');
      return false;
    }
    const line = this.#buf.toString('latin1', this.#pos, nl).trim();
    if (line === '') {
      this.#pos = nl + 1;
      this.#scan = this.#pos;
      return this.#learnBoundary();
    }
    const core = line.startsWith('--') ? line.replace(/^-+/, '') : '';
    if (!core) throw new Error('stream does not start with a multipart boundary line');
    this.#boundary = Buffer.from(core, 'latin1');
    return true;
  }

  /**
   * The next delimiter line at or after `from`: a line of `-`s, the boundary, optionally `--`
   * (the closing one) and trailing blanks. `start` is where its line begins, `next` the byte after
   * its line end. 'more' when a candidate needs bytes not yet received.
   */
  #nextDelimiter(from: number): { start: number; next: number; final: boolean } | 'more' | null {
    const b = this.#boundary!;
    const buf = this.#buf.subarray(0, this.#len);
    let at = Math.max(this.#scan, from);
    for (;;) {
      const i = buf.indexOf(b, at);
      if (i < 0) {
        // Resume later from where a boundary cut by the chunk edge could begin.
        this.#scan = Math.max(at, this.#len - b.length + 1);
        return null;
      }
      let start = i;
      while (start > from && buf[start - 1] === 0x2d) start--;
      // At a line start; or, for cameras that omit the line break, right after a JPEG's end marker.
      const atLineStart = start === from || buf[start - 1] === 0x0a || (i - start >= 2 && start - 2 >= from && buf[start - 2] === 0xff && buf[start - 1] === 0xd9);
      let k = i + b.length;
      if (buf[k] === 0x2d && (buf[k + 1] === 0x2d || k + 1 >= this.#len)) k += 2;
      while (buf[k] === 0x20 || buf[k] === 0x09 || buf[k] === 0x0d) k++;
      if (atLineStart && k >= this.#len) {
        this.#scan = i;
        return 'more';
      }
      if (atLineStart && buf[k] === 0x0a) {
        const final = buf[i + b.length] === 0x2d && buf[i + b.length + 1] === 0x2d;
        return { start, next: k + 1, final };
      }
      at = i + 1;
    }
  }

  #readHeaders(): boolean {
    for (;;) {
      if (this.#pos + 2 <= this.#len && this.#buf[this.#pos] === 0xff && this.#buf[this.#pos + 1] === 0xd8) {
        // Some cameras put the JPEG right after the boundary line, without headers or blank line.
        this.#state = 'body';
        return true;
      }
      const nl = this.#buf.indexOf(0x0a, this.#pos);
      if (nl < 0 || nl >= this.#len) {
        if (this.#len - this.#pos > MAX_HEADER_BYTES) throw new Error(`multipart part headers longer than ${MAX_HEADER_BYTES} bytes`);
        return false;
      }
      const line = this.#buf.toString('latin1', this.#pos, nl).replace(/\r$/, '');
      this.#pos = nl + 1;
      this.#scan = this.#pos;
      if (line.trim() === '') {
        this.#state = 'body';
        return true;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      this.#headers[name] = value;
      if (name === 'content-length' && /^\d+$/.test(value)) {
        const n = Number(value);
        if (n > this.#max) throw new Error(`multipart part of ${n} bytes is over the ${this.#max / 1024 / 1024} MB limit`);
        this.#contentLength = n;
      }
    }
  }

  #readBody(parts: MultipartPart[]): boolean {
    const n = this.#contentLength;
    if (n !== null) {
      if (this.#len - this.#pos < n) return false;
      parts.push({ headers: this.#headers, body: Buffer.from(this.#buf.subarray(this.#pos, this.#pos + n)) });
      this.#parts++;
      this.#pos += n;
      this.#scan = this.#pos;
      // The CRLF ending the body and the next delimiter line are found by the delimiter search.
      this.#state = 'preamble';
      return true;
    }
    const d = this.#nextDelimiter(this.#pos);
    if (d === null || d === 'more') {
      if (this.#len - this.#pos > this.#max) throw new Error(`multipart part over the ${this.#max / 1024 / 1024} MB limit without a boundary`);
      return false;
    }
    // The line break before the delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    let end = d.start;
    if (end > this.#pos && this.#buf[end - 1] === 0x0a) end--;
    if (end > this.#pos && this.#buf[end - 1] === 0x0d) end--;
    parts.push({ headers: this.#headers, body: Buffer.from(this.#buf.subarray(this.#pos, end)) });
    this.#parts++;
    this.#pos = d.next;
    this.#scan = d.next;
    this.#state = d.final ? 'done' : 'headers';
    this.#headers = {};
    this.#contentLength = null;
    return true;
  }
}
