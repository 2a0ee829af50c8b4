import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

let cached: string | null = null;

/**
 * The ffmpeg binary: `LINESIDE_FFMPEG` if set, else the system's ffmpeg on PATH, else the one
 * from the optional npm package `@ffmpeg-installer/ffmpeg`. Throws with what to install.
 */
export function ffmpegPath(): string {
  if (cached) return cached;
  const fromEnv = process.env.LINESIDE_FFMPEG;
  if (fromEnv) return (cached = fromEnv);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'ffmpeg');
    if (executable(candidate)) return (cached = candidate);
  }
  try {
    const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    if (executable(bundled)) return (cached = bundled);
  } catch {
    // optional dependency absent
  }
  throw new Error('ffmpeg not found: install it (Debian: apt-get install ffmpeg) or set LINESIDE_FFMPEG');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Arguments that make ffmpeg write decoded frames as PNM to stdout and only errors to stderr. */
export function ffmpegArgs(input: readonly string[], opts: { fps?: number; grey?: boolean } = {}): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...input,
    '-an',
    '-sn',
    '-dn',
    ...(opts.fps ? ['-vf', `fps=${opts.fps}`] : []),
    '-pix_fmt',
    opts.grey ? 'gray' : 'rgb24',
    '-c:v',
    opts.grey ? 'pgm' : 'ppm',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}
