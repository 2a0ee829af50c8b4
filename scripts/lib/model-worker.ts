/** Worker-thread entry for scripts/make-models.ts: fits the named demo model and posts its manifest. */
import { parentPort, workerData } from 'node:worker_threads';
import { demoModels, type DemoModel } from './demo-models.js';

const name = workerData as DemoModel;
parentPort?.postMessage(await demoModels[name]());
