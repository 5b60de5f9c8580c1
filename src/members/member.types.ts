import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Decimal } from 'decimal.js';
import { JSONScalar } from '../platform/graphql/scalars';
import { connectionTypes } from '../platform/graphql/connection';
import { MemberStatus } from './member.entity';
import type { MemberRecord } from './member.loaders';
import type { Tier } from './tier.entity';

registerEnumType(MemberStatus, { name: 'MemberStatus' });

// simpleResolvers (issue 14): plain data fields are read straight off the object, without
// type-graphql's middleware chain; neither type has @Authorized or middleware on a field, and the
// member-access rule (auth/member-access.ts) wraps Member's private fields on the built schema.
@ObjectType('Tier', { simpleResolvers: true })
export class TierType {
  @Field(() => ID) id!: string;
  @Field(() => Int) level!: number;
  @Field(() => String) name!: string;
  @Field(() => Decimal, { description: 'Lifetime spend that reaches this tier.' }) minSpend!: Decimal;
  @Field(() => Float, { description: 'Points multiplier applied to purchase earnings.' }) multiplier!: number;
  @Field(() => JSONScalar) benefits!: Record<string, unknown>;
  @Field(() => Boolean, { description: 'Added: 90-day spend of half minSpend also keeps this tier (the seed keeps gold and up this way).' })
  keepByRecentSpend!: boolean;
  @Field(() => Int, { description: 'Added: points credited once when a member first reaches this tier.' })
  upgradeBonus!: number;
}

@ObjectType('TierProgress')
export class TierProgressType {
  @Field(() => TierType) tier!: TierType;
  @Field(() => Decimal) spendNeeded!: Decimal;
  @Field(() => Float, { description: "0..1 of the way from the current tier's minSpend to the next one's." })
  progress!: number;
}

/**
 * The contract's Member. Fields that need the viewer or other tables (mobile, tier, nextTier,
 * and the ledger's, catalog's fields) are resolved by field resolvers from `raw`.
 */
@ObjectType('Member', { simpleResolvers: true })
export class MemberType {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) externalId!: string | null;
  @Field(() => String) nickname!: string;
  @Field(() => MemberStatus) status!: MemberStatus;
  @Field(() => Int, { description: 'Spendable points now: the sum of unexpired lots.' }) balance!: number;
  @Field(() => Int) lifetimeEarned!: number;
  @Field(() => Decimal) totalSpend!: Decimal;
  @Field(() => String) inviteCode!: string;
  @Field(() => Date) joinedAt!: Date;
  @Field(() => Date, { nullable: true }) lastActiveAt!: Date | null;
  /** Unmasked mobile, never exposed directly: see MemberResolver.mobile. */
  rawMobile!: string;
  /** The held tier's level and the spend base of upgrades: see MemberResolver.tier / nextTier. */
  tierLevel!: number;
  tierSpendBase!: string;
  /** Private to the member and admins: resolved by the lifecycle's Member.segment. */
  rawSegment!: string | null;
}

export const { Connection: MemberConnection } = connectionTypes('Member', MemberType, { totalCount: true });

@InputType()
export class RegisterMemberInput {
  @Field(() => String) mobile!: string;
  @Field(() => String) nickname!: string;
  @Field(() => String, { nullable: true }) externalId?: string | null;
  @Field(() => String, { nullable: true, description: 'Invite code of the member who referred this one; both are rewarded.' })
  inviteCode?: string | null;
}

@InputType()
export class MemberFilter {
  @Field(() => MemberStatus, { nullable: true }) status?: MemberStatus | null;
  @Field(() => Int, { nullable: true }) tierLevel?: number | null;
  @Field(() => String, { nullable: true, description: 'Matches nickname, externalId or the full mobile number.' })
  search?: string | null;
}

@InputType()
export class TierInput {
  @Field(() => Int) level!: number;
  @Field(() => String) name!: string;
  @Field(() => Decimal) minSpend!: Decimal;
  @Field(() => Float) multiplier!: number;
  @Field(() => JSONScalar, { nullable: true }) benefits?: Record<string, unknown> | null;
  @Field(() => Boolean, { nullable: true, description: 'Added: keep by 90-day spend of half minSpend; new tiers default to level >= 3.' })
  keepByRecentSpend?: boolean | null;
  @Field(() => Int, { nullable: true, description: 'Added: points credited once per member reaching this tier; default 0.' })
  upgradeBonus?: number | null;
}

export function toMemberType(member: MemberRecord): MemberType {
  return Object.assign(new MemberType(), {
    id: member.id,
    externalId: member.externalId,
    nickname: member.nickname,
    status: member.status,
    balance: member.balance,
    lifetimeEarned: member.lifetimeEarned,
    totalSpend: new Decimal(member.totalSpend),
    inviteCode: member.inviteCode,
    joinedAt: member.joinedAt,
    lastActiveAt: member.lastActiveAt,
    rawMobile: member.mobile,
    tierLevel: member.tierLevel,
    tierSpendBase: member.tierSpendBase,
    rawSegment: member.segment,
  });
}

export function toTierType(tier: Pick<Tier, 'id' | 'level' | 'name' | 'minSpend' | 'multiplier' | 'benefits' | 'keepByRecentSpend' | 'upgradeBonus'>): TierType {
  return Object.assign(new TierType(), {
    id: tier.id,
    level: tier.level,
    name: tier.name,
    minSpend: new Decimal(tier.minSpend),
    multiplier: Number(tier.multiplier),
    benefits: tier.benefits ?? {},
    keepByRecentSpend: tier.keepByRecentSpend,
    upgradeBonus: tier.upgradeBonus,
  });
}
