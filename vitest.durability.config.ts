import { defineConfig } from 'vitest/config';

/**
 * Durability suite: the appliance as a child process killed with SIGKILL 50 times at full line
 * rate (npm run test:durability). About five minutes of a 2-core box; runs on its own.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.durability.test.ts'],
    testTimeout: 480_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
