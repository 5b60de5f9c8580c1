import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Member } from '../members/member.entity';

export enum TierProtectionStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}

/** A member's request to keep its tier for a special reason (the seed's 特殊保级): one per calendar year. */
@Entity({ tableName: 'tier_protection' })
@Unique({ name: 'tier_protection_member_year_unique', properties: ['memberId', 'year'] })
export class TierProtection {
  [OptionalProps]?: 'id' | 'note' | 'reviewedAt' | 'reviewedBy';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  /** Calendar year (program time zone) of the application. */
  @Property({ type: 'integer' })
  year!: number;

  /** The tier held when applying. */
  @Property({ type: 'integer' })
  tierLevel!: number;

  @Enum({ items: () => TierProtectionStatus, type: 'text' })
  status!: TierProtectionStatus;

  @Property({ type: 'text' })
  reason!: string;

  @Property({ type: 'text', nullable: true })
  note: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  reviewedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  reviewedBy: string | null = null;
}

/** An upgrade bonus paid: the primary key makes it once per member and tier. */
@Entity({ tableName: 'tier_reward' })
export class TierReward {
  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @PrimaryKey({ type: 'integer' })
  level!: number;

  @Property({ type: 'bigint', nullable: true })
  entryId: string | null = null;

  @Property({ type: 'timestamptz' })
  rewardedAt!: Date;
}

/** The latest RFM scores of the members active in the last 90 days, as the RFM job computed them. */
@Entity({ tableName: 'member_rfm' })
export class MemberRfm {
  @PrimaryKey({ type: 'uuid' })
  memberId!: string;

  @Property({ type: 'integer' })
  recencyDays!: number;

  @Property({ type: 'integer' })
  frequency!: number;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  monetary!: string;

  @Property({ type: 'integer' })
  r!: number;

  @Property({ type: 'integer' })
  f!: number;

  @Property({ type: 'integer' })
  m!: number;

  @Property({ type: 'text' })
  segment!: string;

  @Property({ type: 'timestamptz' })
  computedAt!: Date;
}

/** Segment history: which segment a member entered when (null: left every segment). */
@Entity({ tableName: 'segment_change' })
@Index({ name: 'segment_change_member_idx', properties: ['memberId', 'changedAt'] })
export class SegmentChange {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'text', nullable: true })
  segment!: string | null;

  @Property({ type: 'text', nullable: true })
  previous!: string | null;

  @Property({ type: 'timestamptz' })
  changedAt!: Date;
}

/** One RFM computation per local day, claimed by the instance that runs it. */
@Entity({ tableName: 'rfm_run' })
export class RfmRun {
  [OptionalProps]?: 'finishedAt' | 'members';

  @PrimaryKey({ type: 'text' })
  day!: string;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  @Property({ type: 'integer', defaultRaw: '0' })
  members: number = 0;
}

/** A reward the earning caps cut (to fewer or 0 points), with why: never silently dropped. */
@Entity({ tableName: 'reward_cap_hit' })
@Index({ name: 'reward_cap_hit_member_idx', properties: ['memberId', 'createdAt'] })
export class RewardCapHit {
  [OptionalProps]?: 'id' | 'reference' | 'type';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  /** REWARD or PURCHASE: the kind of credit the cap cut. */
  @Property({ type: 'text', defaultRaw: "'REWARD'" })
  type: string = 'REWARD';

  @Property({ type: 'uuid' })
  memberId!: string;

  @Property({ type: 'text' })
  source!: string;

  @Property({ type: 'text', nullable: true })
  reference: string | null = null;

  @Property({ type: 'integer' })
  requested!: number;

  @Property({ type: 'integer' })
  granted!: number;

  @Property({ type: 'text' })
  reason!: string;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;
}
