import { Arg, Authorized, Ctx, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../context';
import { requireMemberId, Role } from '../auth/principal';
import { BadInputError } from '../platform/errors';
import { boardEntries } from './leaderboard.rules';
import { MAX_BOARD_FIRST, type LeaderboardValue } from './leaderboard.feed';
import { LeaderboardPeriod, LeaderboardType, RankInfoType, RankPointType } from './leaderboard.types';

function boardSize(first: number | null): number {
  const n = first ?? 10;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BOARD_FIRST) throw new BadInputError(`first must be 1 to ${MAX_BOARD_FIRST}`, 'first');
  return n;
}

@Resolver()
export class LeaderboardResolver {
  @Authorized()
  @Query(() => LeaderboardType)
  async leaderboard(
    @Arg('period', () => LeaderboardPeriod, { nullable: true, defaultValue: LeaderboardPeriod.ALL_TIME }) period: LeaderboardPeriod | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number | null,
    @Ctx() ctx: Context,
  ): Promise<LeaderboardType> {
    const kind = period ?? LeaderboardPeriod.ALL_TIME;
    const board = await ctx.services.leaderboard.top(kind, boardSize(first));
    const [members, tiers] = await Promise.all([ctx.loaders.memberById.loadMany(board.entries.map((e) => e.memberId)), ctx.loaders.tiers()]);
    const found = new Map(members.flatMap((m) => (m && !(m instanceof Error) ? [[m.id, m] as const] : [])));
    return { period: kind, entries: boardEntries(board.entries, found, tiers), totalMembers: board.total, updatedAt: board.updatedAt };
  }

  @Authorized(Role.MEMBER)
  @Query(() => RankInfoType, { nullable: true })
  async myRank(
    @Arg('period', () => LeaderboardPeriod, { nullable: true, defaultValue: LeaderboardPeriod.ALL_TIME }) period: LeaderboardPeriod | null,
    @Ctx() ctx: Context,
  ): Promise<RankInfoType | null> {
    const kind = period ?? LeaderboardPeriod.ALL_TIME;
    const rank = await ctx.services.leaderboard.rankOf(kind, ctx.principal.memberId!);
    return rank && { period: kind, ...rank };
  }

  @Authorized(Role.MEMBER)
  @Query(() => [RankPointType], { description: 'One point per local day, oldest first; rank null where unranked or not yet snapshotted.' })
  async rankHistory(
    @Arg('period', () => LeaderboardPeriod, { nullable: true, defaultValue: LeaderboardPeriod.ALL_TIME }) period: LeaderboardPeriod | null,
    @Arg('days', () => Int, { nullable: true, defaultValue: 7 }) days: number | null,
    @Ctx() ctx: Context,
  ): Promise<RankPointType[]> {
    return ctx.services.rankSnapshots.rankHistory(ctx.em, requireMemberId(ctx.principal), period ?? LeaderboardPeriod.ALL_TIME, days ?? 7);
  }

  @Subscription(() => LeaderboardType, {
    description: 'The top of a leaderboard, pushed when it changes (coalesced).',
    subscribe: ({ args, context }: { args: { period?: LeaderboardPeriod | null; first?: number | null }; context: Context }) =>
      context.services.leaderboardFeed.subscribe(args.period ?? LeaderboardPeriod.ALL_TIME, boardSize(args.first ?? 10)),
  })
  leaderboardChanged(
    @Root() board: LeaderboardValue,
    @Arg('period', () => LeaderboardPeriod, { nullable: true, defaultValue: LeaderboardPeriod.ALL_TIME }) _period: LeaderboardPeriod | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) _first: number | null,
  ): LeaderboardType {
    return { ...board, period: board.period as LeaderboardPeriod };
  }
}
