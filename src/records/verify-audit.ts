import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import { GENESIS_HASH, rowHash, type AuditRow } from './audit-trail.js';

export interface VerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly images: number;
  /** Images skipped because retention deleted them (recorded in `evidence_deletions`). */
  readonly imagesDeleted: number;
  /** The first problem found, naming the row or the image. */
  readonly problem?: string;
}

/** Recompute every hash of the chain, in order; the first broken row, or undefined. */
export function verifyChain(db: Db, key: Buffer): { entries: number; problem?: string } {
  let prev: AuditRow | undefined;
  let entries = 0;
  for (const row of db.prepare(`SELECT * FROM audit_trail ORDER BY seq`).iterate() as IterableIterator<AuditRow>) {
    entries++;
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (row.seq !== expectedSeq) return { entries, problem: `audit row seq ${row.seq}: expected seq ${expectedSeq} — rows ${expectedSeq}…${row.seq - 1} are missing` };
    const expectedPrev = prev?.hash ?? GENESIS_HASH;
    if (row.prev_hash !== expectedPrev) return { entries, problem: `audit row seq ${row.seq}: prev_hash ${row.prev_hash.slice(0, 16)}… differs from the hash of row ${expectedSeq - 1} (${expectedPrev.slice(0, 16)}…)` };
    const { hash, ...fields } = row;
    const recomputed = rowHash(key, fields);
    if (recomputed !== hash) return { entries, problem: `audit row seq ${row.seq} (${row.action} ${row.object_type} ${row.object_id} by ${row.user}): its content does not match its hash (stored ${hash.slice(0, 16)}…, recomputed ${recomputed.slice(0, 16)}…) — the row was edited` };
    prev = row;
  }
  // AUTOINCREMENT remembers the highest seq ever used: rows removed from the end show here.
  const top = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'audit_trail'`).get() as { seq: number } | undefined;
  if (top && top.seq !== (prev?.seq ?? 0)) return { entries, problem: `audit trail ends at seq ${prev?.seq ?? 0} but seq ${top.seq} was issued — the last rows were removed` };
  return { entries };
}

function hasTable(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/**
 * The whole check behind `lineside verify-audit`: the audit chain, then every evidence image's
 * SHA-256 against its record (images that retention deleted are skipped).
 */
export async function verifyAudit(db: Db, key: Buffer, dataDir: string): Promise<VerifyReport> {
  const chain = verifyChain(db, key);
  if (chain.problem) return { ok: false, entries: chain.entries, images: 0, imagesDeleted: 0, problem: chain.problem };
  const deleted = hasTable(db, 'evidence_deletions')
    ? new Set((db.prepare(`SELECT DISTINCT inspection_id AS id FROM evidence_deletions`).all() as Array<{ id: number }>).map((r) => r.id))
    : new Set<number>();
  let images = 0;
  const rows = db.prepare(`SELECT inspection_id, path, sha256 FROM evidence ORDER BY inspection_id`).all() as Array<{ inspection_id: number; path: string; sha256: string }>;
  for (const e of rows) {
    if (deleted.has(e.inspection_id)) continue;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dataDir, e.path));
    } catch (err) {
      return { ok: false, entries: chain.entries, images, imagesDeleted: deleted.size, problem: `evidence of inspection ${e.inspection_id} (${e.path}): cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}) and no deletion is recorded` };
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== e.sha256) {
      return { ok: false, entries: chain.entries, images, imagesDeleted: deleted.size, problem: `evidence of inspection ${e.inspection_id} (${e.path}): SHA-256 ${sha.slice(0, 16)}… differs from the record (${e.sha256.slice(0, 16)}…) — the image was changed` };
    }
    images++;
  }
  return { ok: true, entries: chain.entries, images, imagesDeleted: deleted.size };
}
