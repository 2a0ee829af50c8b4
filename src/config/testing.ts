import { parseConfig } from './load.js';

/** The message a config is refused with, as `check-config` would print it for `line.yaml`. */
export function configError(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/lineside', 'line.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be rejected');
}
