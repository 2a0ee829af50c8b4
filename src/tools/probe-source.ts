import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { SourceConfig } from '../config/schema.js';
import { sourceSchema } from '../config/schema.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { HealthState } from '../domain/health.js';
import { redactUrl, silentLogger, type Logger } from '../observability/logger.js';
import { createSource } from '../sources/create-source.js';
import { encodedImageSize } from '../sources/image-size.js';
import { openImage } from '../vision/image.js';

export interface ProbeReport {
  readonly camera: string;
  readonly kind: string;
  /** From start to the first frame. */
  readonly timeToFirstFrameMs: number;
  readonly width: number;
  readonly height: number;
  /** 'raw RGB', 'raw grey' or the encoded format. */
  readonly format: string;
  readonly frames: number;
  readonly seconds: number;
  /** Measured delivery rate; null for cameras that deliver on request (snapshot, folder). */
  readonly fps: number | null;
  /** Median time to decode one frame to pixels in lineside (0 for raw frames: decoded by ffmpeg/GStreamer). */
  readonly decodeMs: number;
  readonly samplePath: string;
}

export interface ProbeOptions {
  readonly seconds: number;
  readonly out: string;
  readonly logger?: Logger;
}

/**
 * The commissioning tool: connect to a camera as its station would, wait for the first frame,
 * measure the frame rate for a few seconds, time the decode, and save a sample frame. Throws a
 * LinesideError with the camera's own reason (unreachable, credentials refused, no such device).
 */
export async function probeSource(cfg: SourceConfig, opts: ProbeOptions): Promise<ProbeReport> {
  // A folder is probed without taking files: those belong to the running station.
  if (cfg.type === 'folder') return probeFolder(cfg.path, opts);
  const source = createSource(cfg, { history: 1, logger: opts.logger ?? silentLogger() });
  const connectMs = 'connectTimeoutMs' in cfg ? cfg.connectTimeoutMs : 'timeoutMs' in cfg ? cfg.timeoutMs : 10_000;
  const t0 = Date.now();
  await source.start();
  try {
    const first = await firstFrame(source, connectMs);
    const timeToFirstFrameMs = Date.now() - t0;
    const frames: Frame[] = [first];
    const on = Date.now();
    const pull = cfg.type === 'snapshot' || (cfg.type === 'replay' && (await stat(cfg.path)).isDirectory());
    while (Date.now() - on < opts.seconds * 1000) {
      try {
        frames.push(await source.grab({ timeoutMs: Math.max(500, opts.seconds * 1000 - (Date.now() - on)) }));
      } catch (e) {
        if (Date.now() - on >= opts.seconds * 1000) break;
        throw e;
      }
      if (frames.length > 10_000) break;
    }
    const seconds = (Date.now() - on) / 1000;
    const decodes: number[] = [];
    for (const f of frames.slice(-10)) {
      const t = performance.now();
      await openImage(f).raw().toBuffer();
      decodes.push(performance.now() - t);
    }
    const last = frames.at(-1)!;
    const size = last.raw ?? encodedImageSize(last.data);
    const jpeg = last.raw ? await sharp(last.data, { raw: last.raw }).jpeg({ quality: 92 }).toBuffer() : last.data;
    await writeFile(opts.out, jpeg);
    return {
      camera: source.description,
      kind: source.kind,
      timeToFirstFrameMs,
      width: size?.width ?? 0,
      height: size?.height ?? 0,
      format: last.raw ? (last.raw.channels === 3 ? 'raw RGB' : 'raw grey') : (await sharp(last.data).metadata()).format,
      frames: frames.length - 1,
      seconds,
      fps: pull ? null : (frames.length - 1) / seconds,
      decodeMs: last.raw ? 0 : median(decodes),
      samplePath: opts.out,
    };
  } finally {
    await source.stop();
  }
}

/** The first frame, or the camera's reason for not sending one, as soon as it is known. */
async function firstFrame(source: ReturnType<typeof createSource>, timeoutMs: number): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  const ac = new AbortController();
  const grab = source.grab({ timeoutMs, signal: ac.signal });
  grab.catch(() => undefined);
  for (;;) {
    const settled = await Promise.race([grab.then((f) => ({ f })), new Promise<null>((r) => setTimeout(() => r(null), 100))]);
    if (settled) return settled.f;
    const h = source.health();
    if (h.state === HealthState.down) {
      ac.abort();
      throw new LinesideError(ErrorCode.sourceUnavailable, `${source.description}: ${h.detail ?? 'down'}`);
    }
    if (Date.now() > end) {
      ac.abort();
      throw new LinesideError(ErrorCode.sourceUnavailable, `${source.description}: no frame within ${timeoutMs} ms`);
    }
  }
}

async function probeFolder(path: string, opts: ProbeOptions): Promise<ProbeReport> {
  const t0 = Date.now();
  let names: string[];
  try {
    names = await readdir(path);
  } catch (cause) {
    throw new LinesideError(ErrorCode.sourceUnavailable, `folder ${path} cannot be read`, { cause });
  }
  const images = names.filter((n) => /\.(jpe?g|png|bmp|tiff?)$/i.test(n));
  if (images.length === 0) throw new LinesideError(ErrorCode.sourceUnavailable, `folder ${path} is readable but holds no image yet: trigger the camera once and probe again`);
  const withTimes = await Promise.all(images.map(async (n) => ({ n, t: (await stat(join(path, n))).mtimeMs })));
  const newest = withTimes.sort((a, b) => b.t - a.t)[0]!.n;
  const data = await readFile(join(path, newest));
  const t = performance.now();
  const meta = await sharp(data).metadata();
  await sharp(data).raw().toBuffer();
  const decodeMs = performance.now() - t;
  await writeFile(opts.out, data);
  return {
    camera: `folder ${path} (${images.length} image${images.length === 1 ? '' : 's'} waiting; newest ${newest})`,
    kind: 'folder',
    timeToFirstFrameMs: Date.now() - t0,
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    format: meta.format ?? 'unknown',
    frames: 1,
    seconds: 0,
    fps: null,
    decodeMs,
    samplePath: opts.out,
  };
}

/**
 * A source config from a bare address, for probing a camera before it has a station:
 * rtsp:// → rtsp; http(s):// → mjpeg or snapshot by what the camera answers; /dev/… → v4l2;
 * genicam://ADDRESS → genicam; a folder → folder; a file → replay.
 */
export async function sourceFromAddress(address: string, type?: string): Promise<SourceConfig> {
  const parse = (raw: unknown): SourceConfig => {
    const r = sourceSchema.safeParse(raw);
    if (!r.success) throw new LinesideError(ErrorCode.config, `${redactUrl(address)}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  };
  if (type) {
    const key = type === 'v4l2' ? 'device' : type === 'genicam' ? 'camera' : type === 'folder' || type === 'replay' ? 'path' : 'url';
    return parse({ type, [key]: type === 'genicam' ? address.replace(/^genicam:\/\//, '') : address });
  }
  if (/^rtsps?:\/\//.test(address)) return parse({ type: 'rtsp', url: address });
  if (address.startsWith('/dev/')) return parse({ type: 'v4l2', device: address });
  if (address.startsWith('genicam://')) return parse({ type: 'genicam', camera: address.slice('genicam://'.length) });
  if (/^https?:\/\//.test(address)) return parse({ type: await httpKind(address), url: address });
  const st = await stat(address).catch(() => null);
  if (!st) throw new LinesideError(ErrorCode.config, `${address}: not a URL, device, folder or file that exists`);
  return parse(st.isDirectory() ? { type: 'folder', path: address } : { type: 'replay', path: address });
}

/** An HTTP camera answering multipart is an MJPEG stream; anything else is treated as stills. */
async function httpKind(url: string): Promise<'mjpeg' | 'snapshot'> {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  try {
    const ac = new AbortController();
    const res = await fetch(u, { signal: AbortSignal.any([ac.signal, AbortSignal.timeout(5000)]) });
    const type = res.headers.get('content-type') ?? '';
    ac.abort();
    return /multipart\//i.test(type) ? 'mjpeg' : 'snapshot';
  } catch {
    // Unreachable: the snapshot adapter will say so in its own words.
    return 'snapshot';
  }
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function formatProbe(r: ProbeReport): string {
  return [
    `camera:        ${r.camera}`,
    `first frame:   ${r.timeToFirstFrameMs} ms after connecting`,
    `resolution:    ${r.width}×${r.height} (${r.format})`,
    r.fps === null ? `frame rate:    on request (${r.frames} frame(s) in ${r.seconds.toFixed(1)} s)` : `frame rate:    ${r.fps.toFixed(1)} frames/s (${r.frames} frames in ${r.seconds.toFixed(1)} s)`,
    `decode:        ${r.decodeMs === 0 ? 'raw pixels from the decoder process (no decode in lineside)' : `${r.decodeMs.toFixed(1)} ms per frame (median)`}`,
    `sample frame:  ${r.samplePath}`,
  ].join('\n');
}
