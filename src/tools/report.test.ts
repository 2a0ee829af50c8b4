import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { runCli } from './testing/run-cli.js';

describe('lineside report batch', () => {
  it('writes the batch report from a data directory in each format, and refuses a batch that has no inspections', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lineside-report-cli-'));
    const store = Store.open(dataDir);
    for (let k = 1; k <= 5; k++) {
      store.inspections.record({
        stationId: 'blister', kind: 'part', triggerCount: k, partId: `P-${k}`, batchId: 'B 17/a', recipeIndex: 1,
        verdict: k === 5 ? 'reject' : 'pass', reason: null, rejectCode: 0, score: 0.4, startedAt: Date.now() - 10_000 + k, timings: {},
        modelVersions: { blister: 'blister-detector@1.0.0+abcdefabcdef' }, frameOrigin: null,
        findings: k === 5 ? [{ label: 'missing_tablet', score: 0.9, rule: 'class:missing_tablet>=0.5', effect: 'reject', rejectCode: 10 }] : [],
      });
    }
    store.close();
    const out = mkdtempSync(join(tmpdir(), 'lineside-report-out-'));

    const json = await runCli('report', 'batch', 'B 17/a', '--format', 'json', '--data-dir', dataDir, '--out', join(out, 'r.json'));
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('batch B 17/a: 5 inspections (1 rejected)');
    const report = JSON.parse(readFileSync(join(out, 'r.json'), 'utf8')) as { totals: { pass: number; reject: number }; generatedBy: { user: string } };
    expect(report.totals).toMatchObject({ pass: 4, reject: 1 });
    expect(report.generatedBy).toEqual({ user: `console:${userInfo().username}`, role: 'system' });

    const pdf = await runCli('report', 'batch', 'B 17/a', '--db', join(dataDir, 'lineside.db'), '--out', join(out, 'r.pdf'));
    expect(pdf.code).toBe(0);
    expect(readFileSync(join(out, 'r.pdf')).subarray(0, 5).toString()).toBe('%PDF-');

    const missing = await runCli('report', 'batch', 'B-18', '--data-dir', dataDir, '--format', 'csv');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('batch "B-18" has no inspections');

    const badFormat = await runCli('report', 'batch', 'B 17/a', '--format', 'docx', '--data-dir', dataDir);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format must be one of pdf, csv, json');

    const noDb = await runCli('report', 'batch', 'B 17/a', '--data-dir', join(out, 'nothing-here'));
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toMatch(/cannot open database .*nothing-here.*lineside\.db for reading/);
  });
});
