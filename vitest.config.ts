import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.spec.ts'],
    exclude: ['node_modules/**', 'bench/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files create their own databases and ports, so they may run in parallel;
    // two workers match the two cores this runs on.
    maxWorkers: 2,
  },
});
