import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/load.js';
import type { Config, ConfigInput } from '../config/schema.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../observability/logger.js';
import { Appliance } from '../main.js';

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
