import { IntArrayType } from '../platform/db/types';
import { Check, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** The one row of program-wide settings (contract ProgramSettings); defaults from the contract. */
@Entity({ tableName: 'program_settings' })
@Check({ name: 'program_settings_singleton', expression: 'id = 1' })
export class ProgramSettings {
  [OptionalProps]?: 'updatedBy';

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

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  @Property({ type: 'text', nullable: true })
  updatedBy: string | null = null;
}
