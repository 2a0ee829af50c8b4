// Starts a TypeScript worker when lineside runs from source (tsx, vitest). Node 20 does not apply
// `--import tsx` from a worker's execArgv before loading its entry, so register tsx here first.
// The built appliance (dist/) starts its .js workers directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
