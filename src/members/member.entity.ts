import { randomUUID } from 'node:crypto';
import { Check, Entity, Enum, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

export enum MemberStatus {
  ACTIVE = 'ACTIVE',
  FROZEN = 'FROZEN',
}

@Entity({ tableName: 'member' })
@Index({ name: 'member_joined_at_id_idx', properties: ['joinedAt', 'id'] })
@Index({ name: 'member_last_active_idx', properties: ['lastActiveAt'] })
@Check({ name: 'member_points_check', expression: 'balance >= 0 and points_debt >= 0' })
export class Member {
  [OptionalProps]?: 'id' | 'externalId' | 'status' | 'frozenReason' | 'totalSpend' | 'balance' | 'lifetimeEarned' | 'pointsDebt' | 'language' | 'referredBy' | 'lastActiveAt';

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
}
