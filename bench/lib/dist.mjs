// Loads the compiled application (CommonJS under dist/) from the ES-module bench scripts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(ROOT, 'package.json'));

let metadataLoaded = false;

/** require('dist/<path>') — e.g. dist('src/app.js'). The bench always measures the built code. */
export function dist(path) {
  const file = join(ROOT, 'dist', path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run the bench with \`npm run bench -- <suite>\` (it builds first)`);
  if (!metadataLoaded) {
    // The decorators of type-graphql and MikroORM need it before any entity class loads.
    require('reflect-metadata');
    metadataLoaded = true;
  }
  return require(file);
}

/** A package of the project's node_modules, as the project itself resolves it. */
export const projectRequire = require;
