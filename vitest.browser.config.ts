import { defineConfig } from 'vitest/config';

/** Browser suite: Debian chromium driven by playwright-core (installed by .ci/run). */
export default defineConfig({
  test: {
    include: ['src/**/*.browser.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
