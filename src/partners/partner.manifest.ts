import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Apollo's persisted query list format, as `npm run codegen` writes it (scripts/persisted-manifest.mjs). */
export interface PersistedOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface PersistedManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: PersistedOperation[];
}

export const MANIFEST_PATH = join('schema', 'persisted', 'partner-operations.json');

/** The project root holding the manifest, from src/partners (tests) or dist/src/partners (built). */
function manifestFile(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, MANIFEST_PATH);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${MANIFEST_PATH} not found above ${__dirname}: run npm run codegen`);
  }
}

/**
 * The reviewed partner operations, by id. Read once at start: a call is a Map lookup, and the
 * stored body is parsed and validated only the first time Apollo sees it (its document cache).
 */
export class PersistedOperations {
  private readonly byId: ReadonlyMap<string, PersistedOperation>;

  constructor(manifest: PersistedManifest) {
    if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1) {
      throw new Error('The partner manifest is not an apollo-persisted-query-manifest, version 1');
    }
    this.byId = new Map(manifest.operations.map((op) => [op.id, op]));
  }

  static load(file = manifestFile()): PersistedOperations {
    return new PersistedOperations(JSON.parse(readFileSync(file, 'utf8')) as PersistedManifest);
  }

  get(id: string): PersistedOperation | undefined {
    return this.byId.get(id);
  }

  names(): string[] {
    return [...this.byId.values()].map((op) => op.name);
  }
}
