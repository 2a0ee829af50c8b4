import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The realdata suite reads ../shared and runs in CI only (npm run test:realdata).
    exclude: ['src/**/*.realdata.test.ts', 'src/**/*.browser.test.ts', 'src/**/*.camera.test.ts', 'src/**/*.line.test.ts', 'src/**/*.durability.test.ts', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
