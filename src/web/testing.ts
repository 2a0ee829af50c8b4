import type { FastifyInstance } from 'fastify';
import type { Role } from '../records/audit.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../config/schema.js';
import { openRecords } from '../records/records.js';
import { userWithPassword } from '../records/records.test-support.js';
import { Store } from '../store/store.js';
import { CSRF_HEADER, SESSION_COOKIE } from './auth.js';

/** One test user per role, each with this password. */
export const TEST_PASSWORD = 'line-side-test-pw-1';
export const ROLE_USERS: Readonly<Record<Role, string>> = { viewer: 'vera', operator: 'otto', supervisor: 'sue', qa: 'quinn', admin: 'ada' };

/** A signed-in client's headers for `inject`: the session cookie and the CSRF token. */
export type SignedIn = { cookie: string; [CSRF_HEADER]: string };

/** The store and records on a fresh data directory, in real time, with one user per role (scrypt is slow on purpose: create once per file). */
export async function webRecords(roles: readonly Role[] = ['viewer', 'operator', 'supervisor', 'qa', 'admin']) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lineside-web-'));
  const store = Store.open(dataDir);
  const records = openRecords({ file: store.file, db: store.db, dataDir, config: configSchema.shape.records.parse({}) });
  for (const role of roles) await userWithPassword(records, ROLE_USERS[role], role, TEST_PASSWORD);
  const close = (): void => {
    records.close();
    store.close();
  };
  return { dataDir, store, records, close };
}

/** Sign in through the page's own route, as a browser would. */
export async function signIn(app: FastifyInstance, username: string, password = TEST_PASSWORD): Promise<SignedIn> {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`sign-in of ${username} failed: ${res.statusCode} ${res.body}`);
  const set = [res.headers['set-cookie']].flat().find((c) => c?.startsWith(`${SESSION_COOKIE}=`));
  if (!set) throw new Error('sign-in set no session cookie');
  return { cookie: set.split(';')[0]!, [CSRF_HEADER]: (res.json() as { csrfToken: string }).csrfToken };
}
