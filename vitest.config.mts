import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // type-graphql is CommonJS and requires graphql/index.js; without this alias the ESM
    // test files would load graphql/index.mjs too ("Duplicate graphql modules").
    alias: { graphql: require.resolve('graphql/index.js') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The browser suite needs Chromium and the built examples: npm run test:browser (vitest.browser.config.mts).
    exclude: ['test/browser/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One fork loads the app's module graph (type-graphql, MikroORM, Apollo: seconds per load) once
    // and runs many files, instead of once per file. Files stay independent: each gets its own
    // database and Redis prefix, and test/support/setup.ts cleans up after each (file-scope.ts).
    isolate: false,
    // The default on 2 cores is one worker (CPUs - 1), but these files mostly wait on PostgreSQL,
    // Redis and sockets, so one fork per core keeps both busy. VITEST_MAX_WORKERS overrides it.
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS ?? 2),
  },
});
