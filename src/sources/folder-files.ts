import { copyFile, lstat, open, readdir, rename, stat, unlink } from 'node:fs/promises';
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

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A file's bytes and modification time, from one open handle (so both are of the same file). */
export async function readWithTime(path: string): Promise<{ data: Buffer; mtimeMs: number }> {
  const fh = await open(path, 'r');
  try {
    const { mtimeMs } = await fh.stat();
    return { data: await fh.readFile(), mtimeMs };
  } finally {
    await fh.close();
  }
}

/** The regular files in `dir` that `wanted` accepts, oldest modification time first (then by name); [] if `dir` cannot be read. */
export async function filesOldestFirst(dir: string, wanted: (name: string) => boolean): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: { name: string; mtimeMs: number }[] = [];
  for (const name of names) {
    if (!wanted(name)) continue;
    try {
      const st = await stat(join(dir, name));
      if (st.isFile()) found.push({ name, mtimeMs: st.mtimeMs });
    } catch {
      // gone meanwhile
    }
  }
  found.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return found.map((f) => f.name);
}
