import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { inspection, openTestRecords, userWithPassword } from './records.test-support.js';

let env: ReturnType<typeof openTestRecords>;
afterEach(() => env?.close());

async function withStaff() {
  env = openTestRecords({ maxFailures: 3 });
  await userWithPassword(env.records, 'sue', 'supervisor', 'blue-harbour-88');
  await userWithPassword(env.records, 'otto', 'operator', 'green-meadow-27');
  const stored = env.store.inspections.record(inspection());
  return stored.id;
}

describe('electronic signatures and reviews', () => {
  it('reviews an inconclusive part as a new row with a signature; the inspection stays as recorded', async () => {
    const id = await withStaff();
    const before = env.store.inspections.get(id);
    const { review, signature } = await env.records.reviews.review({ inspectionId: id, decision: 'pass', reason: 'pocket filled; shadow on lidding foil', username: 'sue', password: 'blue-harbour-88', client: '10.0.0.7' });
    expect(review).toMatchObject({ inspectionId: id, decision: 'pass', reviewer: 'sue' });
    expect(signature).toMatchObject({ recordType: 'review', recordId: String(review.id), meaning: 'reviewed', printedName: 'Sue Tester', role: 'supervisor', signedAt: env.clock.now });
    expect(signature.contentSha256).toMatch(/^[0-9a-f]{64}$/);

    const shown = env.records.reviews.inspectionWithReviews(id)!;
    expect(shown.inspection).toEqual(before);
    expect(shown.inspection.verdict).toBe('inconclusive');
    expect(shown.decision).toBe('pass');
    expect(shown.reviews[0]!.signatures).toEqual([expect.objectContaining({ printedName: 'Sue Tester', meaning: 'reviewed', valid: true })]);
    const last = env.records.audit.recent(2).map((e) => [e.action, e.objectType, e.client]);
    expect(last).toEqual([['signed', 'review', '10.0.0.7'], ['resultReviewed', 'inspection', '10.0.0.7']]);
    expect(env.records.audit.recent(2)[1]).toMatchObject({ oldValue: { verdict: 'inconclusive' }, newValue: { decision: 'pass' }, reason: 'pocket filled; shadow on lidding foil' });
  });

  it('refuses operators, a missing reason and a wrong password (which counts toward lock-out)', async () => {
    const id = await withStaff();
    await expect(env.records.reviews.review({ inspectionId: id, decision: 'pass', reason: 'looks fine', username: 'otto', password: 'green-meadow-27' })).rejects.toThrow(/\(operator\) may not review results: supervisor or qa only/);
    await expect(env.records.reviews.review({ inspectionId: id, decision: 'pass', reason: '  ', username: 'sue', password: 'blue-harbour-88' })).rejects.toThrow(/a reason is required/);
    for (let i = 0; i < 3; i++) {
      await expect(env.records.reviews.review({ inspectionId: id, decision: 'reject', reason: 'empty pocket', username: 'sue', password: 'guess' })).rejects.toThrow(/signature refused/);
    }
    expect(env.lockouts.map((u) => u.username)).toEqual(['sue']);
    await expect(env.records.reviews.review({ inspectionId: id, decision: 'reject', reason: 'empty pocket', username: 'sue', password: 'blue-harbour-88' })).rejects.toThrow(/account locked/);
    expect(env.records.reviews.inspectionWithReviews(id)!.reviews).toEqual([]);
    expect(env.records.db.prepare(`SELECT COUNT(*) AS n FROM signatures`).get()).toEqual({ n: 0 });
  });

  it('signs a record with a stated meaning, and shows the signature invalid once the record no longer hashes the same', async () => {
    const id = await withStaff();
    const sig = await env.records.signatures.sign({ recordType: 'inspection', recordId: String(id), meaning: 'verified', username: 'otto', password: 'green-meadow-27' });
    expect(sig).toMatchObject({ meaning: 'verified', printedName: 'Otto Tester' });
    await expect(env.records.signatures.sign({ recordType: 'inspection', recordId: String(id), meaning: 'approved', username: 'otto', password: 'wrong' })).rejects.toThrow(/password not accepted/);
    await expect(env.records.signatures.sign({ recordType: 'batch', recordId: 'B1', meaning: 'approved', username: 'otto', password: 'green-meadow-27' })).rejects.toThrow(/records of type "batch" cannot be signed/);
    expect(env.records.signatures.forRecord('inspection', String(id))).toEqual([expect.objectContaining({ valid: true })]);

    // Someone edits the record outside the appliance.
    const raw = new Database(env.store.file);
    raw.prepare(`UPDATE inspections SET verdict = 'pass' WHERE id = ?`).run(id);
    raw.close();
    const [after] = env.records.signatures.forRecord('inspection', String(id));
    expect(after).toMatchObject({ valid: false, invalidReason: expect.stringMatching(/changed since it was signed/) });
  });

  it('never lets a review or signature be changed or deleted', async () => {
    const id = await withStaff();
    await env.records.reviews.review({ inspectionId: id, decision: 'reject', reason: 'crack in tablet 3', username: 'sue', password: 'blue-harbour-88' });
    const db = env.records.db;
    expect(() => db.prepare(`UPDATE reviews SET decision = 'pass'`).run()).toThrow(/cannot be changed/);
    expect(() => db.prepare(`DELETE FROM reviews`).run()).toThrow(/cannot be deleted/);
    expect(() => db.prepare(`UPDATE signatures SET printed_name = 'Someone Else'`).run()).toThrow(/cannot be changed/);
    expect(() => db.prepare(`DELETE FROM signatures`).run()).toThrow(/cannot be deleted/);
  });
});
