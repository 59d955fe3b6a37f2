import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One graphql module for everything: vite would otherwise load index.mjs for our code while Node loads
  // index.js for yoga and Pothos, and graphql refuses types from 'another realm'.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'schema/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // Each file opens its own database copy; PGlite and PostGIS start in seconds, not milliseconds.
    testTimeout: 60_000,
    // Set-ups that generate fixture populations take minutes on PGlite when the 2 cores are shared.
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
