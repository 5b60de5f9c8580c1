import { currentFirst } from '../realtime/current-first';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../context';
import { isAdmin, requireMemberId, Role } from '../auth/principal';
import { BadInputError } from '../platform/errors';
import { toConnection } from '../platform/graphql/connection';
import { MemberType } from '../members/member.types';
import { currentMember } from '../members';
import { DEFAULT_EXPIRY_WINDOW_DAYS, expiryWindowProblem, expirySummary, presentSource } from './ledger.rules';
import { type BalanceEventPayload } from './ledger.topics';
import {
  AdjustPointsInput,
  BalanceEventType,
  EarningRuleInput,
  EarningRuleType,
  EarnPointsInput,
  EarnPointsPayload,
  EarnStatus,
  ExpirySummaryType,
  LedgerEntryConnection,
  LedgerEntryNode,
  LedgerFilter,
  ReverseEarnInput,
  ReverseEarnPayload,
  toEarningRuleType,
  toEntryType,
} from './ledger.types';

@Resolver()
export class LedgerResolver {
  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => EarnPointsPayload)
  async earnPoints(@Arg('input', () => EarnPointsInput) input: EarnPointsInput, @Ctx() ctx: Context): Promise<EarnPointsPayload> {
    const result = await ctx.services.ledger.earn(ctx.em, ctx.principal, input);
    return { entry: toEntryType(result.entry), member: await currentMember(ctx, result.memberId), points: result.points, status: result.status as EarnStatus, duplicate: result.duplicate };
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => ReverseEarnPayload)
  async reverseEarn(@Arg('input', () => ReverseEarnInput) input: ReverseEarnInput, @Ctx() ctx: Context): Promise<ReverseEarnPayload> {
    const result = await ctx.services.ledger.reverse(ctx.em, ctx.principal, input);
    return { entry: toEntryType(result.entry), member: await currentMember(ctx, result.memberId), pointsReversed: result.pointsReversed, shortfall: result.shortfall };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => LedgerEntryNode)
  async adjustPoints(@Arg('input', () => AdjustPointsInput) input: AdjustPointsInput, @Ctx() ctx: Context): Promise<LedgerEntryNode> {
    return toEntryType(await ctx.services.ledger.adjust(ctx.em, ctx.principal, input));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => LedgerEntryNode)
  async approveHeldEntry(@Arg('entryId', () => ID) entryId: string, @Ctx() ctx: Context): Promise<LedgerEntryNode> {
    return toEntryType(await ctx.services.ledger.approveHeld(ctx.em, entryId));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => LedgerEntryNode)
  async rejectHeldEntry(@Arg('entryId', () => ID) entryId: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: Context): Promise<LedgerEntryNode> {
    return toEntryType(await ctx.services.ledger.rejectHeld(ctx.em, entryId, reason));
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Query(() => [EarningRuleType])
  async earningRules(@Ctx() ctx: Context): Promise<EarningRuleType[]> {
    return (await ctx.services.earningRules.list(ctx.em)).map(toEarningRuleType);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => EarningRuleType)
  async createEarningRule(@Arg('input', () => EarningRuleInput) input: EarningRuleInput, @Ctx() ctx: Context): Promise<EarningRuleType> {
    return toEarningRuleType(await ctx.services.earningRules.create(ctx.em, input));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => EarningRuleType)
  async updateEarningRule(@Arg('id', () => ID) id: string, @Arg('input', () => EarningRuleInput) input: EarningRuleInput, @Ctx() ctx: Context): Promise<EarningRuleType> {
    return toEarningRuleType(await ctx.services.earningRules.update(ctx.em, id, input));
  }

  @Subscription(() => BalanceEventType, {
    description: "The signed-in member's balance changes, as they are posted.",
    // One Redis channel per member; only a member may subscribe, and only to itself. The first event
    // is the current balance (delta 0): a client that reconnects, or missed a push lost in a crash
    // between commit and publish, starts from the ledger's truth.
    subscribe: ({ context }: { context: Context }) => {
      const memberId = requireMemberId(context.principal);
      return currentFirst(context.services.events.balanceEvents(memberId), () => context.services.ledger.currentBalanceEvent(context.em, memberId));
    },
  })
  balanceChanged(@Root() event: BalanceEventPayload): BalanceEventType {
    return { memberId: event.memberId, balance: event.balance, delta: event.delta, at: new Date(event.at), entry: toEntryType(event.entry) };
  }
}

@Resolver(() => MemberType)
export class MemberLedgerResolver {
  @FieldResolver(() => ExpirySummaryType)
  async expiringPoints(
    @Root() member: MemberType,
    @Arg('withinDays', () => Int, { nullable: true, defaultValue: DEFAULT_EXPIRY_WINDOW_DAYS }) withinDays: number | null,
    @Ctx() ctx: Context,
  ): Promise<ExpirySummaryType> {
    const days = withinDays ?? DEFAULT_EXPIRY_WINDOW_DAYS;
    const problem = expiryWindowProblem(days);
    if (problem) throw new BadInputError(problem, 'withinDays');
    const lots = await ctx.loaders.liveLots.load(member.id);
    return expirySummary(
      lots.map((l) => ({ remaining: l.remaining, expiresAt: l.expires_at && new Date(l.expires_at) })),
      ctx.clock.now(),
      days,
    );
  }

  @FieldResolver(() => LedgerEntryConnection)
  async ledger(
    @Root() member: MemberType,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => LedgerFilter, { nullable: true }) filter: LedgerFilter | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.loaders.ledgerPage.load({ ownerId: member.id, args: { filter, first, after } });
    return toConnection(page.rows, page.limit, (e) => [String(e.id)], toEntryType);
  }
}

@Resolver(() => LedgerEntryNode)
export class LedgerEntryResolver {
  @FieldResolver(() => String, { description: "Who posted it: a partner's display name, 'admin', 'member' or system:<job>; admins see the stored value (partner:<id>, admin:<id>, ...)." })
  source(@Root() entry: LedgerEntryNode, @Ctx() ctx: Context): string {
    return presentSource(entry.rawSource, isAdmin(ctx.principal), (id) => ctx.config.partners.byId[id]?.name);
  }
}
