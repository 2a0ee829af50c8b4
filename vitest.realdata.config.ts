import { defineConfig } from 'vitest/config';

/** Interoperability suite: third-party models and photos read in place from ../shared/realdata. */
export default defineConfig({
  test: {
    include: ['src/**/*.realdata.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
