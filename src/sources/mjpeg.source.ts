import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { redactUrl, type Logger } from '../observability/logger.js';
import { fetchWithAuth, HttpCameraAuth, networkReason } from './http-auth.js';
import { MultipartParser, multipartBoundary } from './multipart.js';
import { streamOptions, timingOf, type SourceContext } from './source-options.js';
import { StreamSource, type StreamSession } from './stream-source.js';

export const mjpegSourceSchema = z.strictObject({
  type: z.literal('mjpeg'),
  /** http(s) URL of the multipart stream; credentials may be in it (Basic or Digest); they are never shown. */
  url: z.string().regex(/^https?:\/\/[^/\s]+/i, 'must be an http:// or https:// URL'),
  ...streamOptions,
});
export type MjpegSourceConfig = z.output<typeof mjpegSourceSchema>;

/** Parts that are not JPEG tolerated before the stream is called unusable (some cameras interleave metadata). */
const MAX_FOREIGN_PARTS = 10;

/** MJPEG over HTTP (multipart/x-mixed-replace): one long GET, one JPEG per part, no decoding. */
export function mjpegSource(cfg: MjpegSourceConfig, ctx: SourceContext): StreamSource {
  const log = ctx.logger.child({ source: 'mjpeg' });
  const description = `mjpeg ${redactUrl(cfg.url)}`;
  return new StreamSource('mjpeg', description, mjpegSession(new HttpCameraAuth(cfg.url), log), timingOf(cfg, ctx), log);
}

/** One connection: GET the stream, split it into parts, emit the JPEGs until it ends or `signal` aborts. */
export function mjpegSession(auth: HttpCameraAuth, log: Logger): StreamSession {
  return async (emit, signal) => {
    if (signal.aborted) return;
    let res: IncomingMessage;
    try {
      res = await fetchWithAuth(auth, { signal, headers: { accept: 'multipart/x-mixed-replace, */*;q=0.1' } });
    } catch (e) {
      if (signal.aborted) return;
      throw new Error(auth.redact(`camera unreachable: ${networkReason(e)}`), { cause: e });
    }
    const onAbort = (): void => void res.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const type = String(res.headers['content-type'] ?? '');
      const refusal = refusalOf(res, type, auth);
      if (refusal) throw new Error(refusal);
      log.debug({ url: redactUrl(auth.url), contentType: type, auth: auth.scheme }, 'mjpeg stream open');
      const parser = new MultipartParser(multipartBoundary(type));
      let jpegs = 0;
      let foreign = 0;
      const iterator = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (e) {
          if (signal.aborted) return;
          throw new Error(auth.redact(`connection lost: ${networkReason(e)}`), { cause: e });
        }
        if (next.done || signal.aborted) return;
        let parts;
        try {
          parts = parser.push(next.value);
        } catch (e) {
          throw new Error(auth.redact(`unreadable MJPEG stream: ${(e as Error).message}`), { cause: e });
        }
        for (const part of parts) {
          if (part.body.length > 2 && part.body[0] === 0xff && part.body[1] === 0xd8) {
            jpegs++;
            emit({ data: part.body });
          } else if (jpegs === 0 && ++foreign >= MAX_FOREIGN_PARTS) {
            throw new Error(`camera stream parts are not JPEG images (${part.headers['content-type'] ?? 'no content type'})`);
          }
        }
        if (parser.ended) return;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      res.destroy();
    }
  };
}

/** Why this answer is not an MJPEG stream, or null if it may be one. */
function refusalOf(res: IncomingMessage, contentType: string, auth: HttpCameraAuth): string | null {
  const status = res.statusCode ?? 0;
  if (status === 401 || status === 403) return auth.refusal(status);
  if (status < 200 || status >= 300) return `camera answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  // ffmpeg's own HTTP server sends application/octet-stream; the parser then checks the body starts with a boundary.
  if (t.startsWith('multipart/') || t === '' || t === 'application/octet-stream') return null;
  if (t === 'text/html') return 'camera sent a web page (text/html), not an MJPEG stream: check the URL (a login or settings page?)';
  if (t.startsWith('image/')) return `camera sent a single image (${t}), not an MJPEG stream: use a snapshot source for this URL`;
  return `camera sent ${t}, not an MJPEG stream (multipart/x-mixed-replace)`;
}
