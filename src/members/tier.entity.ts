import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

@Entity({ tableName: 'tier' })
export class Tier {
  [OptionalProps]?: 'id' | 'benefits';

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
}
