import { TypeInfo, getNamedType, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { MEMBER_OWNED_TYPES } from '../auth/member-access';
import { PUBLIC_FEEDS } from './shared-execution';

/**
 * Whether every socket of a role may share one result of this document: its subscription fields
 * are all public feeds and it selects nothing from a member-owned type (whose private fields
 * depend on who asks, src/auth/member-access.ts). Otherwise results are shared only between
 * sockets of one principal. Looked at over the whole document, fragments included: a fragment the
 * operation does not use can only make the answer stricter. Computed once per cached document.
 */
export function sharedAcrossPrincipals(schema: GraphQLSchema, document: DocumentNode): boolean {
  const subscription = schema.getSubscriptionType();
  const otherRoots = new Set<unknown>([schema.getQueryType(), schema.getMutationType()].filter(Boolean));
  const typeInfo = new TypeInfo(schema);
  let shared = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const type = typeInfo.getType();
        if (parent && ((parent === subscription && !PUBLIC_FEEDS.has(node.name.value)) || otherRoots.has(parent))) shared = false;
        if ((parent && parent.name in MEMBER_OWNED_TYPES) || (type && getNamedType(type).name in MEMBER_OWNED_TYPES)) shared = false;
      },
    }),
  );
  return shared;
}
