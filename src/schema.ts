import 'reflect-metadata';
import { buildSchema, type NonEmptyArray, type PubSub } from 'type-graphql';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { authChecker } from './auth/auth-checker';
import { scalarsMap } from './platform/graphql/scalars';
import { MemberResolver } from './members/member.resolver';
import { LedgerResolver, MemberLedgerResolver } from './ledger/ledger.resolver';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
const RESOLVERS: NonEmptyArray<Function> = [MemberResolver, MemberLedgerResolver, LedgerResolver];

/** A pub/sub that drops everything, for emitting the schema without Redis. */
export const offlinePubSub: PubSub = {
  publish: () => undefined,
  subscribe: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) }),
};

export async function createSchema(pubSub: PubSub = offlinePubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap,
    authChecker,
    authMode: 'error',
    pubSub,
    validate: false,
  });
}

/** The emitted SDL: sorted, so the committed file only changes when the API does. */
export async function printedSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await createSchema()))}\n`;
}
