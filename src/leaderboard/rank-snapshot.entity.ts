import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Member } from '../members/member.entity';

/** A member's rank on a board at the end of a local day (rankHistory); one row per day, period and member. */
@Entity({ tableName: 'rank_snapshot' })
@Index({ name: 'rank_snapshot_member_idx', properties: ['memberId', 'period', 'day'] })
export class RankSnapshot {
  @PrimaryKey({ type: 'text' })
  period!: string;

  /** Local date, YYYY-MM-DD. */
  @PrimaryKey({ type: 'text' })
  day!: string;

  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'integer' })
  rank!: number;

  @Property({ type: 'integer' })
  score!: number;
}
