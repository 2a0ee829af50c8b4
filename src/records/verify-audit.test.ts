import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { configSchema } from '../config/schema.js';
import { openRecords } from './records.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from './canonical.js';
import { recordsCommand } from './records.cli.js';
import { inspection, openTestRecords } from './records.test-support.js';

let env: ReturnType<typeof openTestRecords>;
afterEach(() => env?.close());

/** A data directory with 5 audit entries and two evidence images; the records are closed for tampering. */
function populated() {
  env = openTestRecords();
  for (let i = 1; i <= 5; i++) {
    env.records.audit.append({ actor: { user: 'ada', role: 'admin' }, action: 'configChanged', objectType: 'config', objectId: 'line', oldValue: { n: i - 1 }, newValue: { n: i }, reason: `step ${i}` });
  }
  for (const n of [1, 2]) {
    const stored = env.store.inspections.record(inspection({ triggerCount: n }));
    const path = join('evidence', '2026-01-05', 'blister', `${stored.id}.jpg`);
    mkdirSync(join(env.dataDir, 'evidence', '2026-01-05', 'blister'), { recursive: true });
    const bytes = Buffer.from(`jpeg bytes of part ${n}`);
    writeFileSync(join(env.dataDir, path), bytes);
    env.store.inspections.recordEvidence(stored.id, { path, sha256: sha256Hex(bytes), bytes: bytes.length });
  }
  env.close();
  const file = join(env.dataDir, 'lineside.db');
  return { file, raw: () => new Database(file) };
}

async function verify(file: string, dataDir: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await recordsCommand('verify-audit', ['--db', file, '--data-dir', dataDir], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('audit trail and lineside verify-audit', () => {
  it('refuses to start the records (or a users command) on a trail whose key is gone, instead of starting a new chain', async () => {
    const { file } = populated();
    rmSync(join(env.dataDir, 'audit.key'));
    expect(() => openRecords({ file, dataDir: env.dataDir, config: configSchema.shape.records.parse({}) })).toThrow(/audit key .*audit\.key is missing but the audit trail holds \d+ entries: restore audit\.key from the backup/);
    const err: string[] = [];
    const code = await recordsCommand('users', ['list', '--db', file, '--data-dir', env.dataDir], { out: () => undefined, err: (l) => err.push(l) });
    expect(code).not.toBe(0);
    expect(err.join('\n')).toMatch(/audit\.key is missing/);
    expect(existsSync(join(env.dataDir, 'audit.key'))).toBe(false);
  });

  it('keeps the key file private and passes an untouched trail with a one-line summary', async () => {
    const { file } = populated();
    expect(statSync(join(env.dataDir, 'audit.key')).mode & 0o777).toBe(0o600);
    const r = await verify(file, env.dataDir);
    expect(r).toEqual({ code: 0, out: 'audit trail OK: 5 entries, chain intact; 2 evidence images match their SHA-256 (0 deleted by retention, skipped)', err: '' });
  });

  it('refuses UPDATE and DELETE through the triggers', () => {
    const { raw } = populated();
    const db = raw();
    expect(() => db.prepare(`UPDATE audit_trail SET reason = 'nothing happened' WHERE seq = 2`).run()).toThrow(/append-only/);
    expect(() => db.prepare(`DELETE FROM audit_trail WHERE seq = 2`).run()).toThrow(/append-only/);
    db.close();
  });

  it('catches a row edited with the trigger dropped, naming its seq', async () => {
    const { file, raw } = populated();
    const db = raw();
    db.exec(`DROP TRIGGER audit_trail_no_update`);
    db.prepare(`UPDATE audit_trail SET new_value = '{"n":99}' WHERE seq = 3`).run();
    db.close();
    const r = await verify(file, env.dataDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^TAMPERED: audit row seq 3 \(configChanged config line by ada\): its content does not match its hash/);
  });

  it('catches a deleted row in the middle and rows cut from the end', async () => {
    const { file, raw } = populated();
    let db = raw();
    db.exec(`DROP TRIGGER audit_trail_no_delete`);
    db.prepare(`DELETE FROM audit_trail WHERE seq = 2`).run();
    db.close();
    expect((await verify(file, env.dataDir)).err).toMatch(/audit row seq 3: expected seq 2 — rows 2…2 are missing/);

    const second = populated();
    db = second.raw();
    db.exec(`DROP TRIGGER audit_trail_no_delete`);
    db.prepare(`DELETE FROM audit_trail WHERE seq >= 4`).run();
    db.close();
    const r = await verify(second.file, env.dataDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ends at seq 3 but seq 5 was issued/);
  });

  it('catches a rewritten row whose seq was renumbered to hide a gap', async () => {
    const { file, raw } = populated();
    const db = raw();
    db.exec(`DROP TRIGGER audit_trail_no_delete; DROP TRIGGER audit_trail_no_update`);
    db.prepare(`DELETE FROM audit_trail WHERE seq = 2`).run();
    db.prepare(`UPDATE audit_trail SET seq = 2 WHERE seq = 3`).run();
    db.close();
    expect((await verify(file, env.dataDir)).err).toMatch(/audit row seq 2: prev_hash .* differs from the hash of row 1/);
  });

  it('catches one changed byte of an evidence image, and skips images retention recorded as deleted', async () => {
    const { file, raw } = populated();
    const img = join(env.dataDir, 'evidence', '2026-01-05', 'blister', '2.jpg');
    const bytes = readFileSync(img);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(img, bytes);
    const r = await verify(file, env.dataDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/TAMPERED: evidence of inspection 2 \(evidence\/2026-01-05\/blister\/2\.jpg\): SHA-256 .* differs from the record/);

    const db = raw();
    db.prepare(`INSERT INTO evidence_deletions (inspection_id, deleted_at, reason) VALUES (2, 1, 'retention: pass older than 30 days')`).run();
    db.close();
    expect(await verify(file, env.dataDir)).toMatchObject({ code: 0, out: expect.stringContaining('1 evidence images match their SHA-256 (1 deleted by retention, skipped)') });
  });

  it('refuses to verify with another appliance\'s key', async () => {
    const { file } = populated();
    const other = openTestRecords();
    other.close();
    const r = await verify(file, other.dataDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/audit row seq 1 .*does not match its hash/);
  });
});
