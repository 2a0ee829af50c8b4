import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAuditKey } from '../records/audit-key.js';
import { inspection, openTestRecords, userWithPassword } from '../records/records.test-support.js';
import { verifyChain } from '../records/verify-audit.js';
import { runCli } from './testing/run-cli.js';

let env: ReturnType<typeof openTestRecords>;
afterEach(() => env?.close());

const osUser = `console:${userInfo().username}`;
const lastEntry = () => env.records.audit.recent(1)[0]!;

describe('lineside report batch: the export is audited', () => {
  it('writes an `exported` entry by the OS user, or by the records user named with --user, beside the running appliance', async () => {
    env = openTestRecords();
    await userWithPassword(env.records, 'quinn', 'qa', 'amber-lantern-53');
    env.store.inspections.record(inspection({ batchId: 'B-7' }));
    const out = mkdtempSync(join(tmpdir(), 'lineside-export-'));
    const before = lastEntry().seq;

    const csv = await runCli('report', 'batch', 'B-7', '--format', 'csv', '--data-dir', env.dataDir, '--out', join(out, 'b7.csv'));
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    const sha = /content sha256,([0-9a-f]{64})/.exec(readFileSync(join(out, 'b7.csv'), 'utf8'))![1];
    const exported = lastEntry();
    expect(exported).toMatchObject({
      seq: before + 1,
      actor: { user: osUser, role: 'system' },
      action: 'exported',
      objectType: 'batch',
      objectId: 'B-7',
      newValue: { report: 'batch', format: 'csv', file: join(out, 'b7.csv'), contentSha256: sha },
      reason: 'lineside report batch',
    });
    expect(csv.stdout).toContain(`export audited: seq ${exported.seq}, exported by ${osUser} (system)`);

    const pdf = await runCli('report', 'batch', 'B-7', '--data-dir', env.dataDir, '--out', join(out, 'b7.pdf'), '--user', 'quinn');
    expect(pdf.code).toBe(0);
    expect(lastEntry()).toMatchObject({ actor: { user: 'quinn', role: 'qa' }, client: osUser, action: 'exported', newValue: { format: 'pdf' } });

    // The next report of the batch lists both exports; the chain is intact with the appliance's key.
    const json = await runCli('report', 'batch', 'B-7', '--format', 'json', '--db', env.store.file, '--out', join(out, 'b7.json'));
    expect(json.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'b7.json'), 'utf8')) as { audit: Array<{ action: string; actor: { user: string } }> };
    expect(report.audit.filter((a) => a.action === 'exported').map((a) => a.actor.user)).toEqual([osUser, 'quinn']);
    expect(verifyChain(env.records.db, readAuditKey(join(env.dataDir, 'audit.key')))).toEqual({ entries: lastEntry().seq });
  });

  it('writes no report when the export cannot be audited: unknown --user, or an audit key it may not use', async () => {
    env = openTestRecords();
    env.store.inspections.record(inspection({ batchId: 'B-8' }));
    env.records.audit.append({ actor: { user: 'system', role: 'system' }, action: 'applianceStarted', objectType: 'appliance', objectId: 'lineside' });
    const out = mkdtempSync(join(tmpdir(), 'lineside-export-'));
    const before = lastEntry().seq;

    const nobody = await runCli('report', 'batch', 'B-8', '--data-dir', env.dataDir, '--out', join(out, 'a.pdf'), '--user', 'nobody');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('--user nobody: no such user in this database');
    expect(existsSync(join(out, 'a.pdf'))).toBe(false);

    chmodSync(join(env.dataDir, 'audit.key'), 0o644);
    const openKey = await runCli('report', 'batch', 'B-8', '--data-dir', env.dataDir, '--out', join(out, 'b.pdf'));
    expect(openKey.code).toBe(1);
    expect(openKey.stderr).toMatch(/the export could not be audited, report not written: audit key .* is readable by others/);
    expect(existsSync(join(out, 'b.pdf'))).toBe(false);
    expect(lastEntry().seq).toBe(before);
  });
});
