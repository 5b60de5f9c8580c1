import { IntArrayType } from '../platform/db/types';
import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'earning_rule' })
export class EarningRule {
  [OptionalProps]?: 'id' | 'startsAt' | 'endsAt' | 'minTierLevel' | 'segments';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'decimal', precision: 8, scale: 3 })
  multiplier!: string;

  @Property({ type: 'integer' })
  bonusPoints!: number;

  @Property({ type: 'timestamptz', nullable: true })
  startsAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  endsAt: Date | null = null;

  /** ISO weekdays 1..7 in the program's time zone; empty: every day. */
  @Property({ type: IntArrayType, columnType: 'int[]' })
  weekdays!: number[];

  @Property({ type: 'text[]' })
  categories!: string[];

  @Property({ type: 'boolean' })
  firstOrderOnly!: boolean;

  @Property({ type: 'integer', nullable: true })
  minTierLevel: number | null = null;

  /** RFM segment keys it applies to; empty: everyone. */
  @Property({ type: 'text[]', defaultRaw: "'{}'" })
  segments: string[] = [];

  @Property({ type: 'boolean' })
  active!: boolean;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;
}
