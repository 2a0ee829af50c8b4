import { defineConfig } from 'vitest/config';

/** Browser suite: Debian chromium driven by playwright-core (installed by .ci/run). */
export default defineConfig({
  test: {
    include: ['src/**/*.browser.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A page waits on the appliance (a signature checks a password, a record is written) on a box
    // that is also inspecting the demo line: as long as a browser step may take, not vitest's 1 s.
    expect: { poll: { timeout: 15_000 } },
  },
});
