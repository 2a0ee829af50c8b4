import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { createLogger, silentLogger, type Logger } from '../observability/logger.js';
import { dayFolder } from './folder-files.js';
import { DEFAULT_INCLUDE, folderSourceSchema } from './folder.config.js';
import { folderSource, INFLIGHT_DIR, type FolderSource } from './folder.source.js';
import { encodedImageSize } from './image-size.js';
import { watchCamera } from './testing/camera-watch.js';
import { until } from './testing/peers.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/blister/', import.meta.url));
const jpeg = (i: number): Buffer => readFileSync(join(FIXTURES, `blister-${String(i % 40).padStart(4, '0')}.jpg`));

const dirs: string[] = [];
const sources: FolderSource[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lineside-folder-'));
  dirs.push(dir);
  return dir;
}

function source(path: string, opts: Record<string, unknown> = {}, logger: Logger = silentLogger()): FolderSource {
  const cfg = folderSourceSchema.parse({ type: 'folder', path, settleMs: 100, ...opts });
  const src = folderSource(cfg, { history: 1, logger });
  sources.push(src);
  return src;
}

/** Grabs until `n` frames came, failing on a grab timeout. */
async function grabN(src: FolderSource, n: number, timeoutMs = 5000): Promise<Frame[]> {
  const out: Frame[] = [];
  while (out.length < n) out.push(await src.grab({ timeoutMs }));
  return out;
}

/** Resolves when a grab times out, i.e. nothing (more) is handed out. */
async function expectNothing(src: FolderSource, timeoutMs = 400): Promise<void> {
  await expect(src.grab({ timeoutMs })).rejects.toMatchObject({ code: ErrorCode.sourceUnavailable });
}

/** Sets a file's mtime (and atime) to `ms`. */
function touch(path: string, ms: number): void {
  utimesSync(path, ms / 1000, ms / 1000);
}

afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('folderSourceSchema', () => {
  it('fills in the defaults and rejects patterns that cannot work', () => {
    const cfg = folderSourceSchema.parse({ type: 'folder', path: '/srv/ftp/cam1' });
    expect(cfg).toEqual({
      type: 'folder',
      path: '/srv/ftp/cam1',
      include: DEFAULT_INCLUDE,
      settleMs: 300,
      afterInspection: 'move',
      markSuffix: '.done',
      pollMs: 250,
      maxPending: 1000,
    });
    const bad = (extra: Record<string, unknown>): boolean => !folderSourceSchema.safeParse({ type: 'folder', path: '/x', ...extra }).success;
    expect(bad({ include: '(' })).toBe(true);
    expect(bad({ partIdPattern: '^[A-Z]+_' })).toBe(true); // no capture group
    expect(bad({ partIdPattern: '^(?<id>[A-Z' })).toBe(true);
    expect(bad({ afterInspection: 'copy' })).toBe(true);
    expect(bad({ markSuffix: '/done' })).toBe(true);
    expect(bad({ extra: 1 })).toBe(true);
    expect(bad({ partIdPattern: '^(?<id>[A-Z0-9]+)_', include: String.raw`\.jpg$` })).toBe(false);
  });
});

describe('FolderSource', () => {
  it('refuses to start on a missing folder, naming it, and does not create it', async () => {
    const missing = join(tempDir(), 'not-mounted');
    const src = source(missing);
    await expect(src.start()).rejects.toMatchObject({ code: ErrorCode.sourceUnavailable, message: expect.stringContaining(missing) });
    expect(src.health().state).toBe('down');
    expect(existsSync(missing)).toBe(false);
  });

  it('hands out files present at start (mtime, then name order) and files copied in later, each exactly once', async () => {
    const dir = tempDir();
    const t = Date.now() - 60_000;
    const early = [
      { name: 'b-early.jpg', mtime: t, i: 0 },
      { name: 'a-later.jpg', mtime: t + 10_000, i: 1 },
      { name: 'd-same.jpg', mtime: t + 20_000, i: 2 },
      { name: 'c-same.jpg', mtime: t + 20_000, i: 3 },
    ];
    for (const f of early) {
      writeFileSync(join(dir, f.name), jpeg(f.i));
      touch(join(dir, f.name), f.mtime);
    }
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const src = source(dir);
    await src.start();
    expect(src.health().state).toBe('ok');
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `new-${i}.jpg`), jpeg(10 + i));

    const frames = await grabN(src, 9);
    expect(frames.map((f) => f.origin)).toEqual(['b-early.jpg', 'a-later.jpg', 'c-same.jpg', 'd-same.jpg', 'new-0.jpg', 'new-1.jpg', 'new-2.jpg', 'new-3.jpg', 'new-4.jpg']);
    expect(frames[0]!.data.equals(jpeg(0))).toBe(true);
    expect(frames[2]!.data.equals(jpeg(3))).toBe(true);
    expect(frames[8]!.data.equals(jpeg(14))).toBe(true);
    expect(frames[0]!.capturedAt).toBe(t);
    expect(frames[1]!.capturedAt).toBe(t + 10_000);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(frames.every((f) => f.partId === undefined)).toBe(true);
    await expectNothing(src);

    const size = encodedImageSize(jpeg(0));
    expect(size).not.toBeNull();
    expect(src.stats()).toMatchObject({ framesReceived: 9, framesDropped: 0, width: size!.width, height: size!.height });
    expect(readdirSync(dir)).toContain('notes.txt');
  });

  it('does not hand out a file being written in pieces before it is complete', async () => {
    const dir = tempDir();
    const src = source(dir, { settleMs: 1000 });
    await src.start();
    const full = jpeg(5);
    const half = Math.floor(full.length / 2);
    const pending = src.grab({ timeoutMs: 10_000 });
    const fh = await open(join(dir, 'slow.jpg'), 'w');
    await fh.write(full, 0, half);
    await new Promise((r) => setTimeout(r, 600));
    await fh.write(full, half, full.length - half);
    await fh.close();
    const frame = await pending;
    expect(frame.origin).toBe('slow.jpg');
    expect(frame.data.length).toBe(full.length);
    expect(frame.data.equals(full)).toBe(true);
    await expectNothing(src);
  });

  it('ignores upload names (.part, .tmp, ~, dot files) until the upload is renamed, then picks it up once', async () => {
    const dir = tempDir();
    const src = source(dir);
    await src.start();
    for (const name of ['up.jpg.part', 'cam.jpg.tmp', 'x.jpg.filepart', 'y.jpg.partial', 'z.jpg~', '.hidden.jpg']) writeFileSync(join(dir, name), jpeg(1));
    await expectNothing(src);
    renameSync(join(dir, 'up.jpg.part'), join(dir, 'up.jpg'));
    const frame = await src.grab({ timeoutMs: 5000 });
    expect(frame.origin).toBe('up.jpg');
    expect(frame.data.equals(jpeg(1))).toBe(true);
    await expectNothing(src);
  });

  it('takes the part ID from the file name (named group or first group); a name that does not match gives none', async () => {
    const dir = tempDir();
    const named = source(dir, { partIdPattern: '^(?<id>[A-Z0-9]+)_' });
    await named.start();
    writeFileSync(join(dir, 'LOT42A_0001.jpg'), jpeg(2));
    const a = await named.grab({ timeoutMs: 5000 });
    expect(a).toMatchObject({ origin: 'LOT42A_0001.jpg', partId: 'LOT42A' });
    writeFileSync(join(dir, 'lower-case.jpg'), jpeg(3));
    const b = await named.grab({ timeoutMs: 5000 });
    expect(b.origin).toBe('lower-case.jpg');
    expect(b.partId).toBeUndefined();
    await named.release(a);
    await named.release(b);
    await named.stop();

    const numbered = source(dir, { partIdPattern: String.raw`^part-(\d+)` });
    await numbered.start();
    writeFileSync(join(dir, 'part-000123-cam2.jpg'), jpeg(4));
    expect(await numbered.grab({ timeoutMs: 5000 })).toMatchObject({ origin: 'part-000123-cam2.jpg', partId: '000123' });
  });

  it('move: release puts the file in processed/YYYY-MM-DD/ (adding -1 on a name clash) and it is never handed out again', async () => {
    const dir = tempDir();
    const src = source(dir);
    await src.start();
    writeFileSync(join(dir, 'm1.jpg'), jpeg(6));
    const first = await src.grab({ timeoutMs: 5000 });
    expect(existsSync(join(dir, 'm1.jpg'))).toBe(false); // claimed
    expect(existsSync(join(dir, INFLIGHT_DIR, 'm1.jpg'))).toBe(true);
    await src.release(first);
    const day1 = join(dir, 'processed', dayFolder(first.capturedAt));
    expect(readFileSync(join(day1, 'm1.jpg')).equals(jpeg(6))).toBe(true);
    expect(readdirSync(join(dir, INFLIGHT_DIR))).toEqual([]);

    // The camera reuses the name (counter reset): the second one is kept beside the first.
    writeFileSync(join(dir, 'm1.jpg'), jpeg(7));
    const second = await src.grab({ timeoutMs: 5000 });
    expect(second.data.equals(jpeg(7))).toBe(true);
    await src.release(second);
    const day2 = join(dir, 'processed', dayFolder(second.capturedAt));
    expect(readFileSync(join(day2, day2 === day1 ? 'm1-1.jpg' : 'm1.jpg')).equals(jpeg(7))).toBe(true);
    await src.release(second); // a second release is ignored
    await expectNothing(src);
    expect(src.health().state).toBe('ok');
  });

  it('move: into a processedPath of its own', async () => {
    const dir = tempDir();
    const archive = join(tempDir(), 'archive');
    const src = source(dir, { processedPath: archive });
    await src.start();
    writeFileSync(join(dir, 'p.jpg'), jpeg(8));
    const f = await src.grab({ timeoutMs: 5000 });
    await src.release(f);
    expect(readdirSync(join(archive, dayFolder(f.capturedAt)))).toEqual(['p.jpg']);
    expect(existsSync(join(dir, 'processed'))).toBe(false);
  });

  it('mark: release renames the file in place to name.jpg.done, which is never handed out again', async () => {
    const dir = tempDir();
    const src = source(dir, { afterInspection: 'mark' });
    await src.start();
    writeFileSync(join(dir, 'k.jpg'), jpeg(9));
    const f = await src.grab({ timeoutMs: 5000 });
    await src.release(f);
    expect(readdirSync(dir).filter((n) => n !== INFLIGHT_DIR)).toEqual(['k.jpg.done']);
    expect(readFileSync(join(dir, 'k.jpg.done')).equals(jpeg(9))).toBe(true);
    await expectNothing(src);
  });

  it('delete: release removes the file', async () => {
    const dir = tempDir();
    const src = source(dir, { afterInspection: 'delete' });
    await src.start();
    writeFileSync(join(dir, 'd.jpg'), jpeg(10));
    const f = await src.grab({ timeoutMs: 5000 });
    await src.release(f);
    expect(readdirSync(dir).filter((n) => n !== INFLIGHT_DIR)).toEqual([]);
    expect(readdirSync(join(dir, INFLIGHT_DIR))).toEqual([]);
    await expectNothing(src);
  });

  it('after a restart, a file left in flight is handed out again, first, with a warning', async () => {
    const dir = tempDir();
    const first = source(dir);
    await first.start();
    writeFileSync(join(dir, 'r.jpg'), jpeg(11));
    const before = await first.grab({ timeoutMs: 5000 });
    await first.stop(); // stopped mid-inspection: no release
    expect(readdirSync(join(dir, INFLIGHT_DIR))).toEqual(['r.jpg']);

    writeFileSync(join(dir, 'older.jpg'), jpeg(12));
    touch(join(dir, 'older.jpg'), Date.now() - 3_600_000);
    const lines: string[] = [];
    const second = source(dir, {}, createLogger('warn', { write: (s: string) => void lines.push(s) }));
    await second.start();
    expect(lines.some((l) => l.includes('left in flight') && l.includes('r.jpg'))).toBe(true);
    const [again, next] = await grabN(second, 2);
    expect(again!.origin).toBe('r.jpg');
    expect(again!.data.equals(before.data)).toBe(true);
    expect(next!.origin).toBe('older.jpg');
    await second.release(again!);
    await second.release(next!);
    expect(readdirSync(join(dir, 'processed', dayFolder(again!.capturedAt)))).toContain('r.jpg');
    expect(readdirSync(join(dir, INFLIGHT_DIR))).toEqual([]);
    await expectNothing(second);
  });

  it('two sources on one folder never hand out the same file', async () => {
    const dir = tempDir();
    const a = source(dir, { settleMs: 50 });
    const b = source(dir, { settleMs: 50 });
    await a.start();
    await b.start();
    const N = 40;
    for (let i = 0; i < N; i++) writeFileSync(join(dir, `two-${String(i).padStart(3, '0')}.jpg`), jpeg(i));
    const got: { by: string; frame: Frame }[] = [];
    const drain = async (src: FolderSource, by: string): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (got.length < N && Date.now() < deadline) {
        try {
          got.push({ by, frame: await src.grab({ timeoutMs: 300 }) });
        } catch {
          // nothing right now; the other source may have taken it
        }
      }
    };
    await Promise.all([drain(a, 'a'), drain(b, 'b')]);
    const names = got.map((g) => g.frame.origin);
    expect(names.length).toBe(N);
    expect(new Set(names).size).toBe(N);
    for (const g of got) expect(g.frame.data.equals(jpeg(Number(g.frame.origin.slice(4, 7))))).toBe(true);
    await Promise.all([expectNothing(a), expectNothing(b)]);
    expect(a.stats().framesReceived + b.stats().framesReceived).toBe(N);
  });

  it('hands out all of 200 files dropped at once, each exactly once', async () => {
    const dir = tempDir();
    const src = source(dir, { settleMs: 100, afterInspection: 'delete' });
    await src.start();
    const N = 200;
    for (let i = 0; i < N; i++) writeFileSync(join(dir, `bulk-${String(i).padStart(3, '0')}.jpg`), jpeg(i));
    const frames = await grabN(src, N);
    const names = frames.map((f) => f.origin);
    expect(new Set(names).size).toBe(N);
    expect([...names].sort()).toEqual(Array.from({ length: N }, (_, i) => `bulk-${String(i).padStart(3, '0')}.jpg`));
    for (const f of frames) await src.release(f);
    await expectNothing(src);
    expect(readdirSync(dir).filter((n) => n !== INFLIGHT_DIR)).toEqual([]);
    expect(src.stats().framesReceived).toBe(N);
  });

  it('a grab that times out names the folder; stop and abort reject pending grabs with "stopped"', async () => {
    const dir = tempDir();
    const src = source(dir);
    await src.start();
    await expect(src.grab({ timeoutMs: 300 })).rejects.toMatchObject({
      code: ErrorCode.sourceUnavailable,
      message: `no new file in ${dir} within 300 ms`,
    });
    expect(src.health().state).toBe('ok'); // a stopped line is not a fault

    const ac = new AbortController();
    const aborted = src.grab({ timeoutMs: 5000, signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: ErrorCode.stopped });

    const pending = expect(src.grab({ timeoutMs: 5000 })).rejects.toMatchObject({ code: ErrorCode.stopped });
    await src.stop();
    await pending;
    await expect(src.grab({ timeoutMs: 100 })).rejects.toMatchObject({ code: ErrorCode.sourceUnavailable });
  });

  it('goes down when the folder disappears ("camera lost" raised) and recovers when it is back (cleared)', async () => {
    const dir = tempDir();
    const src = source(dir, { pollMs: 100 });
    const watch = watchCamera(src);
    await src.start();
    expect(src.health().state).toBe('ok');
    rmSync(dir, { recursive: true });
    const down = await until(() => (src.health().state === 'down' ? src.health() : null), 5000, 'health down');
    expect(down.detail).toContain(dir);
    expect(existsSync(dir)).toBe(false); // not re-created by lineside
    await until(() => watch.cameraLost(), 5000, 'camera lost alarm');
    expect(watch.word() & 1).toBe(1);
    expect(watch.ready()).toBe(false);
    mkdirSync(dir);
    await until(() => src.health().state === 'ok', 5000, 'health ok again');
    await until(() => !watch.cameraLost() && watch.ready(), 2000, 'alarm cleared, Ready again');
    watch.stop();
    writeFileSync(join(dir, 'after.jpg'), jpeg(13));
    expect((await src.grab({ timeoutMs: 5000 })).origin).toBe('after.jpg');
    expect(src.stats().restarts).toBe(1);
  });

  it('hands out a zero-byte file once it stays empty, and skips a file that vanishes before it is read', async () => {
    const dir = tempDir();
    const src = source(dir);
    await src.start();
    writeFileSync(join(dir, 'empty.jpg'), Buffer.alloc(0));
    const empty = await src.grab({ timeoutMs: 5000 });
    expect(empty.origin).toBe('empty.jpg');
    expect(empty.data.length).toBe(0);

    const t = Date.now() - 10_000;
    writeFileSync(join(dir, 'v1.jpg'), jpeg(14));
    touch(join(dir, 'v1.jpg'), t);
    writeFileSync(join(dir, 'v2.jpg'), jpeg(15));
    touch(join(dir, 'v2.jpg'), t + 1000);
    await until(() => src.pending() === 2, 5000, 'both files seen');
    unlinkSync(join(dir, 'v1.jpg'));
    expect((await src.grab({ timeoutMs: 5000 })).origin).toBe('v2.jpg');
    await expectNothing(src);
    expect(src.health().state).toBe('ok');
  });

  it('is degraded while more than maxPending files wait', async () => {
    const dir = tempDir();
    const src = source(dir, { maxPending: 3 });
    await src.start();
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `q-${i}.jpg`), jpeg(i));
    const h = await until(() => (src.health().state === 'degraded' ? src.health() : null), 5000, 'health degraded');
    expect(h.detail).toBe('5 files waiting');
    await grabN(src, 2);
    expect(src.health().state).toBe('ok');
    expect(statSync(join(dir, INFLIGHT_DIR)).isDirectory()).toBe(true);
  });
});
