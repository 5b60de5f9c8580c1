import { IntArrayType } from '../platform/db/types';
import { Check, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** The one row of program-wide settings (contract ProgramSettings); defaults from the contract. */
@Entity({ tableName: 'program_settings' })
@Check({ name: 'program_settings_singleton', expression: 'id = 1' })
export class ProgramSettings {
  [OptionalProps]?: 'updatedBy' | 'referralInviterPoints' | 'referralInviteePoints' | 'rewardDailyCap' | 'rewardMonthlyCap' | 'purchaseDailyCap' | 'purchaseMonthlyCap';

  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  @Property({ type: 'decimal', precision: 10, scale: 4 })
  pointsPerCurrencyUnit!: string;

  /** 0: new points never expire. */
  @Property({ type: 'integer' })
  validityDays!: number;

  @Property({ type: IntArrayType, columnType: 'int[]' })
  reminderDays!: number[];

  @Property({ type: 'integer' })
  earnLimitPerHour!: number;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  reviewThresholdAmount!: string;

  @Property({ type: 'integer', fieldName: 'redeem_limit_per_30min' })
  redeemLimitPer30Min!: number;

  @Property({ type: 'integer' })
  maxQuantityPerRedemption!: number;

  /** Referral rewards (issue 7): points for the inviter and for the new member. */
  @Property({ type: 'integer', defaultRaw: '100' })
  referralInviterPoints: number = 100;

  @Property({ type: 'integer', defaultRaw: '50' })
  referralInviteePoints: number = 50;

  /** Earning caps (issue 17): REWARD points (tasks, check-ins, referrals) per member and local day / month; null: none. */
  @Property({ type: 'integer', nullable: true })
  rewardDailyCap: number | null = null;

  @Property({ type: 'integer', nullable: true })
  rewardMonthlyCap: number | null = null;

  /** Earning caps on PURCHASE points per member and local day / month; null: uncapped (the default). */
  @Property({ type: 'integer', nullable: true })
  purchaseDailyCap: number | null = null;

  @Property({ type: 'integer', nullable: true })
  purchaseMonthlyCap: number | null = null;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  @Property({ type: 'text', nullable: true })
  updatedBy: string | null = null;
}

/** Who changed which settings, when, from what to what (issue 6: settings are audited). */
@Entity({ tableName: 'program_settings_audit' })
export class ProgramSettingsAudit {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  changedBy!: string;

  @Property({ type: 'timestamptz' })
  changedAt!: Date;

  /** { field: { from, to } } for every field that changed. */
  @Property({ type: 'jsonb' })
  changes!: Record<string, { from: unknown; to: unknown }>;
}

/** Ledger totals of one local day, written by the stats job once the day is over. */
@Entity({ tableName: 'stats_daily' })
export class StatsDaily {
  /** Local date, YYYY-MM-DD. */
  @PrimaryKey({ type: 'text' })
  day!: string;

  @Property({ type: 'bigint' })
  issued!: string;

  @Property({ type: 'bigint' })
  redeemed!: string;

  @Property({ type: 'bigint' })
  expired!: string;

  @Property({ type: 'timestamptz' })
  computedAt!: Date;
}
