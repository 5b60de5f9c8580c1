import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Decimal } from 'decimal.js';
import { connectionTypes } from '../platform/graphql/connection';
import { MemberType } from '../members/member.types';
import { LedgerEntryStatus, LedgerEntryType } from './ledger.entity';
import type { EarningRule } from './earning-rule.entity';
import type { EntryRow } from './ledger.writer';

registerEnumType(LedgerEntryType, {
  name: 'LedgerEntryType',
  valuesConfig: {
    PURCHASE: { description: 'Points earned by a purchase.' },
    REWARD: { description: 'Points earned by a task, check-in, referral, challenge or campaign.' },
    REDEMPTION: { description: 'Points spent on a redemption.' },
    REFUND: { description: 'Points given back when a redemption is cancelled.' },
    REVERSAL: { description: 'Points taken back when the purchase that earned them is refunded.' },
    EXPIRY: { description: 'Points that reached their expiry date unspent.' },
    ADJUSTMENT: { description: 'A manual correction by an admin.' },
  },
});
registerEnumType(LedgerEntryStatus, {
  name: 'LedgerEntryStatus',
  valuesConfig: { HELD: { description: 'Held for review by a risk rule; not spendable until approved.' } },
});

export enum EarnStatus {
  POSTED = 'POSTED',
  HELD_FOR_REVIEW = 'HELD_FOR_REVIEW',
  /** Added to the contract: a repeated orderId whose held entry a reviewer rejected. */
  REJECTED = 'REJECTED',
}
registerEnumType(EarnStatus, { name: 'EarnStatus' });

@ObjectType('LedgerEntry')
export class LedgerEntryNode {
  @Field(() => ID) id!: string;
  @Field(() => ID) memberId!: string;
  @Field(() => LedgerEntryType) type!: LedgerEntryType;
  @Field(() => LedgerEntryStatus) status!: LedgerEntryStatus;
  @Field(() => Int, { description: 'Signed: positive credits, negative debits.' }) delta!: number;
  @Field(() => Int, { description: "The member's balance right after this entry was posted." }) balanceAfter!: number;
  @Field(() => String, { nullable: true, description: 'Where it came from: an order id, task code, redemption id...' })
  reference!: string | null;
  /** As stored (partner:<id>, admin:<subject>, ...); the `source` field shows it to the viewer (ledger.rules presentSource). */
  rawSource!: string;
  @Field(() => String) description!: string;
  @Field(() => Date, { nullable: true, description: 'For credits: when these points expire (null: never).' }) expiresAt!: Date | null;
  @Field(() => Date) createdAt!: Date;
}

export const { Connection: LedgerEntryConnection } = connectionTypes('LedgerEntry', LedgerEntryNode);

@InputType()
export class LedgerFilter {
  @Field(() => [LedgerEntryType], { nullable: true }) types?: LedgerEntryType[] | null;
  @Field(() => Date, { nullable: true }) since?: Date | null;
  @Field(() => Date, { nullable: true }) until?: Date | null;
}

@ObjectType('ExpiringLot')
export class ExpiringLotType {
  @Field(() => Int) points!: number;
  @Field(() => Date) expiresAt!: Date;
}

@ObjectType('ExpirySummary')
export class ExpirySummaryType {
  @Field(() => Int) points!: number;
  @Field(() => Date, { nullable: true }) earliestExpiry!: Date | null;
  @Field(() => Int, { nullable: true }) daysUntilEarliest!: number | null;
  @Field(() => [ExpiringLotType]) lots!: ExpiringLotType[];
}

@InputType()
export class EarnPointsInput {
  @Field(() => ID) memberId!: string;
  @Field(() => String, { description: "The purchase's order id: earning is idempotent on it." }) orderId!: string;
  @Field(() => Decimal) amount!: Decimal;
  @Field(() => String, { nullable: true, description: 'Product category, used by earning rules.' }) category?: string | null;
  @Field(() => Date, { nullable: true }) occurredAt?: Date | null;
}

@ObjectType('EarnPointsPayload')
export class EarnPointsPayload {
  @Field(() => LedgerEntryNode) entry!: LedgerEntryNode;
  @Field(() => MemberType) member!: MemberType;
  @Field(() => Int) points!: number;
  @Field(() => EarnStatus) status!: EarnStatus;
  @Field(() => Boolean, { description: 'True when this orderId had already been processed; nothing new was posted.' })
  duplicate!: boolean;
}

@InputType()
export class ReverseEarnInput {
  @Field(() => String) orderId!: string;
  @Field(() => String) reason!: string;
  @Field(() => Decimal, { nullable: true, description: "Refunded share of the order's amount; the whole order when absent." })
  amount?: Decimal | null;
  @Field(() => String, {
    nullable: true,
    description: "The partner's id of this refund: a repeated reverseEarn with the same refundId returns the first result. Without it, a repeat with the same orderId and amount does.",
  })
  refundId?: string | null;
}

@ObjectType('ReverseEarnPayload')
export class ReverseEarnPayload {
  @Field(() => LedgerEntryNode) entry!: LedgerEntryNode;
  @Field(() => MemberType) member!: MemberType;
  @Field(() => Int) pointsReversed!: number;
  @Field(() => Int, { description: 'Points that could not be taken back because they were already spent; netted against future earnings.' })
  shortfall!: number;
}

@InputType()
export class AdjustPointsInput {
  @Field(() => ID) memberId!: string;
  @Field(() => Int) delta!: number;
  @Field(() => String) reason!: string;
  @Field(() => String) idempotencyKey!: string;
  @Field(() => Int, { nullable: true, description: 'For a positive adjustment: validity of the new lot in days (default: program setting).' })
  validDays?: number | null;
}

@ObjectType('EarningRule')
export class EarningRuleType {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Float) multiplier!: number;
  @Field(() => Int) bonusPoints!: number;
  @Field(() => Date, { nullable: true }) startsAt!: Date | null;
  @Field(() => Date, { nullable: true }) endsAt!: Date | null;
  @Field(() => [Int], { description: 'ISO weekdays 1..7 on which it applies; empty: every day.' }) weekdays!: number[];
  @Field(() => [String], { description: 'Categories it applies to; empty: all.' }) categories!: string[];
  @Field(() => Boolean) firstOrderOnly!: boolean;
  @Field(() => Int, { nullable: true }) minTierLevel!: number | null;
  @Field(() => [String], { description: 'RFM segments it applies to; empty: everyone.' }) segments!: string[];
  @Field(() => Boolean) active!: boolean;
}

@InputType()
export class EarningRuleInput {
  @Field(() => String) name!: string;
  @Field(() => Float, { nullable: true, defaultValue: 1 }) multiplier!: number;
  @Field(() => Int, { nullable: true, defaultValue: 0 }) bonusPoints!: number;
  @Field(() => Date, { nullable: true }) startsAt?: Date | null;
  @Field(() => Date, { nullable: true }) endsAt?: Date | null;
  @Field(() => [Int], { nullable: true, defaultValue: [] }) weekdays!: number[];
  @Field(() => [String], { nullable: true, defaultValue: [] }) categories!: string[];
  @Field(() => Boolean, { nullable: true, defaultValue: false }) firstOrderOnly!: boolean;
  @Field(() => Int, { nullable: true }) minTierLevel?: number | null;
  @Field(() => [String], { nullable: true, defaultValue: [] }) segments?: string[] | null;
  @Field(() => Boolean, { nullable: true, defaultValue: true }) active!: boolean;
}

@ObjectType('BalanceEvent')
export class BalanceEventType {
  @Field(() => ID) memberId!: string;
  @Field(() => Int) balance!: number;
  @Field(() => Int) delta!: number;
  @Field(() => LedgerEntryNode) entry!: LedgerEntryNode;
  @Field(() => Date) at!: Date;
}

export function toEntryType(row: EntryRow): LedgerEntryNode {
  return Object.assign(new LedgerEntryNode(), {
    id: String(row.id),
    memberId: row.member_id,
    type: row.type,
    status: row.status,
    delta: row.delta,
    balanceAfter: row.balance_after,
    reference: row.reference,
    rawSource: row.source,
    description: row.description,
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    createdAt: new Date(row.created_at),
  });
}

export function toEarningRuleType(rule: EarningRule): EarningRuleType {
  return Object.assign(new EarningRuleType(), {
    id: rule.id,
    name: rule.name,
    multiplier: Number(rule.multiplier),
    bonusPoints: rule.bonusPoints,
    startsAt: rule.startsAt,
    endsAt: rule.endsAt,
    weekdays: rule.weekdays,
    categories: rule.categories,
    firstOrderOnly: rule.firstOrderOnly,
    minTierLevel: rule.minTierLevel,
    segments: rule.segments ?? [],
    active: rule.active,
  });
}
