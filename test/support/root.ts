import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root, from test/support (vitest) or dist/test/support (compiled for `npm run chaos`). */
export const ROOT = existsSync(join(__dirname, '..', '..', 'package.json')) ? join(__dirname, '..', '..') : join(__dirname, '..', '..', '..');

/**
 * A compiled file a test runs as an operator would (`node dist/...`). CI builds before testing;
 * a missing build fails the test with the command to run, never skips it silently.
 */
export function requireBuilt(relativePath: string): string {
  const file = join(ROOT, relativePath);
  if (!existsSync(file)) throw new Error(`${relativePath} is missing: run \`npm run build\` before the tests (CI does)`);
  return file;
}
