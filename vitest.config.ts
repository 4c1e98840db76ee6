import { defineConfig } from 'vitest/config';

// Test projects: unit (pure logic, simulated devices), integration (the real lavapipe device, child
// processes, servers), e2e (real Chromium through playwright-core). All of them run in `npm test`.
export const config = defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './tests/support/summary-reporter.ts'],
    // The CLI's child-process tests run dist/cli/: built (when stale) before any test starts.
    globalSetup: ['./tests/support/build-setup.ts'],
    environment: 'node',
  },
});

export default config;
