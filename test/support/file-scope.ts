/**
 * What a test file leaves behind (its apps, its database) is cleaned up when that file ends, by the
 * afterAll that test/support/setup.ts registers in every file. Support modules are loaded once per
 * worker (vitest.config.mts: isolate false), so they cannot register their own afterAll at import.
 */
const cleanups: (() => Promise<void>)[] = [];

/** Runs `cleanup` when the current test file ends (last registered, first run). */
export function onFileEnd(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export async function endFile(): Promise<void> {
  const errors: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length) throw new AggregateError(errors, 'cleaning up after the test file failed');
}
