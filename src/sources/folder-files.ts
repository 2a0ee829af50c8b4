import { copyFile, lstat, rename, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** File-system steps of the folder source: naming, moving and the dated processed folders. */

/** `YYYY-MM-DD` in local time: the subfolder of the processed folder a file captured at `ms` is moved to. */
export function dayFolder(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

export function why(e: unknown): string {
  return errCode(e) ?? (e instanceof Error ? e.message : String(e));
}

/** `name`, else `stem-1.ext`, `stem-2.ext`, … (+ `suffix`): the first that does not exist in `dir`. */
export async function freeName(dir: string, name: string, suffix = ''): Promise<string> {
  const ext = extname(name);
  const stem = ext ? name.slice(0, -ext.length) : name;
  for (let n = 0; ; n++) {
    const candidate = `${n === 0 ? name : `${stem}-${n}${ext}`}${suffix}`;
    try {
      await lstat(join(dir, candidate));
    } catch (e) {
      if (errCode(e) === 'ENOENT') return candidate;
      throw e;
    }
  }
}

/** Rename, or copy and delete when the target is on another filesystem (a processed folder on another disk). */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if (errCode(e) !== 'EXDEV') throw e;
    await copyFile(from, to);
    await unlink(from);
  }
}
