import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A lot warned at a threshold. The primary key is the guarantee that a lot is never warned
 * twice at the same threshold, however often and on however many instances the job runs.
 */
@Entity({ tableName: 'expiry_warning' })
@Index({ name: 'expiry_warning_member_idx', properties: ['memberId', 'warnedAt'] })
export class ExpiryWarningSent {
  /**
   * The lot (points_lot.id). No foreign key: the job takes the id from points_lot in the claim
   * statement itself and lots are never deleted, while the check cost a lock on every warned lot
   * (migration Migration20261130140000ExpiryJobs).
   */
  @PrimaryKey({ type: 'bigint', fieldName: 'lot_id' })
  lotId!: string;

  /** Days before expiry (one of the program's reminderDays). */
  @PrimaryKey({ type: 'integer' })
  threshold!: number;

  /** The lot's member, copied for per-member reads (a foreign-key check per claim halved the job's speed). */
  @Property({ type: 'uuid' })
  memberId!: string;

  @Property({ type: 'timestamptz' })
  warnedAt!: Date;
}
