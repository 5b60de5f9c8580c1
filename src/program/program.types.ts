import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Decimal } from 'decimal.js';
import type { SettingsValues } from './program.rules';

@ObjectType('ProgramSettings')
export class ProgramSettingsType {
  @Field(() => Float, { description: 'Points per currency unit spent, before multipliers.' }) pointsPerCurrencyUnit!: number;
  @Field(() => Int, { description: 'Validity of newly earned points in days; 0: never expire.' }) validityDays!: number;
  @Field(() => [Int], { description: 'Days before expiry at which members are warned.' }) reminderDays!: number[];
  @Field(() => Int) earnLimitPerHour!: number;
  @Field(() => Decimal) reviewThresholdAmount!: Decimal;
  @Field(() => Int) redeemLimitPer30Min!: number;
  @Field(() => Int) maxQuantityPerRedemption!: number;
  @Field(() => Int, { description: 'Added to the contract: points for a member whose invitee registers.' }) referralInviterPoints!: number;
  @Field(() => Int, { description: 'Added to the contract: points for a member who registers with an invite code.' }) referralInviteePoints!: number;
  @Field(() => Int, { nullable: true, description: 'Added: most REWARD points (tasks, check-ins, challenges, referrals) a member gets per local day; null: no cap.' })
  rewardDailyCap!: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: most REWARD points a member gets per local month; null: no cap.' })
  rewardMonthlyCap!: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: most PURCHASE points a member gets per local day; null (the default): uncapped.' })
  purchaseDailyCap!: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: most PURCHASE points a member gets per local month; null (the default): uncapped.' })
  purchaseMonthlyCap!: number | null;
}

@InputType()
export class ProgramSettingsInput {
  @Field(() => Float, { nullable: true }) pointsPerCurrencyUnit?: number | null;
  @Field(() => Int, { nullable: true }) validityDays?: number | null;
  @Field(() => [Int], { nullable: true }) reminderDays?: number[] | null;
  @Field(() => Int, { nullable: true }) earnLimitPerHour?: number | null;
  @Field(() => Decimal, { nullable: true }) reviewThresholdAmount?: Decimal | null;
  @Field(() => Int, { nullable: true }) redeemLimitPer30Min?: number | null;
  @Field(() => Int, { nullable: true }) maxQuantityPerRedemption?: number | null;
  @Field(() => Int, { nullable: true }) referralInviterPoints?: number | null;
  @Field(() => Int, { nullable: true }) referralInviteePoints?: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: 0 removes the cap.' }) rewardDailyCap?: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: 0 removes the cap.' }) rewardMonthlyCap?: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: 0 removes the cap.' }) purchaseDailyCap?: number | null;
  @Field(() => Int, { nullable: true, description: 'Added: 0 removes the cap.' }) purchaseMonthlyCap?: number | null;
}

@ObjectType('ComplianceReport')
export class ComplianceReportType {
  @Field(() => Boolean) compliant!: boolean;
  @Field(() => [String]) violations!: string[];
}

@ObjectType('HealthCheck', { description: "One of the seeds' business thresholds with its current value; ok is false when its alert would fire." })
export class HealthCheckType {
  @Field(() => String) name!: string;
  @Field(() => Float) value!: number;
  @Field(() => Float) threshold!: number;
  @Field(() => Boolean) ok!: boolean;
}

@ObjectType('ExpiryWarning')
export class ExpiryWarningType {
  @Field(() => ID) memberId!: string;
  @Field(() => Int) points!: number;
  @Field(() => Date) expiresAt!: Date;
  @Field(() => Int) daysLeft!: number;
  @Field(() => String) message!: string;
}

export function toSettingsType(s: SettingsValues): ProgramSettingsType {
  return {
    pointsPerCurrencyUnit: Number(s.pointsPerCurrencyUnit),
    validityDays: s.validityDays,
    reminderDays: s.reminderDays,
    earnLimitPerHour: s.earnLimitPerHour,
    reviewThresholdAmount: new Decimal(s.reviewThresholdAmount),
    redeemLimitPer30Min: s.redeemLimitPer30Min,
    maxQuantityPerRedemption: s.maxQuantityPerRedemption,
    referralInviterPoints: s.referralInviterPoints,
    referralInviteePoints: s.referralInviteePoints,
    rewardDailyCap: s.rewardDailyCap,
    rewardMonthlyCap: s.rewardMonthlyCap,
    purchaseDailyCap: s.purchaseDailyCap,
    purchaseMonthlyCap: s.purchaseMonthlyCap,
  };
}

/** The admins' program dashboard (programStats, programStatsUpdated): ./stats.service.ts computes it. */
@ObjectType('ProgramStats')
export class ProgramStatsType {
  @Field(() => Int) members!: number;
  @Field(() => Int) activeMembers30d!: number;
  @Field(() => BigInt) outstandingPoints!: bigint;
  @Field(() => BigInt) pointsIssued30d!: bigint;
  @Field(() => BigInt) pointsRedeemed30d!: bigint;
  @Field(() => BigInt) pointsExpired30d!: bigint;
  @Field(() => Float, { description: 'Redeemed / issued over 30 days.' }) redemptionRate!: number;
  @Field(() => Float, { description: 'Expired / issued over 30 days.' }) expiryRate!: number;
  @Field(() => Int) redemptions24h!: number;
  @Field(() => Date) at!: Date;
}
