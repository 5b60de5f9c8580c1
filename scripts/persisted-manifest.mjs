#!/usr/bin/env node
// Writes schema/persisted/partner-operations.json from schema/operations/partner/*.graphql, in
// Apollo's persisted query list format, as @apollo/generate-persisted-query-manifest writes it:
// each operation's body is the operation and the fragments it uses, with __typename added to
// every selection set but the root (what Apollo Client's cache adds to the documents it sends),
// and id = sha256 hex of the body. Deterministic: sorted by name, stable printing.
// Part of `npm run codegen`; fails on a duplicate or anonymous operation name.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print, visit } from 'graphql';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'schema', 'operations', 'partner');
const target = join(root, 'schema', 'persisted', 'partner-operations.json');

const TYPENAME = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

function addTypename(definition) {
  return visit(definition, {
    SelectionSet(node, _key, parent) {
      if (parent && parent.kind === Kind.OPERATION_DEFINITION) return undefined;
      if (node.selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias)) return undefined;
      return { ...node, selections: [...node.selections, TYPENAME] };
    },
  });
}

function fragmentsUsed(definition, fragments, seen = new Set()) {
  visit(definition, {
    FragmentSpread(node) {
      const name = node.name.value;
      if (seen.has(name)) return;
      const fragment = fragments.get(name);
      if (!fragment) throw new Error(`fragment ${name} is not defined in schema/operations/partner`);
      seen.add(name);
      fragmentsUsed(fragment, fragments, seen);
    },
  });
  return seen;
}

const documents = readdirSync(source)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => parse(readFileSync(join(source, f), 'utf8')));
const definitions = documents.flatMap((d) => d.definitions);
const fragments = new Map(definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
const operations = [];
const names = new Set();
for (const operation of definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)) {
  const name = operation.name?.value;
  if (!name) throw new Error('every partner operation needs a name');
  if (names.has(name)) throw new Error(`two partner operations are named ${name}`);
  names.add(name);
  const used = [...fragmentsUsed(operation, fragments)].sort().map((n) => fragments.get(n));
  const body = print({ kind: Kind.DOCUMENT, definitions: [operation, ...used].map(addTypename) });
  operations.push({ id: createHash('sha256').update(body).digest('hex'), name, type: operation.operation, body });
}
operations.sort((a, b) => a.name.localeCompare(b.name));
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }, null, 2)}\n`);
process.stdout.write(`${operations.length} partner operations -> ${target.slice(root.length + 1)}\n`);
