import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { PointsLot } from '../ledger/ledger.entity';

/**
 * A lot warned at a threshold. The primary key is the guarantee that a lot is never warned
 * twice at the same threshold, however often and on however many instances the job runs.
 */
@Entity({ tableName: 'expiry_warning' })
@Index({ name: 'expiry_warning_member_idx', properties: ['memberId', 'warnedAt'] })
export class ExpiryWarningSent {
  @ManyToOne(() => PointsLot, { primary: true, mapToPk: true, fieldName: 'lot_id', deleteRule: 'restrict', updateRule: 'restrict' })
  lotId!: string;

  /** Days before expiry (one of the program's reminderDays). */
  @PrimaryKey({ type: 'integer' })
  threshold!: number;

  /** The lot's member, copied for per-member reads; the lot's own key already guards integrity (and a second check per claim halves the job's speed). */
  @Property({ type: 'uuid' })
  memberId!: string;

  @Property({ type: 'timestamptz' })
  warnedAt!: Date;
}
