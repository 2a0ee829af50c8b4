import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InspectionRecord } from '../domain/inspection.js';
import type { Verdict } from '../domain/verdict.js';
import { silentLogger } from '../observability/logger.js';
import { MemoryAuditLog } from '../records/testing/memory-audit.js';
import { EvidenceRetention, evidenceRetentionSchema, type EvidenceRetentionConfig } from './evidence-retention.js';
import { Store } from './store.js';

const DAY = 86_400_000;
const qa = { user: 'quinn', role: 'qa' } as const;

function setup(config: Partial<EvidenceRetentionConfig> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lineside-retention-'));
  const store = Store.open(dataDir);
  const audit = new MemoryAuditLog();
  const retention = new EvidenceRetention({
    repo: store.retention,
    audit,
    dataDir,
    config: { ...evidenceRetentionSchema.parse({}), minFreeBytes: 0, ...config },
    logger: silentLogger(),
  });
  /** One inspection with an evidence file of `bytes` on disk. */
  const inspect = (verdict: Verdict, batchId = 'B1', bytes = 1000) => {
    const rec: InspectionRecord = {
      stationId: 'blister', kind: 'part', triggerCount: 1, partId: 'P', batchId, recipeIndex: 1, verdict, reason: null,
      rejectCode: 0, score: 0.5, startedAt: Date.now(), timings: {}, modelVersions: {}, frameOrigin: null, findings: [],
    };
    const stored = store.inspections.record(rec);
    const path = `evidence/2026-03-02/blister/${stored.id}.jpg`;
    mkdirSync(dirname(join(dataDir, path)), { recursive: true });
    writeFileSync(join(dataDir, path), Buffer.alloc(bytes, 7));
    store.inspections.recordEvidence(stored.id, { path, sha256: 'ab'.repeat(32), bytes });
    return { id: stored.id, file: join(dataDir, path) };
  };
  return { dataDir, store, audit, retention, inspect };
}

describe('EvidenceRetention', () => {
  it('deletes images after their verdict keeps them, keeps the record and says so in evidence_deletions and one audit entry', async () => {
    const { store, audit, retention, inspect } = setup();
    const pass = [inspect('pass'), inspect('pass'), inspect('pass')];
    const reject = inspect('reject');
    const inconclusive = inspect('inconclusive');
    const notInspected = inspect('not_inspected');

    const run = await retention.runOnce(Date.now() + 31 * DAY);
    expect(run).toMatchObject({ deleted: 3, bytes: 3000, missing: [], failed: 0 });
    for (const p of pass) {
      expect(existsSync(p.file)).toBe(false);
      // The record keeps its evidence row (path and hash): only the image is gone.
      expect(store.inspections.get(p.id)).toMatchObject({ evidencePath: `evidence/2026-03-02/blister/${p.id}.jpg`, evidenceSha256: 'ab'.repeat(32) });
      expect(store.retention.deletion(p.id)?.reason).toMatch(/pass older than 30 days \(retention.evidence.keepDays.pass\)/);
    }
    for (const kept of [reject, inconclusive, notInspected]) expect(existsSync(kept.file)).toBe(true);
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({
      action: 'evidenceDeleted',
      actor: { user: 'system', role: 'system' },
      objectId: `${pass[0]!.id}..${pass[2]!.id}`,
      newValue: { count: 3, bytes: 3000, byVerdict: { pass: 3 }, firstInspectionId: pass[0]!.id, lastInspectionId: pass[2]!.id },
    });
    expect((audit.entries[0]!.newValue as { idsSha256: string }).idsSha256).toMatch(/^[0-9a-f]{64}$/);

    // Not-inspected images go after 90 days, rejects and inconclusive after 730.
    await retention.runOnce(Date.now() + 91 * DAY);
    expect(existsSync(notInspected.file)).toBe(false);
    expect(existsSync(reject.file)).toBe(true);
    await retention.runOnce(Date.now() + 731 * DAY);
    expect(existsSync(reject.file)).toBe(false);
    expect(existsSync(inconclusive.file)).toBe(false);
    // A later run finds nothing new to delete and audits nothing.
    const before = audit.entries.length;
    expect((await retention.runOnce(Date.now() + 732 * DAY)).deleted).toBe(0);
    expect(audit.entries).toHaveLength(before);
  });

  it('never deletes the images of a held batch; after release they follow the normal rules', async () => {
    const { audit, retention, inspect } = setup();
    const held = inspect('reject', 'LOT-42');
    const other = inspect('reject', 'LOT-43');
    expect(() => retention.hold('LOT-42', qa, ' ')).toThrow(/reason is required/);
    retention.hold('LOT-42', qa, 'deviation DV-2026-017 under investigation', '10.0.0.9');
    expect(() => retention.hold('LOT-42', qa, 'again')).toThrow(/already on hold \(by quinn/);
    expect(retention.held().map((b) => b.batchId)).toEqual(['LOT-42']);

    await retention.runOnce(Date.now() + 800 * DAY);
    expect(existsSync(held.file)).toBe(true);
    expect(existsSync(other.file)).toBe(false);

    retention.release('LOT-42', qa, 'deviation closed');
    expect(() => retention.release('LOT-42', qa, 'twice')).toThrow(/not on hold/);
    await retention.runOnce(Date.now() + 800 * DAY);
    expect(existsSync(held.file)).toBe(false);
    expect(audit.entries.map((e) => [e.action, e.objectId])).toEqual([
      ['batchHeld', 'LOT-42'],
      ['evidenceDeleted', String(other.id) + '..' + String(other.id)],
      ['batchReleased', 'LOT-42'],
      ['evidenceDeleted', String(held.id) + '..' + String(held.id)],
    ]);
    expect(audit.entries[0]).toMatchObject({ actor: qa, reason: 'deviation DV-2026-017 under investigation', client: '10.0.0.9' });
  });

  it('over the disk budget, deletes the oldest passes first, then others by age, down to the warning level', async () => {
    const { retention, inspect } = setup({ budgetBytes: 1_000_000, warnAtPercent: 50 });
    const rejects = [inspect('reject', 'B1', 100_000), inspect('reject', 'B1', 100_000)];
    const passes = Array.from({ length: 6 }, () => inspect('pass', 'B1', 100_000));
    const later = Array.from({ length: 4 }, () => inspect('reject', 'B1', 100_000));
    expect((await retention.checkSpace()).warning).toMatch(/evidence images take 1.2 MB, 120% of retention.evidence.budgetBytes/);

    const run = await retention.runOnce();
    expect(run.deleted).toBe(7);
    for (const p of passes) expect(existsSync(p.file)).toBe(false);
    expect(existsSync(rejects[0]!.file)).toBe(false);
    for (const r of [rejects[1]!, ...later]) expect(existsSync(r.file)).toBe(true);
    expect(retention.status()).toMatchObject({ evidenceBytes: 500_000, warning: expect.stringMatching(/50% of retention/) });
  });

  it('warns when the filesystem has less free space than minFreeBytes', async () => {
    const { retention } = setup({ minFreeBytes: Number.MAX_SAFE_INTEGER });
    expect((await retention.checkSpace()).warning).toMatch(/free on the data directory's filesystem, below retention.evidence.minFreeBytes/);
    const roomy = setup({ minFreeBytes: 0 });
    expect((await roomy.retention.checkSpace()).warning).toBeNull();
  });

  it('an image already missing from disk is not marked deleted, so verify-audit still reports it', async () => {
    const { store, retention, inspect } = setup();
    const gone = inspect('pass');
    const { rmSync } = await import('node:fs');
    rmSync(gone.file);
    const run = await retention.runOnce(Date.now() + 31 * DAY);
    expect(run).toMatchObject({ deleted: 0, missing: [gone.id] });
    expect(store.retention.deletion(gone.id)).toBeUndefined();
  });

  it('refuses a policy that keeps rejects or inconclusive images shorter than passes', () => {
    const r = evidenceRetentionSchema.safeParse({ keepDays: { pass: 60, reject: 30 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/at least as long as pass images/);
  });
});

describe('retention config', () => {
  it('names the key of a bad retention setting', async () => {
    const { configError } = await import('../config/testing.js');
    const raw = {
      plc: { endpoint: 'opc.tcp://127.0.0.1:4840' },
      models: { det: { path: 'models/det.onnx' } },
      stations: [{ id: 'blister', kind: 'part', source: { type: 'replay', path: 'fixtures/blister' }, model: 'det' }],
      retention: { evidence: { passSampling: 0 } },
    };
    expect(configError(raw)).toMatch(/retention\.evidence\.passSampling/);
  });
});
