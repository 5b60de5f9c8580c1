import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Decimal } from 'decimal.js';
import { BigIntScalar } from '../platform/graphql/scalars';
import { TierType, toTierType } from '../members/member.types';
import type { TierView } from '../members/tier.cache';
import { TierProtectionStatus, type TierProtection } from './lifecycle.entity';
import type { TierStatusValue } from './tier.rules';
import type { TierChangedPayload } from './lifecycle.topics';

registerEnumType(TierProtectionStatus, { name: 'TierProtectionStatus' });

@ObjectType('TierStatus')
export class TierStatusType {
  @Field(() => TierType) tier!: TierType;
  @Field(() => Date, { nullable: true, description: 'End of the current tier year; null for the lowest tier.' }) validUntil!: Date | null;
  @Field(() => Decimal, { description: 'Spend counted toward keeping the tier (last 12 months).' }) qualifyingSpend!: Decimal;
  @Field(() => Decimal, { description: 'Spend still needed by the end of validUntil to keep the tier; 0 when already kept.' }) keepSpend!: Decimal;
  @Field(() => Boolean) inGrace!: boolean;
  @Field(() => Date, { nullable: true }) graceUntil!: Date | null;
  @Field(() => Date, { nullable: true }) protectedUntil!: Date | null;
}

@ObjectType('TierProtectionApplication')
export class TierProtectionApplicationType {
  @Field(() => ID) id!: string;
  @Field(() => TierProtectionStatus) status!: TierProtectionStatus;
  @Field(() => String) reason!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) reviewedAt!: Date | null;
  @Field(() => String, { nullable: true }) note!: string | null;
}

@ObjectType('SegmentStats')
export class SegmentStatsType {
  @Field(() => String) name!: string;
  @Field(() => Int) members!: number;
  @Field(() => Decimal) averageSpend!: Decimal;
  @Field(() => Float, { description: 'Share (0..1) of the points earned in the last 90 days.' }) pointsShare!: number;
}

@ObjectType('PointsBySource')
export class PointsBySourceType {
  @Field(() => String, { description: 'purchase, adjustment, or the source of REWARD credits (system:rewards, system:referral, system:tier).' }) source!: string;
  @Field(() => BigIntScalar) points!: string;
}

@ObjectType('RewardCapsReport')
export class RewardCapsReportType {
  @Field(() => Int, { nullable: true }) dailyCap!: number | null;
  @Field(() => Int, { nullable: true }) monthlyCap!: number | null;
  @Field(() => Int, { description: 'Credits (rewards, or purchases in purchaseCaps) the caps cut in the last 30 days.' }) capped30d!: number;
  @Field(() => Int, { description: 'Points the caps held back in the last 30 days.' }) pointsCapped30d!: number;
}

export function toTierStatusType(status: TierStatusValue<TierView>): TierStatusType {
  return Object.assign(new TierStatusType(), {
    tier: toTierType(status.tier),
    validUntil: status.validUntil,
    qualifyingSpend: status.qualifyingSpend,
    keepSpend: status.keepSpend,
    inGrace: status.inGrace,
    graceUntil: status.graceUntil,
    protectedUntil: status.protectedUntil,
  });
}

export function tierStatusFromPayload(p: TierChangedPayload): TierStatusType {
  const date = (s: string | null) => (s ? new Date(s) : null);
  return Object.assign(new TierStatusType(), {
    tier: toTierType(p.tier),
    validUntil: date(p.validUntil),
    qualifyingSpend: new Decimal(p.qualifyingSpend),
    keepSpend: new Decimal(p.keepSpend),
    inGrace: p.inGrace,
    graceUntil: date(p.graceUntil),
    protectedUntil: date(p.protectedUntil),
  });
}

export function toProtectionType(p: TierProtection): TierProtectionApplicationType {
  return Object.assign(new TierProtectionApplicationType(), { id: p.id, status: p.status, reason: p.reason, createdAt: p.createdAt, reviewedAt: p.reviewedAt, note: p.note });
}
