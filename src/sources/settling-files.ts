import type { Stats } from 'node:fs';

/** A file seen in the folder, not yet claimed. */
interface Seen {
  size: number;
  mtimeMs: number;
  ino: number;
  /** Our clock when size/mtime were last seen to change (or first seen). */
  since: number;
  complete: boolean;
}

/**
 * The unclaimed files of a watched folder and which of them are complete: a file is complete once
 * its size, modification time and inode have not changed for `settleMs` (FTP writes in pieces).
 * The folder source lists the folder, asks which names need a stat, reports what it found, and
 * takes complete files oldest first.
 */
export class SettlingFiles {
  readonly #settleMs: number;
  readonly #files = new Map<string, Seen>();
  /** Names a watch event reported: stat again even if they were complete. */
  readonly #dirty = new Set<string>();

  constructor(settleMs: number) {
    this.#settleMs = settleMs;
  }

  get size(): number {
    return this.#files.size;
  }

  /** A watch event named this file: the next scan looks at it again even if it had settled. */
  touched(name: string): void {
    this.#dirty.add(name);
  }

  /** Starts a scan: the names touched since the last one (each scan sees a touch once). */
  beginScan(): ReadonlySet<string> {
    const dirty = new Set(this.#dirty);
    this.#dirty.clear();
    return dirty;
  }

  /** Whether a listed file must be stat'ed: unknown, not yet settled, or touched. */
  needsStat(name: string, touched: ReadonlySet<string>): boolean {
    return !(this.#files.get(name)?.complete && !touched.has(name));
  }

  /** What a stat of `name` found at `now`: a change restarts its settling; no change for settleMs completes it. */
  observe(name: string, st: Stats, now: number): void {
    const known = this.#files.get(name);
    if (!known || known.size !== st.size || known.mtimeMs !== st.mtimeMs || known.ino !== st.ino) {
      this.#files.set(name, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, since: now, complete: this.#settleMs === 0 });
    } else if (now - known.since >= this.#settleMs) {
      known.complete = true;
    }
  }

  /** Ends a scan: forgets files no longer listed; returns when the earliest unsettled file may settle (Infinity: none). */
  endScan(listed: ReadonlySet<string>): number {
    for (const name of this.#files.keys()) if (!listed.has(name)) this.#files.delete(name);
    let next = Infinity;
    for (const f of this.#files.values()) if (!f.complete) next = Math.min(next, f.since + this.#settleMs);
    return next;
  }

  hasComplete(): boolean {
    for (const f of this.#files.values()) if (f.complete) return true;
    return false;
  }

  /** The complete file with the oldest modification time (then name), no longer tracked; null if none. */
  takeOldest(): string | null {
    let next: [string, Seen] | null = null;
    for (const e of this.#files) {
      if (!e[1].complete) continue;
      if (!next || e[1].mtimeMs < next[1].mtimeMs || (e[1].mtimeMs === next[1].mtimeMs && e[0] < next[0])) next = e;
    }
    if (!next) return null;
    this.#files.delete(next[0]);
    return next[0];
  }

  clear(): void {
    this.#files.clear();
    this.#dirty.clear();
  }
}
