import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root, from test/support (vitest) or dist/test/support (compiled for `npm run chaos`). */
export const ROOT = existsSync(join(__dirname, '..', '..', 'package.json')) ? join(__dirname, '..', '..') : join(__dirname, '..', '..', '..');
