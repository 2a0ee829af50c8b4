import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { readAuditKey } from './audit-key.js';
import { BackupScheduler, backupDatabase, restoreDatabase } from './backup.js';
import { recordsCommand } from './records.cli.js';
import { inspection, openTestRecords } from './records.test-support.js';
import { claimDataDir } from './run-lock.js';
import { verifyChain } from './verify-audit.js';

let env: ReturnType<typeof openTestRecords>;
afterEach(() => env?.close());

const io = () => {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
};

describe('backup and restore', () => {
  it('backs up online while inspections are being written; the restore has the rows and a valid chain', async () => {
    env = openTestRecords();
    let written = 0;
    let writing = true;
    // Another connection writes inspections and audit entries the whole time, as the line would.
    const line = (async () => {
      while (writing) {
        env.store.inspections.record(inspection({ triggerCount: written }));
        env.records.audit.append({ actor: { user: 'system', role: 'system' }, action: 'configChanged', objectType: 'test', objectId: String(written), newValue: { written } });
        written++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    const out = join(mkdtempSync(join(tmpdir(), 'lineside-backup-')), 'copy.db');
    const result = await backupDatabase(env.records.db, out, env.records.audit);
    writing = false;
    await line;
    expect(written).toBeGreaterThan(10);

    const copy = new Database(out, { readonly: true });
    const rows = (copy.prepare(`SELECT COUNT(*) AS n FROM inspections`).get() as { n: number }).n;
    expect(rows).toBeGreaterThan(0);
    expect(verifyChain(copy, readAuditKey(join(env.dataDir, 'audit.key')))).toEqual({ entries: result.auditEntries });
    copy.close();
    expect(env.records.audit.recent(1)[0]).toMatchObject({ action: 'backupMade', newValue: { file: out, auditEntries: result.auditEntries } });

    // Restore into the same data directory once the appliance is stopped.
    const key = readAuditKey(join(env.dataDir, 'audit.key'));
    env.close();
    const restored = restoreDatabase(out, env.dataDir, key);
    expect(restored.replaced).toMatch(/lineside\.db\.replaced-\d{8}T\d{6}Z$/);
    expect(existsSync(restored.replaced!)).toBe(true);
    const back = new Database(join(env.dataDir, 'lineside.db'), { readonly: true });
    expect((back.prepare(`SELECT COUNT(*) AS n FROM inspections`).get() as { n: number }).n).toBe(rows);
    // The restored database carries the backup's chain and, after it, the restore itself.
    expect(verifyChain(back, key)).toEqual({ entries: result.auditEntries + 1 });
    const last = back.prepare(`SELECT * FROM audit_trail ORDER BY seq DESC LIMIT 1`).get() as Record<string, string | number>;
    expect(last).toMatchObject({ seq: result.auditEntries + 1, user: 'system', action: 'restored', object_type: 'database', object_id: join(env.dataDir, 'lineside.db') });
    expect(JSON.parse(String(last.new_value))).toEqual({ from: out, backupSha256: createHash('sha256').update(readFileSync(out)).digest('hex'), auditEntries: result.auditEntries, replaced: restored.replaced });
    expect(restored.entry).toMatchObject({ seq: last.seq, action: 'restored' });
    back.close();
    expect(readdirSync(env.dataDir).filter((f) => f.includes('restoring'))).toEqual([]);
  });

  it('audits a restore from the console in the restored database, by the OS user with the reason given; verify-audit passes on it', async () => {
    env = openTestRecords();
    env.records.audit.append({ actor: { user: 'ada', role: 'admin' }, action: 'configChanged', objectType: 'config', objectId: 'line', newValue: { a: 1 } });
    const { lines, io: out } = io();
    const file = join(mkdtempSync(join(tmpdir(), 'lineside-backup-')), 'b.db');
    expect(await recordsCommand('backup', ['--db', env.store.file, '--out', file], out)).toBe(0);
    // Work goes on after the backup (its own backupMade entry is in the live database, not in the copy).
    env.records.audit.append({ actor: { user: 'ada', role: 'admin' }, action: 'configChanged', objectType: 'config', objectId: 'line', newValue: { a: 2 } });
    env.close();

    expect(await recordsCommand('restore', ['--from', file, '--data-dir', env.dataDir, '--reason', 'disk replaced after failure'], out)).toBe(0);
    expect(lines.at(-1)).toMatch(/^restored .*b\.db into .* \(audit chain of 1 entries verified; audited as restored, seq 2\); previous database kept as .*lineside\.db\.replaced-\d{8}T\d{6}Z$/);
    const back = new Database(join(env.dataDir, 'lineside.db'), { readonly: true });
    const trail = back.prepare(`SELECT seq, user, role, action, reason FROM audit_trail ORDER BY seq`).all();
    back.close();
    expect(trail).toEqual([
      { seq: 1, user: 'ada', role: 'admin', action: 'configChanged', reason: null },
      { seq: 2, user: `console:${userInfo().username}`, role: 'system', action: 'restored', reason: 'local console (lineside restore): disk replaced after failure' },
    ]);
    expect(await recordsCommand('verify-audit', ['--db', join(env.dataDir, 'lineside.db')], out)).toBe(0);
    expect(lines.at(-1)).toMatch(/^audit trail OK: 2 entries, chain intact/);
  });

  it('refuses to restore over a running appliance, and refuses a backup whose chain is broken', async () => {
    env = openTestRecords();
    env.records.audit.append({ actor: { user: 'ada', role: 'admin' }, action: 'configChanged', objectType: 'config', objectId: 'line', newValue: { a: 1 } });
    const { lines, io: out } = io();
    const file = join(mkdtempSync(join(tmpdir(), 'lineside-backup-')), 'b.db');
    expect(await recordsCommand('backup', ['--db', env.store.file, '--out', file], out)).toBe(0);
    expect(lines[0]).toMatch(/^backup written: .*b\.db \(\d+ bytes, 1 audit entries\)$/);

    const release = claimDataDir(env.dataDir);
    expect(await recordsCommand('restore', ['--from', file, '--data-dir', env.dataDir], out)).toBe(1);
    expect(lines.at(-1)).toMatch(/an appliance is running on .* \(pid \d+\): stop it before restoring/);
    release();

    const tampered = new Database(file);
    tampered.exec(`DROP TRIGGER audit_trail_no_update`);
    tampered.prepare(`UPDATE audit_trail SET user = 'nobody'`).run();
    tampered.close();
    env.close();
    expect(await recordsCommand('restore', ['--from', file, '--data-dir', env.dataDir], out)).toBe(1);
    expect(lines.at(-1)).toMatch(/failed the audit check, not restored: audit row seq 1/);
    expect(readdirSync(env.dataDir).filter((f) => f.includes('replaced'))).toEqual([]);
  });

  it('keeps the newest `keep` scheduled backups', async () => {
    env = openTestRecords();
    const dir = mkdtempSync(join(tmpdir(), 'lineside-backups-'));
    const scheduler = new BackupScheduler({ db: env.records.db, audit: env.records.audit, logger: silentLogger(), config: { dir, everyHours: 24, keep: 2 } });
    for (let i = 0; i < 3; i++) {
      await scheduler.runNow();
      await new Promise((r) => setTimeout(r, 1100)); // file names carry the second
    }
    await scheduler.stop();
    expect(readdirSync(dir)).toHaveLength(2);
    expect(env.records.audit.recent(10).filter((e) => e.action === 'backupMade')).toHaveLength(3);
  });
});
