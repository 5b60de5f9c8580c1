import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../context';
import { isAdmin, requireMemberId, Role } from '../auth/principal';
import { ForbiddenError } from '../platform/errors';
import { MemberType } from '../members/member.types';
import { TIER_CHANGED_TOPIC, type TierChangedPayload } from './lifecycle.topics';
import { ProgramStatsType } from '../program/program.types';
import {
  PointsBySourceType,
  RewardCapsReportType,
  SegmentStatsType,
  TierProtectionApplicationType,
  TierStatusType,
  tierStatusFromPayload,
  toProtectionType,
  toTierStatusType,
} from './lifecycle.types';

/** Private to the member and admins: src/auth/member-access.ts guards these fields (other members, and partners through hiddenFromPartners). */
@Resolver(() => MemberType)
export class MemberLifecycleResolver {
  @FieldResolver(() => TierStatusType, { description: 'Tier validity, keeping and grace (the member and admins).' })
  async tierStatus(@Root() member: MemberType, @Ctx() ctx: Context): Promise<TierStatusType> {
    return toTierStatusType(await ctx.services.tiers.status(ctx.em, member.id));
  }

  @FieldResolver(() => [TierProtectionApplicationType], { description: "The member's tier protection applications, newest first." })
  async tierProtections(@Root() member: MemberType, @Ctx() ctx: Context): Promise<TierProtectionApplicationType[]> {
    return (await ctx.services.tiers.protections(ctx.em, member.id)).map(toProtectionType);
  }

  @FieldResolver(() => String, { nullable: true, description: 'RFM segment over the last 90 days; null without purchases in that window (the member and admins).' })
  segment(@Root() member: MemberType, @Ctx() _ctx: Context): string | null {
    return member.rawSegment;
  }
}

/** Added to ProgramStats (admins): points given away by source against the earning caps. Computed only when asked for. */
@Resolver(() => ProgramStatsType)
export class ProgramStatsCapsResolver {
  @FieldResolver(() => RewardCapsReportType, { description: 'Added: the earning caps and what they held back in the last 30 days (admins).' })
  async rewardCaps(@Ctx() ctx: Context): Promise<RewardCapsReportType> {
    if (!isAdmin(ctx.principal)) throw new ForbiddenError('Admins only');
    const { bySource: _, purchases: __, ...report } = await ctx.services.caps.report(ctx.em);
    return report;
  }

  @FieldResolver(() => RewardCapsReportType, { description: 'Added: the purchase caps (uncapped by default) and what they held back in the last 30 days (admins).' })
  async purchaseCaps(@Ctx() ctx: Context): Promise<RewardCapsReportType> {
    if (!isAdmin(ctx.principal)) throw new ForbiddenError('Admins only');
    return (await ctx.services.caps.report(ctx.em)).purchases;
  }

  @FieldResolver(() => [PointsBySourceType], { description: 'Added: points given away in the last 30 days, by source (admins).' })
  async pointsIssuedBySource30d(@Ctx() ctx: Context): Promise<PointsBySourceType[]> {
    if (!isAdmin(ctx.principal)) throw new ForbiddenError('Admins only');
    return (await ctx.services.caps.report(ctx.em)).bySource;
  }
}

@Resolver()
export class LifecycleResolver {
  @Authorized(Role.MEMBER)
  @Mutation(() => TierProtectionApplicationType, { description: 'A member asks to keep its tier for a special reason; once per calendar year.' })
  async applyTierProtection(@Arg('reason', () => String) reason: string, @Ctx() ctx: Context): Promise<TierProtectionApplicationType> {
    return toProtectionType(await ctx.services.tiers.applyProtection(ctx.em, requireMemberId(ctx.principal), reason));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => TierProtectionApplicationType)
  async reviewTierProtection(
    @Arg('id', () => ID) id: string,
    @Arg('approve', () => Boolean) approve: boolean,
    @Arg('note', () => String, { nullable: true }) note: string | null,
    @Ctx() ctx: Context,
  ): Promise<TierProtectionApplicationType> {
    return toProtectionType(await ctx.services.tiers.reviewProtection(ctx.em, id, approve, note, ctx.principal.subject));
  }

  @Authorized(Role.ADMIN)
  @Query(() => [SegmentStatsType], { description: 'Admins: RFM segments.' })
  async segments(@Ctx() ctx: Context): Promise<SegmentStatsType[]> {
    return ctx.services.segments.stats(ctx.em);
  }

  @Subscription(() => TierStatusType, {
    description: "The signed-in member's tier changes (upgrade, grace, downgrade, protection).",
    topics: TIER_CHANGED_TOPIC,
    topicId: ({ context }: { context: Context }) => requireMemberId(context.principal),
  })
  tierChanged(@Root() payload: TierChangedPayload): TierStatusType {
    return tierStatusFromPayload(payload);
  }
}
