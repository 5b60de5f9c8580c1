import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { assertMayActFor, isAdmin, requireMemberId, Role } from '../auth/principal';
import { toConnection } from '../platform/graphql/connection';
import { heldTierOf, maskMobile, nextTierProgress, upgradeSpendOf } from './member.rules';
import { currentMember } from './current-member';
import type { MemberRecord } from './member.loaders';
import { MemberConnection, MemberFilter, MemberType, TierInput, TierProgressType, TierType, toMemberType, toTierType } from './member.types';

@Resolver(() => MemberType)
export class MemberResolver {
  // No @Authorized(): every caller that reaches a resolver holds a verified token (HTTP refuses a
  // bad one with 401 before Apollo, graphql-ws at connection_init), and the auth checker would
  // only wrap the signed-in member's hottest read in a middleware chain that always says yes.
  @Query(() => MemberType, { nullable: true, description: 'The signed-in member.' })
  async me(@Ctx() ctx: Context): Promise<MemberType | null> {
    if (ctx.principal.role !== Role.MEMBER || !ctx.principal.memberId) return null;
    const member = await ctx.loaders.memberById.load(ctx.principal.memberId);
    return member && toMemberType(member);
  }

  @Authorized()
  @Query(() => MemberType, { nullable: true, description: 'Admins and partners.' })
  async member(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<MemberType | null> {
    assertMayActFor(ctx.principal, id);
    const member = await ctx.loaders.memberById.load(id);
    return member && toMemberType(member);
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Query(() => MemberType, { nullable: true })
  async memberByExternalId(@Arg('externalId', () => String) externalId: string, @Ctx() ctx: Context): Promise<MemberType | null> {
    const found = await ctx.services.members.findByExternalId(ctx.em, externalId);
    return found && currentMember(ctx, found.id);
  }

  @Authorized(Role.ADMIN)
  @Query(() => MemberConnection, { description: 'Admins.' })
  async members(
    @Arg('filter', () => MemberFilter, { nullable: true }) filter: MemberFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.services.members.list(ctx.em, filter, first, after);
    const records = await ctx.loaders.memberById.loadMany(page.rows.map((m) => m.id));
    const byId = new Map(records.filter((r): r is MemberRecord => !!r && !(r instanceof Error)).map((r) => [r.id, r]));
    const connection = toConnection(
      page.rows,
      page.limit,
      (m) => [m.joinedAt.toISOString(), m.id],
      (m) => toMemberType(byId.get(m.id)!),
    );
    return { ...connection, totalCount: page.totalCount };
  }

  @Authorized()
  @Query(() => [TierType])
  async tiers(@Ctx() ctx: Context): Promise<TierType[]> {
    return (await ctx.loaders.tiers()).map(toTierType);
  }

  @FieldResolver(() => String, { description: 'Masked (138****1234) unless the viewer is this member or an admin.' })
  mobile(@Root() member: MemberType, @Ctx() ctx: Context): string {
    const maySee = isAdmin(ctx.principal) || ctx.principal.memberId === member.id;
    return maySee ? member.rawMobile : maskMobile(member.rawMobile);
  }

  @FieldResolver(() => TierType, { description: 'The tier held: reached by spend, kept a year at a time (see tierStatus).' })
  tier(@Root() member: MemberType, @Ctx() ctx: Context): TierType | Promise<TierType> {
    // From the fresh cached set without a promise; otherwise loaded (once per TTL per instance).
    const held = ctx.services.members.tierCache.heldTier(member.tierLevel);
    if (held) return held;
    return ctx.loaders.tiers().then((tiers) => toTierType(heldTierOf(tiers, member.tierLevel)));
  }

  @FieldResolver(() => TierProgressType, { nullable: true, description: 'Next tier and how far away it is; null at the top tier.' })
  async nextTier(@Root() member: MemberType, @Ctx() ctx: Context): Promise<TierProgressType | null> {
    const next = nextTierProgress(await ctx.loaders.tiers(), upgradeSpendOf(member.totalSpend.toFixed(2), member.tierSpendBase), member.tierLevel);
    return next && { tier: toTierType(next.tier), spendNeeded: next.spendNeeded, progress: next.progress };
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => MemberType)
  async updateProfile(@Arg('nickname', () => String) nickname: string, @Ctx() ctx: Context): Promise<MemberType> {
    return currentMember(ctx, (await ctx.services.members.updateProfile(ctx.em, requireMemberId(ctx.principal), nickname)).id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => MemberType)
  async freezeMember(@Arg('memberId', () => ID) memberId: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: Context) {
    return currentMember(ctx, (await ctx.services.members.setFrozen(ctx.em, memberId, true, reason)).id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => MemberType)
  async unfreezeMember(@Arg('memberId', () => ID) memberId: string, @Ctx() ctx: Context) {
    return currentMember(ctx, (await ctx.services.members.setFrozen(ctx.em, memberId, false)).id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => TierType)
  async upsertTier(@Arg('input', () => TierInput) input: TierInput, @Ctx() ctx: Context): Promise<TierType> {
    return toTierType(await ctx.services.members.upsertTier(ctx.em, input));
  }
}
