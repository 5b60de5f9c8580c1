import { randomUUID } from 'node:crypto';
import { Check, Entity, Enum, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

export enum MemberStatus {
  ACTIVE = 'ACTIVE',
  FROZEN = 'FROZEN',
}

@Entity({ tableName: 'member' })
@Index({ name: 'member_joined_at_id_idx', properties: ['joinedAt', 'id'] })
@Index({ name: 'member_last_active_idx', properties: ['lastActiveAt'] })
@Index({
  name: 'member_tier_due_idx',
  properties: ['tierValidUntil', 'id'],
  expression: 'create index "member_tier_due_idx" on "member" ("tier_valid_until", "id") where "tier_grace_until" is null and "tier_valid_until" is not null',
})
@Index({
  name: 'member_tier_grace_idx',
  properties: ['tierGraceUntil', 'id'],
  expression: 'create index "member_tier_grace_idx" on "member" ("tier_grace_until", "id") where "tier_grace_until" is not null',
})
@Index({ name: 'member_segment_idx', properties: ['segment'], expression: 'create index "member_segment_idx" on "member" ("segment") where "segment" is not null' })
@Check({ name: 'member_points_check', expression: 'balance >= 0 and points_debt >= 0' })
export class Member {
  [OptionalProps]?:
    | 'id'
    | 'externalId'
    | 'status'
    | 'frozenReason'
    | 'totalSpend'
    | 'balance'
    | 'lifetimeEarned'
    | 'pointsDebt'
    | 'language'
    | 'referredBy'
    | 'lastActiveAt'
    | 'tierLevel'
    | 'tierValidUntil'
    | 'tierGraceUntil'
    | 'tierGraceWarned'
    | 'tierProtectedUntil'
    | 'tierSpendBase'
    | 'segment';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'member_external_id_unique' })
  @Property({ type: 'text', nullable: true })
  externalId: string | null = null;

  @Property({ type: 'text' })
  nickname!: string;

  /** Normalized 11-digit mainland mobile number. */
  @Unique({ name: 'member_mobile_unique' })
  @Property({ type: 'text' })
  mobile!: string;

  @Enum({ items: () => MemberStatus, type: 'text' })
  status: MemberStatus = MemberStatus.ACTIVE;

  @Property({ type: 'text', nullable: true })
  frozenReason: string | null = null;

  /** Lifetime purchase amount; the tier is derived from it (contract: tiers by lifetime spend). */
  @Property({ type: 'decimal', precision: 14, scale: 2, defaultRaw: '0' })
  totalSpend: string = '0.00';

  /** Cached sum of unexpired lots, kept in the same transaction as every posting. */
  @Property({ type: 'integer' })
  balance: number = 0;

  @Property({ type: 'integer' })
  lifetimeEarned: number = 0;

  /** Points a reversal could not take back because they were spent; the next earnings pay it first. */
  @Property({ type: 'integer' })
  pointsDebt: number = 0;

  @Unique({ name: 'member_invite_code_unique' })
  @Property({ type: 'text' })
  inviteCode!: string;

  /** BCP-47-ish language of notifications and messages; Chinese unless the member says otherwise. */
  @Property({ type: 'text' })
  language: string = 'zh';

  @Property({ type: 'uuid', nullable: true })
  referredBy: string | null = null;

  @Property({ type: 'timestamptz' })
  joinedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  lastActiveAt: Date | null = null;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  /** The tier held (issue 17): set by upgrades and the tier evaluation, never by a refund. */
  @Property({ type: 'integer', defaultRaw: '1' })
  tierLevel: number = 1;

  /** End of the tier year; null at the lowest tier. */
  @Property({ type: 'timestamptz', nullable: true })
  tierValidUntil: Date | null = null;

  /** Set while the tier is kept in grace after a year that did not keep it. */
  @Property({ type: 'timestamptz', nullable: true })
  tierGraceUntil: Date | null = null;

  /** The "30 days left in grace" notice was sent. */
  @Property({ type: 'boolean', defaultRaw: 'false' })
  tierGraceWarned: boolean = false;

  /** Tier kept by an approved protection application until then. */
  @Property({ type: 'timestamptz', nullable: true })
  tierProtectedUntil: Date | null = null;

  /** Lifetime spend that no longer counts toward upgrades (set when a tier is lowered). */
  @Property({ type: 'decimal', precision: 14, scale: 2, defaultRaw: '0' })
  tierSpendBase: string = '0.00';

  /** Current RFM segment key; null without purchases in the last 90 days. */
  @Property({ type: 'text', nullable: true })
  segment: string | null = null;
}
