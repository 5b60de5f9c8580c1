import { Check, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Member } from '../members/member.entity';

export enum LedgerEntryType {
  PURCHASE = 'PURCHASE',
  REWARD = 'REWARD',
  REDEMPTION = 'REDEMPTION',
  REFUND = 'REFUND',
  REVERSAL = 'REVERSAL',
  EXPIRY = 'EXPIRY',
  ADJUSTMENT = 'ADJUSTMENT',
}

export enum LedgerEntryStatus {
  POSTED = 'POSTED',
  HELD = 'HELD',
  REJECTED = 'REJECTED',
}

/**
 * Append-only: an entry is never deleted, and only a HELD entry changes (to POSTED or
 * REJECTED, with its balanceAfter, expiresAt and postedAt). Corrections are new entries.
 */
@Entity({ tableName: 'ledger_entry' })
@Index({ name: 'ledger_entry_member_id_idx', properties: ['memberId', 'id'] })
// Program stats read the last 30 days; board rebuilds read a period's postings.
@Index({ name: 'ledger_entry_created_at_idx', properties: ['createdAt'] })
@Index({ name: 'ledger_entry_posted_at_idx', properties: ['postedAt'] })
// The hourly earning limit counts one member's recent purchases.
@Index({ name: 'ledger_entry_member_type_created_idx', properties: ['memberId', 'type', 'createdAt'] })
@Unique({ name: 'ledger_entry_idempotency_unique', properties: ['type', 'idempotencyKey'] })
// Credits are positive, debits never positive; written as PostgreSQL prints it so schema diffs stay quiet.
@Check({
  name: 'ledger_entry_sign_check',
  expression: `(((type = ANY (ARRAY['PURCHASE'::text, 'REWARD'::text, 'REFUND'::text])) AND (delta > 0)) OR ((type = ANY (ARRAY['REDEMPTION'::text, 'EXPIRY'::text, 'REVERSAL'::text])) AND (delta <= 0)) OR ((type = 'ADJUSTMENT'::text) AND (delta <> 0)))`,
})
export class LedgerEntry {
  [OptionalProps]?: 'id' | 'status' | 'reference' | 'expiresAt' | 'postedAt' | 'idempotencyKey' | 'reviewNote';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Enum({ items: () => LedgerEntryType, type: 'text' })
  type!: LedgerEntryType;

  @Enum({ items: () => LedgerEntryStatus, type: 'text' })
  status: LedgerEntryStatus = LedgerEntryStatus.POSTED;

  @Property({ type: 'integer' })
  delta!: number;

  @Property({ type: 'integer' })
  balanceAfter!: number;

  @Property({ type: 'text', nullable: true })
  reference: string | null = null;

  /** Who posted it: partner:<id>, admin:<id>, member:<id> or system:<job>. */
  @Property({ type: 'text' })
  source!: string;

  @Property({ type: 'text' })
  description!: string;

  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  postedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  idempotencyKey: string | null = null;

  @Property({ type: 'text', nullable: true })
  reviewNote: string | null = null;
}

/** Points from one credit; spending draws them down earliest-expiry first. */
@Entity({ tableName: 'points_lot' })
@Index({ name: 'points_lot_member_idx', properties: ['memberId', 'expiresAt'] })
// The expiry job walks lots in (expires_at, id) order from its watermark (ExpiryWatermark). Not
// partial on remaining > 0: no index names remaining or expired_at, so emptying a lot can be a
// HOT update (issue 14, migration Migration20261130200000LotDueIndex).
@Index({ name: 'points_lot_expiry_idx', properties: ['expiresAt', 'id'] })
@Check({ name: 'points_lot_remaining_check', expression: 'remaining >= 0 and remaining <= amount' })
export class PointsLot {
  [OptionalProps]?: 'id' | 'expiresAt' | 'expiredAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  /** The credit entry it came from. */
  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  @Property({ type: 'integer' })
  amount!: number;

  @Property({ type: 'integer' })
  remaining!: number;

  /** Null: never expires. */
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  /** Set when the expiry job (or a money path) expired what was left of it. */
  @Property({ type: 'timestamptz', nullable: true })
  expiredAt: Date | null = null;
}

/**
 * Where the expiry walk starts (one row): every lot with expires_at < expiredBefore has
 * remaining = 0. The expiry job raises it (LedgerWriter.advanceExpiryWatermark says when that is
 * safe); triggers on points_lot lower it when a lot with points left is written below it.
 */
@Entity({ tableName: 'expiry_watermark' })
@Check({ name: 'expiry_watermark_singleton', expression: 'id = 1' })
export class ExpiryWatermark {
  [OptionalProps]?: 'updatedAt';

  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  @Property({ type: 'timestamptz' })
  expiredBefore!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  updatedAt: Date | null = null;
}

/**
 * Which lots a debit consumed (amount > 0), and which a refund gave back to (amount < 0):
 * a lot's remaining always equals its amount minus the sum of its allocations.
 */
@Entity({ tableName: 'lot_allocation' })
@Index({ name: 'lot_allocation_entry_idx', properties: ['entryId'] })
@Index({ name: 'lot_allocation_lot_idx', properties: ['lotId'] })
export class LotAllocation {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  @ManyToOne(() => PointsLot, { mapToPk: true, fieldName: 'lot_id', deleteRule: 'restrict', updateRule: 'restrict' })
  lotId!: string;

  @Property({ type: 'integer' })
  amount!: number;
}

/** A purchase that earned points: the idempotency record of earnPoints and the base of reversals. */
@Entity({ tableName: 'purchase' })
@Index({ name: 'purchase_member_idx', properties: ['memberId', 'createdAt'] })
@Index({ name: 'purchase_occurred_idx', properties: ['occurredAt'] })
@Index({ name: 'purchase_member_occurred_idx', properties: ['memberId', 'occurredAt'] })
@Check({ name: 'purchase_refund_check', expression: 'refunded_amount >= 0 and refunded_amount <= amount and points_reversed >= 0 and points_reversed <= points' })
export class Purchase {
  [OptionalProps]?: 'category' | 'refundedAmount' | 'pointsReversed' | 'pointsForgiven' | 'pointsCappedFrom';

  /** The partner that posted it (the token's partnerId), '' for admins: order ids are unique per partner. */
  @PrimaryKey({ type: 'text' })
  partnerId!: string;

  @PrimaryKey({ type: 'text' })
  orderId!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  amount!: string;

  @Property({ type: 'text', nullable: true })
  category: string | null = null;

  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  /** Points the order earned (posted or held). */
  @Property({ type: 'integer' })
  points!: number;

  @Property({ type: 'decimal', precision: 14, scale: 2, defaultRaw: '0' })
  refundedAmount: string = '0.00';

  /** Points refunds have claimed back so far: taken, turned into debt, or forgiven as expired. */
  @Property({ type: 'integer' })
  pointsReversed: number = 0;

  /** Of those, points that had already expired unspent: nothing to take back, and no debt. */
  @Property({ type: 'integer' })
  pointsForgiven: number = 0;

  /** Points the rules gave before the purchase caps cut them to `points` (null: not capped). */
  @Property({ type: 'integer', nullable: true })
  pointsCappedFrom: number | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;
}

/** One reverseEarn call, so a repeated call returns its first result. */
@Entity({ tableName: 'purchase_reversal' })
@Unique({ name: 'purchase_reversal_key_unique', properties: ['purchase', 'refundKey'] })
export class PurchaseReversal {
  [OptionalProps]?: 'id';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  /** The order refunded, by (partner_id, order_id). */
  @ManyToOne(() => Purchase, { fieldNames: ['partner_id', 'order_id'], foreignKeyName: 'purchase_reversal_order_foreign', deleteRule: 'restrict', updateRule: 'restrict' })
  purchase!: Purchase;

  @Property({ type: 'text' })
  refundKey!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  amount!: string;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  @Property({ type: 'integer' })
  pointsReversed!: number;

  @Property({ type: 'integer' })
  shortfall!: number;
}
