import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

@Entity({ tableName: 'tier' })
export class Tier {
  [OptionalProps]?: 'id' | 'benefits' | 'keepByRecentSpend' | 'upgradeBonus';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'tier_level_unique' })
  @Property({ type: 'integer' })
  level!: number;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  minSpend!: string;

  /** Kept as an exact decimal: it multiplies money in the earning formula. */
  @Property({ type: 'decimal', precision: 6, scale: 3 })
  multiplier!: string;

  @Property({ type: 'jsonb' })
  benefits: Record<string, unknown> = {};

  /** The seed's LevelProtectionService: 90-day spend of half minSpend also keeps the tier (gold and up by default). */
  @Property({ type: 'boolean', defaultRaw: 'false' })
  keepByRecentSpend: boolean = false;

  /** Points credited once when a member first reaches this tier (the seed's 升级奖励). */
  @Property({ type: 'integer', defaultRaw: '0' })
  upgradeBonus: number = 0;
}
