import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { printedSchema } from '../schema';

/** Writes schema/schema.graphql from the code (run by the build). */
async function run() {
  const target = resolve(process.argv[2] ?? 'schema/schema.graphql');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, await printedSchema());
}

run().catch((error: unknown) => {
  process.stderr.write(`schema emit failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
