import { watch, type FSWatcher, type Stats } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import type { Logger } from '../observability/logger.js';
import { dayFolder, errCode, exists, filesOldestFirst, freeName, moveFile, readWithTime, why } from './folder-files.js';
import type { FolderSourceConfig } from './folder.config.js';
import { FrameWaiters } from './frame-waiters.js';
import type { FrameSource, GrabOptions, SourceStats } from './frame-source.js';
import { FrameStats } from './frame-stats.js';
import { encodedImageSize } from './image-size.js';
import { SettlingFiles } from './settling-files.js';
import type { SourceContext } from './source-options.js';

/** Claimed files wait here (inside the watched folder, so the claim is a same-filesystem rename). */
export const INFLIGHT_DIR = '.lineside-inflight';
/** Upload names: FTP servers and cameras write under these and rename when the file is complete. */
const UPLOADING = /(\.tmp|\.part|\.filepart|\.partial|~)$/i;
const DEFAULT_GRAB_TIMEOUT_MS = 2000;

/** Smart cameras (Cognex, Keyence, …) that FTP one image per part into a folder: one file, one frame. */
export function folderSource(cfg: FolderSourceConfig, ctx: SourceContext): FolderSource {
  return new FolderSource(cfg, ctx.logger.child({ source: 'folder' }));
}

/** A claimed file (in the in-flight folder) whose frame was handed out or is about to be. */
interface Claimed {
  /** Name in the in-flight folder. */
  readonly file: string;
  /** Name the camera gave it (the frame's origin). */
  readonly origin: string;
}

/**
 * Turns each new file in a folder into exactly one frame, in arrival order.
 *
 * A file is picked up once it is complete (size and mtime unchanged for `settleMs`), claimed by
 * renaming it into `<path>/.lineside-inflight/` before it is read (so a second lineside on the same
 * folder, or a restart, never inspects it twice), and moved, marked or deleted by `release()` once
 * its inspection is recorded. Files left in flight by a lineside that stopped mid-inspection are
 * handed out first at the next start. (That recovery assumes no other lineside is inspecting from
 * the same folder at that moment: its in-flight files would be taken too.)
 */
export class FolderSource implements FrameSource {
  readonly kind = 'folder';
  readonly description: string;
  readonly #cfg: FolderSourceConfig;
  readonly #log: Logger;
  readonly #dir: string;
  readonly #inflightDir: string;
  readonly #processedDir: string;
  readonly #include: RegExp;
  readonly #partId: RegExp | null;
  readonly #health = new HealthCell(HealthState.starting, 'not started');
  readonly #stats = new FrameStats();

  #running = false;
  #watcher: FSWatcher | null = null;
  #watchedIno: number | null = null;
  #poll: NodeJS.Timeout | null = null;
  #settleTimer: NodeJS.Timeout | null = null;
  #settleAt = Infinity;
  #seq = 0;

  /** Files in the folder, not yet claimed, and which of them are complete. */
  readonly #files: SettlingFiles;
  /** In-flight files found at start (left by a stopped lineside): handed out before anything else. */
  #recovered: string[] = [];
  /** Frames read whose grab gave up meanwhile: handed out next. Their files stay in flight. */
  #buffer: Frame[] = [];
  /** Handed-out frames awaiting `release()` (weak: a frame never released does not keep its bytes alive). */
  readonly #handedOut = new WeakMap<Frame, Claimed>();
  /** In-flight names of those frames: not "left in flight" if this instance is started again. */
  readonly #handedOutFiles = new Set<string>();
  readonly #waiters = new FrameWaiters<null>();

  /** One worker at a time scans the folder and claims files, so claims happen in order. */
  #working = false;
  #work: Promise<void> = Promise.resolve();
  #scanWanted = false;

  #folderProblem: string | null = null;
  #claimProblem: string | null = null;
  #releaseProblem: string | null = null;

  constructor(cfg: FolderSourceConfig, logger: Logger) {
    this.#cfg = cfg;
    this.#log = logger;
    this.#dir = cfg.path;
    this.#inflightDir = join(cfg.path, INFLIGHT_DIR);
    this.#processedDir = cfg.processedPath ?? join(cfg.path, 'processed');
    this.#include = new RegExp(cfg.include, 'i');
    this.#partId = cfg.partIdPattern === undefined ? null : new RegExp(cfg.partIdPattern);
    this.#files = new SettlingFiles(cfg.settleMs);
    this.description = `folder ${cfg.path}`;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    let ino: number;
    try {
      const st = await stat(this.#dir);
      if (!st.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
      ino = st.ino;
      await readdir(this.#dir);
    } catch (cause) {
      const code = errCode(cause);
      const problem =
        code === 'ENOENT' ? `folder ${this.#dir} does not exist` : code === 'ENOTDIR' ? `${this.#dir} is not a folder` : `folder ${this.#dir} cannot be read (${why(cause)})`;
      this.#health.set(HealthState.down, problem);
      throw new LinesideError(ErrorCode.sourceUnavailable, `folder source: ${problem}`, { cause, details: { path: this.#dir } });
    }
    this.#recovered = await this.#leftInFlight();
    if (this.#recovered.length > 0) {
      this.#log.warn(
        { path: this.#dir, files: this.#recovered.slice(0, 20), count: this.#recovered.length },
        'files left in flight by a lineside that stopped mid-inspection; inspecting them again first',
      );
    }
    this.#running = true;
    this.#folderProblem = null;
    this.#watch(ino);
    this.#poll = setInterval(() => this.#kick(true), this.#cfg.pollMs);
    this.#poll.unref();
    this.#kick(true);
    await this.#work;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unwatch();
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    if (this.#settleTimer) clearTimeout(this.#settleTimer);
    this.#settleTimer = null;
    this.#settleAt = Infinity;
    this.#waiters.rejectAll(new LinesideError(ErrorCode.stopped, `${this.description}: stopped`));
    await this.#work;
    // Claimed but not handed out: they stay in the in-flight folder and are inspected at the next start.
    this.#buffer = [];
    this.#recovered = [];
    this.#files.clear();
  }

  /**
   * The oldest complete file not yet handed out, waiting for one up to `timeoutMs`. `opts.after` is
   * ignored for this kind: files are inspected in arrival order, each exactly once, however late
   * they are taken.
   */
  grab(opts: GrabOptions = {}): Promise<Frame> {
    if (!this.#running) return Promise.reject(new LinesideError(ErrorCode.sourceUnavailable, `${this.description}: not started`));
    if (opts.signal?.aborted) return Promise.reject(new LinesideError(ErrorCode.stopped, 'grab cancelled'));
    const ready = this.#buffer.shift();
    if (ready) return Promise.resolve(this.#handOut(ready));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_GRAB_TIMEOUT_MS;
    const waiting = this.#waiters.wait(null, timeoutMs, opts.signal, () => {
      const h = this.#health.value;
      const reason = h.state === HealthState.down ? `: ${h.detail ?? h.state}` : '';
      return new LinesideError(ErrorCode.sourceUnavailable, `no new file in ${this.#dir} within ${timeoutMs} ms${reason}`);
    });
    // Nothing claimable known: look now rather than at the next poll.
    this.#kick(!this.#claimable());
    return waiting;
  }

  /** Moves, marks or deletes the frame's file as configured; it is never handed out again. */
  async release(frame: Frame): Promise<void> {
    const claimed = this.#handedOut.get(frame);
    if (!claimed) {
      this.#log.warn({ path: this.#dir, origin: frame.origin }, 'release of a frame this folder source did not hand out (or released twice); ignored');
      return;
    }
    this.#handedOut.delete(frame);
    this.#handedOutFiles.delete(claimed.file);
    const from = join(this.#inflightDir, claimed.file);
    let to: string | null = null;
    try {
      switch (this.#cfg.afterInspection) {
        case 'move': {
          const dir = join(this.#processedDir, dayFolder(frame.capturedAt));
          await mkdir(dir, { recursive: true });
          to = join(dir, await freeName(dir, claimed.origin));
          await moveFile(from, to);
          break;
        }
        case 'mark':
          to = join(this.#dir, await freeName(this.#dir, claimed.origin, this.#cfg.markSuffix));
          await rename(from, to);
          break;
        case 'delete':
          await unlink(from);
          break;
      }
    } catch (e) {
      if (errCode(e) === 'ENOENT' && !(await exists(from))) {
        // Removed by hand (or the whole folder went away) while it was being inspected.
        this.#log.warn({ path: this.#dir, origin: claimed.origin, file: from }, 'inspected file vanished before it could be moved, marked or deleted');
        return;
      }
      const problem = `cannot ${this.#cfg.afterInspection} inspected files (${why(e)})`;
      if (this.#releaseProblem !== problem) this.#log.error({ path: this.#dir, origin: claimed.origin, from, to, err: why(e) }, problem);
      this.#releaseProblem = problem;
      this.#refreshHealth();
      throw new LinesideError(ErrorCode.sourceUnavailable, `${claimed.origin}: ${problem}; it stays in ${this.#inflightDir}`, { cause: e, details: { from, to } });
    }
    if (this.#releaseProblem) {
      this.#releaseProblem = null;
      this.#refreshHealth();
    }
  }

  health(): ComponentHealth {
    return this.#health.value;
  }

  stats(): SourceStats {
    return this.#stats.snapshot();
  }

  /** Files waiting: in the folder (complete or still being written), left in flight, or claimed and not yet taken. */
  pending(): number {
    return this.#files.size + this.#recovered.length + this.#buffer.length;
  }

  // ---------------------------------------------------------------------------------------------

  #handOut(frame: Frame): Frame {
    this.#stats.frame(Date.now(), encodedImageSize(frame.data) ?? undefined);
    this.#refreshHealth();
    return frame;
  }

  /** Requests work: a folder scan (if `scan`) and handing files to waiting grabs. */
  #kick(scan: boolean): void {
    if (scan) this.#scanWanted = true;
    if (this.#working || !this.#running) return;
    this.#working = true;
    this.#work = this.#worker().finally(() => {
      this.#working = false;
    });
  }

  async #worker(): Promise<void> {
    while (this.#running) {
      if (this.#scanWanted) {
        this.#scanWanted = false;
        try {
          await this.#scan();
        } catch (e) {
          this.#log.error({ path: this.#dir, err: why(e) }, 'folder scan failed');
        }
      } else if (this.#waiters.size > 0 && this.#claimable()) {
        let frame: Frame | null = null;
        try {
          frame = await this.#takeNext();
        } catch (e) {
          this.#log.error({ path: this.#dir, err: why(e) }, 'could not take the next file');
        }
        if (!frame) continue;
        // The waiter may have timed out while the file was read: then it waits for the next grab.
        if (this.#waiters.size > 0) this.#waiters.deliver(this.#handOut(frame));
        else this.#buffer.push(frame);
      } else {
        return;
      }
    }
  }

  #claimable(): boolean {
    if (this.#buffer.length > 0 || this.#recovered.length > 0) return true;
    return this.#files.hasComplete();
  }

  /** Claims and reads the next file; null when it vanished or could not be read (logged). */
  async #takeNext(): Promise<Frame | null> {
    const recovered = this.#recovered.shift();
    if (recovered !== undefined) return this.#read({ file: recovered, origin: recovered });

    const name = this.#files.takeOldest();
    if (name === null) return null;
    const claimed = await this.#claim(name);
    return claimed ? this.#read(claimed) : null;
  }

  /** Renames the file into the in-flight folder: whoever renames it first inspects it. */
  async #claim(name: string): Promise<Claimed | null> {
    try {
      try {
        await mkdir(this.#inflightDir); // not recursive: never re-creates a vanished watched folder
      } catch (e) {
        if (errCode(e) !== 'EEXIST') throw e;
      }
      const file = await freeName(this.#inflightDir, name);
      await rename(join(this.#dir, name), join(this.#inflightDir, file));
      if (this.#claimProblem) {
        this.#claimProblem = null;
        this.#refreshHealth();
      }
      return { file, origin: name };
    } catch (e) {
      if (errCode(e) === 'ENOENT') {
        // Deleted, renamed, or claimed by another lineside on the same folder.
        this.#log.warn({ path: this.#dir, file: name }, 'file vanished before it was read; skipped');
        return null;
      }
      const problem = `cannot claim files in ${this.#dir} (${why(e)})`;
      if (this.#claimProblem !== problem) this.#log.error({ path: this.#dir, file: name, err: why(e) }, problem);
      this.#claimProblem = problem;
      this.#refreshHealth();
      return null; // seen again at the next scan and retried once complete
    }
  }

  async #read(claimed: Claimed): Promise<Frame | null> {
    const path = join(this.#inflightDir, claimed.file);
    let data: Buffer;
    let mtimeMs: number;
    try {
      ({ data, mtimeMs } = await readWithTime(path));
    } catch (e) {
      this.#stats.framesDropped++;
      const gone = errCode(e) === 'ENOENT';
      this.#log.warn(
        { path: this.#dir, file: claimed.origin, inflight: path, err: why(e) },
        gone ? 'file vanished before it was read; skipped' : 'cannot read file; skipped (it stays in the in-flight folder)',
      );
      return null;
    }
    const partId = this.#partIdOf(claimed.origin);
    const frame: Frame = {
      data,
      capturedAt: Math.round(mtimeMs),
      origin: claimed.origin,
      ...(partId === undefined ? {} : { partId }),
      seq: ++this.#seq,
    };
    this.#handedOut.set(frame, claimed);
    this.#handedOutFiles.add(claimed.file);
    return frame;
  }

  #partIdOf(name: string): string | undefined {
    const m = this.#partId?.exec(name);
    if (!m) return undefined;
    const id = m.groups?.['id'] ?? m[1];
    return id ? id : undefined;
  }

  #eligible(name: string): boolean {
    return !name.startsWith('.') && !UPLOADING.test(name) && !name.endsWith(this.#cfg.markSuffix) && this.#include.test(name);
  }

  /** Lists the folder, tracks each eligible file's size and mtime, and marks those that have settled. */
  async #scan(): Promise<void> {
    let names: string[];
    let ino: number;
    try {
      const st = await stat(this.#dir);
      if (!st.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
      ino = st.ino;
      names = await readdir(this.#dir);
    } catch (e) {
      const code = errCode(e);
      this.#setFolderProblem(
        code === 'ENOENT' ? `folder ${this.#dir} is missing` : code === 'ENOTDIR' ? `${this.#dir} is not a folder` : `folder ${this.#dir} cannot be read (${why(e)})`,
      );
      return;
    }
    if (!this.#running) return;
    if (this.#folderProblem !== null) {
      this.#stats.restarts++;
      this.#log.info({ path: this.#dir }, 'folder readable again');
    }
    this.#folderProblem = null;
    if (this.#watchedIno !== ino) this.#watch(ino); // re-created folder (or the watch was lost)

    const touched = this.#files.beginScan();
    const now = Date.now();
    const listed = new Set<string>();
    for (const name of names) {
      if (!this.#eligible(name)) continue;
      listed.add(name);
      if (!this.#files.needsStat(name, touched)) continue;
      let st: Stats;
      try {
        st = await stat(join(this.#dir, name));
      } catch {
        listed.delete(name); // gone meanwhile
        continue;
      }
      if (!st.isFile()) {
        listed.delete(name);
        continue;
      }
      this.#files.observe(name, st, now);
    }
    // Look again as soon as the earliest unsettled file may have settled.
    const next = this.#files.endScan(listed);
    if (next < Infinity) this.#scheduleSettle(next);
    this.#refreshHealth();
  }

  #scheduleSettle(at: number): void {
    if (this.#settleTimer && this.#settleAt <= at) return;
    if (this.#settleTimer) clearTimeout(this.#settleTimer);
    this.#settleAt = at;
    this.#settleTimer = setTimeout(
      () => {
        this.#settleTimer = null;
        this.#settleAt = Infinity;
        this.#kick(true);
      },
      Math.max(0, at - Date.now()) + 5,
    );
    this.#settleTimer.unref();
  }

  #setFolderProblem(problem: string): void {
    if (this.#folderProblem !== problem) this.#log.error({ path: this.#dir }, problem);
    this.#folderProblem = problem;
    this.#files.clear();
    this.#unwatch();
    this.#refreshHealth();
  }

  #refreshHealth(): void {
    if (!this.#running) return;
    const pending = this.pending();
    const [state, detail] =
      this.#folderProblem !== null
        ? [HealthState.down, this.#folderProblem]
        : this.#claimProblem !== null
          ? [HealthState.down, this.#claimProblem]
          : pending > this.#cfg.maxPending
            ? [HealthState.degraded, `${pending} files waiting`]
            : this.#releaseProblem !== null
              ? [HealthState.degraded, this.#releaseProblem]
              : [HealthState.ok, undefined];
    const was = this.#health.value.state;
    if (this.#health.set(state, detail) && state !== was) {
      if (state === HealthState.ok) this.#log.info({ path: this.#dir }, 'folder source ok');
      else this.#log.warn({ path: this.#dir, state, detail }, 'folder source not ok');
    }
  }

  /** inotify where available; the poll timer covers shares and servers that send no events. */
  #watch(ino: number): void {
    this.#unwatch();
    try {
      const w = watch(this.#dir, { persistent: false }, (_event, filename) => {
        if (filename) this.#files.touched(filename.toString());
        this.#kick(true);
      });
      w.on('error', (e) => {
        this.#log.debug({ path: this.#dir, err: why(e) }, 'folder watch ended; polling until it is re-established');
        if (this.#watcher === w) this.#unwatch();
      });
      this.#watcher = w;
      this.#watchedIno = ino;
    } catch (e) {
      this.#log.debug({ path: this.#dir, err: why(e) }, 'cannot watch folder; polling only');
    }
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = null;
    this.#watchedIno = null;
  }

  /** In-flight files not handed out by this instance, oldest first: left by a lineside that stopped. */
  #leftInFlight(): Promise<string[]> {
    return filesOldestFirst(this.#inflightDir, (name) => !name.startsWith('.') && !this.#handedOutFiles.has(name));
  }
}
