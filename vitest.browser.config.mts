import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// npm run test:browser: the examples in the system's Chromium (README, "Browsers and the examples").
// One file, one server, a few pages: the suite stays well under a minute. Standalone on purpose:
// merging with vitest.config.mts would concatenate the include lists and run everything.
export default defineConfig({
  resolve: { alias: { graphql: require.resolve('graphql/index.js') } },
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
