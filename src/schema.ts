import 'reflect-metadata';
import { buildSchema, type NonEmptyArray, type PubSub } from 'type-graphql';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { authChecker } from './auth/auth-checker';
import { guardMemberOwnedFields } from './auth/member-access';
import { BigIntScalar, scalarsMap } from './platform/graphql/scalars';
import { MemberResolver } from './members/member.resolver';
import { LedgerEntryResolver, LedgerResolver, MemberLedgerResolver } from './ledger/ledger.resolver';
import { CatalogResolver, MemberCatalogResolver, RedeemPayloadResolver, RedemptionResolver } from './catalog/catalog.resolver';
import { NotificationResolver } from './notifications/notification.resolver';
import { LeaderboardResolver } from './leaderboard/leaderboard.resolver';
import type { LeaderboardValue } from './leaderboard/leaderboard.feed';
import { ProgramResolver } from './program/program.resolver';
import { ProgramStatsResolver } from './program/stats.resolver';
import { TasksResolver } from './tasks/tasks.resolver';
import { ExperimentResolver } from './experiments/experiment.resolver';
import { RecommendationResolver } from './recommendations/recommendation.resolver';
import { PartnerResolver } from './partners/partner.resolver';
import { LifecycleResolver, MemberLifecycleResolver, ProgramStatsCapsResolver } from './lifecycle/lifecycle.resolver';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
const RESOLVERS: NonEmptyArray<Function> = [
  MemberResolver,
  MemberLedgerResolver,
  LedgerResolver,
  LedgerEntryResolver,
  CatalogResolver,
  RedemptionResolver,
  RedeemPayloadResolver,
  MemberCatalogResolver,
  NotificationResolver,
  LeaderboardResolver,
  ProgramResolver,
  ProgramStatsResolver,
  TasksResolver,
  ExperimentResolver,
  RecommendationResolver,
  PartnerResolver,
  MemberLifecycleResolver,
  LifecycleResolver,
  ProgramStatsCapsResolver,
];

/** A pub/sub that drops everything, for emitting the schema without Redis. */
export const offlinePubSub: PubSub = {
  publish: () => undefined,
  subscribe: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) }),
};

export async function createSchema(pubSub: PubSub = offlinePubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    scalarsMap,
    authChecker,
    authMode: 'error',
    pubSub,
    validate: false,
  });
  // The contract declares every scalar even where no field uses it yet (BigInt): keep them all.
  const config = schema.toConfig();
  const missing = [BigIntScalar].filter((scalar) => !schema.getType(scalar.name));
  const complete = missing.length ? new GraphQLSchema({ ...config, types: [...config.types, ...missing] }) : schema;
  // Field-level access: another member's private fields are FORBIDDEN to a member token.
  return resolveBoardsAtOnce(guardMemberOwnedFields(complete));
}

/**
 * type-graphql resolves a field with @Arg parameters through a promise (its argument validation is
 * an async function, even with `validate: false`). leaderboardChanged's handler only hands on the
 * board its feed computed (its body is synchronous), and a promise there would make each board event a microtask per socket
 * instead of one synchronous execution shared by all of them (realtime/shared-execution.ts,
 * issue 14's fan-out). Its arguments are the feed's (read by `subscribe`), not the resolver's.
 */
function resolveBoardsAtOnce(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getSubscriptionType()?.getFields().leaderboardChanged;
  // The handler itself, called synchronously (looked up per call: a test counts its calls).
  if (field) field.resolve = (board: LeaderboardValue) => LeaderboardResolver.prototype.leaderboardChanged(board, null, null);
  return schema;
}

/** The emitted SDL: sorted, so the committed file only changes when the API does. */
export async function printedSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await createSchema()))}\n`;
}
