import { getOperationAST, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import manifest from '../../schema/persisted/partner-operations.json';
import type { GraphQLResponse, TestApp } from './app';
import { tokens } from './tokens';

/** The reviewed partner operations by name, from the generated manifest. */
export const partnerOperationIds: Record<string, string> = Object.fromEntries(manifest.operations.map((op) => [op.name, op.id]));

export function operationName(document: DocumentNode): string {
  const name = getOperationAST(document)?.name?.value;
  if (!name) throw new Error('a typed document with one named operation is expected');
  return name;
}

/** Raw POST /partner/graphql with any body (tests of refusals). */
export async function partnerPost(api: TestApp, body: unknown, token: string | null = tokens.partner()): Promise<GraphQLResponse & { headers: Headers }> {
  const res = await fetch(`${api.url}/partner/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { ...((await res.json()) as GraphQLResponse), status: res.status, headers: res.headers };
}

/** Runs a generated partner operation by its manifest id, as a partner's server would. */
export async function partnerCall<TData, TVariables>(
  api: TestApp,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  token: string = tokens.partner(),
): Promise<GraphQLResponse<TData>> {
  const id = partnerOperationIds[operationName(document)];
  if (!id) throw new Error(`${operationName(document)} is not in the partner manifest`);
  return partnerPost(api, { variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } }, token) as Promise<GraphQLResponse<TData>>;
}
