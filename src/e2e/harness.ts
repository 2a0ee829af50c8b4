import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/load.js';
import type { Config, ConfigInput } from '../config/schema.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../observability/logger.js';
import { Appliance } from '../main.js';
import type { Role } from '../records/audit.js';
import { userWithPassword } from '../records/records.test-support.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shipped demo config, on free ports and a fresh data directory, with changes applied. */
export function demoConfig(change: (raw: ConfigInput) => void = () => {}): Config {
  const demo = loadConfigFile(join(ROOT, 'config/demo.yaml'));
  const raw = structuredClone(demo) as unknown as ConfigInput;
  raw.dataDir = mkdtempSync(join(tmpdir(), 'lineside-e2e-'));
  raw.http = { host: '127.0.0.1', port: 0 };
  raw.plc.endpoint = 'opc.tcp://127.0.0.1:0';
  raw.log = { level: 'silent' };
  change(raw);
  return parseConfig(raw, ROOT, 'e2e');
}

export function startAppliance(config: Config): Promise<Appliance> {
  return Appliance.start(config, { logger: silentLogger() });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` returns true or the time is up. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The password of the users `signedIn` creates. */
export const E2E_PASSWORD = 'line-side-e2e-pw-1';

/**
 * A user of that role on the running appliance, signed in through the page's login route as a
 * browser would: the headers to send (session cookie, CSRF token). Created once per role.
 */
export async function signedIn(app: Appliance, role: Role = 'viewer'): Promise<{ cookie: string; 'x-csrf-token': string }> {
  const username = `e2e-${role}`;
  if (!app.users.list().some((u) => u.username === username)) await userWithPassword(app.records, username, role, E2E_PASSWORD);
  const res = await fetch(`${app.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: E2E_PASSWORD }) });
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('lineside_session='))?.split(';')[0];
  if (!cookie) throw new Error('sign-in set no session cookie');
  return { cookie, 'x-csrf-token': ((await res.json()) as { csrfToken: string }).csrfToken };
}
