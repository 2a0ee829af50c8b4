import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../config/schema.js';
import type { InspectionRecord } from '../domain/inspection.js';
import { Store } from '../store/store.js';
import { openRecords, type Records } from './records.js';
import type { User } from './users.js';

/** A fresh data directory with the store and the records open on it, and a clock the test moves. */
export function openTestRecords(over: { minLength?: number; maxFailures?: number; maxAgeDays?: number; idleMinutes?: number } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lineside-records-'));
  const store = Store.open(dataDir);
  const clock = { now: Date.UTC(2026, 0, 5, 8, 0, 0) };
  const lockouts: User[] = [];
  const config = configSchema.shape.records.parse({
    passwords: { minLength: over.minLength ?? 12, maxFailures: over.maxFailures ?? 3, maxAgeDays: over.maxAgeDays ?? 90 },
    sessions: { idleMinutes: over.idleMinutes ?? 15 },
  });
  const records: Records = openRecords({ file: store.file, db: store.db, dataDir, config, onLockout: (u) => lockouts.push(u), now: () => clock.now });
  const close = (): void => {
    records.close();
    store.close();
  };
  return { dataDir, store, records, clock, lockouts, close };
}

export const inspection = (over: Partial<InspectionRecord> = {}): InspectionRecord => ({
  stationId: 'blister',
  kind: 'part',
  triggerCount: 7,
  partId: 'P-7',
  batchId: 'B1',
  recipeIndex: 1,
  verdict: 'inconclusive',
  reason: 'empty_pocket 0.41',
  rejectCode: 0,
  score: 0.41,
  startedAt: Date.UTC(2026, 0, 5, 7, 59, 0),
  timings: { totalMs: 6 },
  modelVersions: { blister: 'blister-detector@1.0.0+abc' },
  frameOrigin: 'blister-0007.jpg',
  findings: [{ label: 'empty_pocket', score: 0.41, box: { x: 1, y: 2, w: 30, h: 40 }, rule: 'class:empty_pocket>=0.3', effect: 'inconclusive', rejectCode: 0 }],
  ...over,
});

/** Create a user with a chosen password (one-time password replaced, as the user would at first sign-in). */
export async function userWithPassword(records: Records, username: string, role: User['role'], password: string): Promise<void> {
  const admin = { user: 'console:test', role: 'system' } as const;
  const { oneTimePassword } = await records.users.createUser(admin, { username, fullName: `${username[0]!.toUpperCase()}${username.slice(1)} Tester`, role });
  const { token } = await records.sessions.login(username, oneTimePassword);
  await records.sessions.changePassword(token, oneTimePassword, password);
  records.sessions.logout(token);
}
