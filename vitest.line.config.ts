import { defineConfig } from 'vitest/config';

/**
 * Line-rate suite: the whole appliance against the simulated PLC at the design's fastest line rate
 * for a minute, and through a PLC restart. Long and CPU-bound on a 2-core box, so it runs on its
 * own (npm run test:line), one file at a time, with nothing else competing.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.line.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
