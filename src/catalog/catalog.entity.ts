import { randomUUID } from 'node:crypto';
import { Check, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Member } from '../members/member.entity';
import { LedgerEntry } from '../ledger/ledger.entity';

export enum ItemType {
  PHYSICAL = 'PHYSICAL',
  VIRTUAL = 'VIRTUAL',
  COUPON = 'COUPON',
  VIP = 'VIP',
}

export enum RedemptionStatus {
  /** Points and stock are held until the cash part is paid or paymentDueBy passes; nothing is delivered yet. */
  PENDING_PAYMENT = 'PENDING_PAYMENT',
  COMPLETED = 'COMPLETED',
  PENDING_SHIPMENT = 'PENDING_SHIPMENT',
  SHIPPED = 'SHIPPED',
  CANCELLED = 'CANCELLED',
}

export enum CouponStatus {
  ACTIVE = 'ACTIVE',
  USED = 'USED',
  EXPIRED = 'EXPIRED',
  /** The redemption that issued it was cancelled before it was used. */
  VOID = 'VOID',
}

@Entity({ tableName: 'catalog_item' })
@Index({ name: 'catalog_item_listing_idx', properties: ['pointsPrice', 'id'] })
@Check({ name: 'catalog_item_values_check', expression: 'stock >= 0 and points_price >= 0 and (cash_price is null or cash_price >= 0)' })
export class CatalogItem {
  [OptionalProps]?: 'id' | 'cashPrice' | 'perMemberLimit' | 'availableFrom' | 'availableUntil' | 'imageUrl' | 'config' | 'hot';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'catalog_item_sku_unique' })
  @Property({ type: 'text' })
  sku!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  description!: string;

  @Property({ type: 'text' })
  category!: string;

  @Property({ type: 'text[]' })
  tags!: string[];

  @Enum({ items: () => ItemType, type: 'text' })
  type!: ItemType;

  @Property({ type: 'integer' })
  pointsPrice!: number;

  @Property({ type: 'decimal', precision: 14, scale: 2, nullable: true })
  cashPrice: string | null = null;

  @Property({ type: 'integer' })
  stock!: number;

  @Property({ type: 'integer', nullable: true })
  perMemberLimit: number | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  availableFrom: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  availableUntil: Date | null = null;

  @Property({ type: 'text', nullable: true })
  imageUrl: string | null = null;

  @Property({ type: 'boolean' })
  active!: boolean;

  /** A flash sale: redemptions pass the Redis admission gate first (flash-sale.gate.ts). */
  @Property({ type: 'boolean', default: false })
  hot: boolean = false;

  /** Type-specific: COUPON {value, validDays}; VIP {level, days}. */
  @Property({ type: 'jsonb', nullable: true })
  config: Record<string, unknown> | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;
}

@Entity({ tableName: 'redemption' })
@Unique({ name: 'redemption_idempotency_unique', properties: ['memberId', 'idempotencyKey'] })
@Index({ name: 'redemption_member_idx', properties: ['memberId', 'createdAt', 'id'] })
@Index({ name: 'redemption_item_idx', properties: ['itemId', 'createdAt'] })
@Index({
  name: 'redemption_payment_due_idx',
  expression: `create index "redemption_payment_due_idx" on "redemption" ("payment_due_by", "id") where "status" = 'PENDING_PAYMENT'`,
})
@Unique({
  name: 'redemption_payment_reference_unique',
  expression: `create unique index "redemption_payment_reference_unique" on "redemption" ("payment_reference") where "payment_reference" is not null`,
})
@Check({ name: 'redemption_quantity_check', expression: 'quantity > 0 and points_spent >= 0' })
export class Redemption {
  [OptionalProps]?:
    'id' | 'cashDue' | 'shippingAddress' | 'trackingNumber' | 'refundEntryId' | 'cancelReason' | 'shippedAt' | 'cancelledAt' | 'vipDays' | 'paymentDueBy' | 'paymentReference' | 'paidAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @ManyToOne(() => CatalogItem, { mapToPk: true, fieldName: 'item_id', deleteRule: 'restrict', updateRule: 'restrict' })
  itemId!: string;

  @Property({ type: 'integer' })
  quantity!: number;

  @Property({ type: 'integer' })
  pointsSpent!: number;

  @Property({ type: 'decimal', precision: 14, scale: 2, nullable: true })
  cashDue: string | null = null;

  @Enum({ items: () => RedemptionStatus, type: 'text' })
  status!: RedemptionStatus;

  /** The REDEMPTION ledger entry that paid for it. */
  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'entry_id', deleteRule: 'restrict', updateRule: 'restrict' })
  entryId!: string;

  @ManyToOne(() => LedgerEntry, { mapToPk: true, fieldName: 'refund_entry_id', nullable: true, deleteRule: 'restrict', updateRule: 'restrict' })
  refundEntryId: string | null = null;

  @Property({ type: 'text' })
  idempotencyKey!: string;

  /** Fingerprint of the arguments: a retry with the same key must ask for the same thing. */
  @Property({ type: 'text' })
  requestHash!: string;

  @Property({ type: 'jsonb', nullable: true })
  shippingAddress: Record<string, unknown> | null = null;

  @Property({ type: 'text', nullable: true })
  trackingNumber: string | null = null;

  /** VIP days this redemption granted, taken back if it is cancelled. */
  @Property({ type: 'integer', nullable: true })
  vipDays: number | null = null;

  @Property({ type: 'text', nullable: true })
  cancelReason: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  shippedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  cancelledAt: Date | null = null;

  /** PENDING_PAYMENT: the hold is released (payment timeout) once this passes unpaid. */
  @Property({ type: 'timestamptz', nullable: true })
  paymentDueBy: Date | null = null;

  /** The payment system's reference of the cash payment; one payment pays one redemption (unique). */
  @Property({ type: 'text', nullable: true })
  paymentReference: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  paidAt: Date | null = null;
}

@Entity({ tableName: 'coupon' })
@Index({ name: 'coupon_member_idx', properties: ['memberId', 'expiresAt'] })
export class Coupon {
  [OptionalProps]?: 'id' | 'value' | 'usedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Unique({ name: 'coupon_code_unique' })
  @Property({ type: 'text' })
  code!: string;

  @ManyToOne(() => Member, { mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @ManyToOne(() => Redemption, { mapToPk: true, fieldName: 'redemption_id', deleteRule: 'restrict', updateRule: 'restrict' })
  redemptionId!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2, nullable: true })
  value: string | null = null;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  /** ACTIVE, USED or VOID as stored; an ACTIVE coupon past its date reads EXPIRED. */
  @Enum({ items: () => CouponStatus, type: 'text' })
  status!: CouponStatus;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;
}

@Entity({ tableName: 'member_vip' })
export class MemberVip {
  @ManyToOne(() => Member, { primary: true, mapToPk: true, fieldName: 'member_id', deleteRule: 'restrict', updateRule: 'restrict' })
  memberId!: string;

  @Property({ type: 'integer' })
  level!: number;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;
}
