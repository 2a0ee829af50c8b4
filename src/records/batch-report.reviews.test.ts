import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabaseReadOnly } from '../store/db.js';
import { readBatchReport } from './batch-report.js';
import { batchReportCsv } from './batch-report.csv.js';
import { batchReportPdf } from './batch-report.pdf.js';
import { inspection, openTestRecords, userWithPassword } from './records.test-support.js';
import { pdfText } from './testing/pdf.js';

let env: ReturnType<typeof openTestRecords>;
afterEach(() => env?.close());

const QA = { user: 'qa.quinn', role: 'qa' } as const;

/** A batch with two reviewed parts (one reviewed twice), a signed inspection, and a part of another batch. */
async function reviewedBatch() {
  env = openTestRecords();
  await userWithPassword(env.records, 'sue', 'supervisor', 'blue-harbour-88');
  await userWithPassword(env.records, 'quinn', 'qa', 'amber-lantern-53');
  const i = env.store.inspections;
  const first = i.record(inspection({ triggerCount: 7, partId: 'P-7' }));
  const second = i.record(inspection({ triggerCount: 8, partId: 'P-8', verdict: 'reject', reason: 'broken_tablet 0.91', score: 0.91 }));
  i.record(inspection({ triggerCount: 9, partId: 'P-9', verdict: 'pass', reason: null }));
  const other = i.record(inspection({ triggerCount: 1, partId: 'X-1', batchId: 'B2' }));
  const review = (inspectionId: number, decision: 'pass' | 'reject', reason: string, username: string, password: string) => {
    env.clock.now += 60_000;
    return env.records.reviews.review({ inspectionId, decision, reason, username, password });
  };
  const r1 = await review(first.id, 'pass', 'pocket filled; shadow on lidding foil', 'sue', 'blue-harbour-88');
  const r2 = await review(first.id, 'reject', 'second look: tablet chipped at the edge', 'quinn', 'amber-lantern-53');
  const r3 = await review(second.id, 'reject', 'confirmed broken tablet', 'sue', 'blue-harbour-88');
  await review(other.id, 'pass', 'another batch', 'sue', 'blue-harbour-88');
  env.clock.now += 60_000;
  const approval = await env.records.signatures.sign({ recordType: 'inspection', recordId: String(second.id), meaning: 'approved', username: 'quinn', password: 'amber-lantern-53' });
  return { first, second, r1, r2, r3, approval };
}

describe('batch report: reviews and signatures', () => {
  it('lists each review of the batch with the original inspection, decision, reason, reviewer printed name, time and meaning', async () => {
    const { first, second, r1, r2, r3, approval } = await reviewedBatch();
    const r = env.store.batchReport('B1', { generatedBy: QA });
    expect(r.reviews).toEqual([
      expect.objectContaining({ reviewId: r1.review.id, inspectionId: first.id, partId: 'P-7', triggerCount: 7, originalVerdict: 'inconclusive', originalReason: 'empty_pocket 0.41', decision: 'pass', reason: 'pocket filled; shadow on lidding foil', reviewer: 'sue', reviewerName: 'Sue Tester', at: r1.review.reviewedAt, meanings: ['reviewed'], signatureIds: [r1.signature.id] }),
      expect.objectContaining({ reviewId: r2.review.id, inspectionId: first.id, decision: 'reject', reviewerName: 'Quinn Tester', meanings: ['reviewed'], signatureIds: [r2.signature.id] }),
      expect.objectContaining({ reviewId: r3.review.id, inspectionId: second.id, originalVerdict: 'reject', originalReason: 'broken_tablet 0.91', decision: 'reject', reviewerName: 'Sue Tester' }),
    ]);
    // Every signature is linked to the record it signed and to its inspection; the other batch's is not here.
    expect(r.signatures.map((s) => [s.id, s.recordType, s.recordId, s.inspectionId, s.printedName, s.meaning, s.signedAt, s.valid])).toEqual([
      [r1.signature.id, 'review', String(r1.review.id), first.id, 'Sue Tester', 'reviewed', r1.signature.signedAt, true],
      [r2.signature.id, 'review', String(r2.review.id), first.id, 'Quinn Tester', 'reviewed', r2.signature.signedAt, true],
      [r3.signature.id, 'review', String(r3.review.id), second.id, 'Sue Tester', 'reviewed', r3.signature.signedAt, true],
      [approval.id, 'inspection', String(second.id), second.id, 'Quinn Tester', 'approved', approval.signedAt, true],
    ]);
  });

  it('reads the section from a read-only copy, and marks a signature whose record was edited afterwards', async () => {
    const { second, approval } = await reviewedBatch();
    const raw = new Database(env.store.file);
    raw.prepare(`UPDATE inspections SET verdict = 'pass' WHERE id = ?`).run(second.id);
    raw.close();
    const ro = openDatabaseReadOnly(env.store.file);
    try {
      const r = readBatchReport(ro, 'B1', { generatedBy: QA });
      const sigs = r.signatures.filter((s) => s.inspectionId === second.id);
      // The approval signed the inspection; the review's signature covers the inspection's hash too.
      expect(sigs.map((s) => [s.id === approval.id ? 'approval' : 'review', s.valid])).toEqual([
        ['review', false],
        ['approval', false],
      ]);
      expect(r.signatures.filter((s) => s.inspectionId !== second.id).every((s) => s.valid)).toBe(true);
    } finally {
      ro.close();
    }
  });

  it('carries the section in CSV, JSON and the PDF', async () => {
    const { first, r1, approval } = await reviewedBatch();
    const r = env.store.batchReport('B1', { generatedBy: QA, line: 'L3' });

    const csv = batchReportCsv(r).split('\r\n');
    expect(csv).toContain(`reviews,${r1.review.id},${first.id},blister,P-7,7,2026-01-05 07:59:00.000Z,inconclusive,empty_pocket 0.41,pass,pocket filled; shadow on lidding foil,sue,Sue Tester,${new Date(r1.review.reviewedAt).toISOString().replace('T', ' ')},reviewed,${r1.signature.id}`);
    expect(csv.find((l) => l.startsWith(`signatures,${approval.id},`))).toBe(
      `signatures,${approval.id},inspection ${approval.recordId},${approval.recordId},quinn,Quinn Tester,qa,approved,${new Date(approval.signedAt).toISOString().replace('T', ' ')},${approval.contentSha256},yes`,
    );

    const json = JSON.parse(JSON.stringify(r)) as typeof r;
    expect(json.reviews).toHaveLength(3);
    expect(json.signatures.find((s) => s.id === approval.id)).toMatchObject({ recordType: 'inspection', printedName: 'Quinn Tester', meaning: 'approved', valid: true });

    const text = pdfText(await batchReportPdf(r));
    expect(text).toContain('Reviews and signatures');
    const section = text.slice(text.indexOf('Reviews and signatures'), text.indexOf('Audit trail entries'));
    // Cells wrap inside their column; each row starts with its inspection, the station and part below it.
    expect(section).toMatch(new RegExp(`\\n${first.id}\\s+inconclusive:\\s+pass\\s+pocket filled;\\s+Sue Tester \\(sue\\)`));
    expect(section).toContain('blister / P-7');
    expect(section).toContain('empty_pocket');
    expect(section).toMatch(/reject:\s+reject\s+confirmed broken/);
    expect(section).toMatch(new RegExp(`#${approval.id}\\s+inspection ${approval.recordId}\\s+${approval.recordId}\\s+Quinn Tester \\(quinn, qa\\)\\s+approved\\s+2026-01-05`));
    expect(section.match(/reviewed/g)!.length).toBeGreaterThanOrEqual(6);
    expect(section).not.toContain('another batch');
  });
});
