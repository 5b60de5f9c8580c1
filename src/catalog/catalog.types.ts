import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Decimal } from 'decimal.js';
import { JSONScalar } from '../platform/graphql/scalars';
import { connectionTypes } from '../platform/graphql/connection';
import { MemberType } from '../members/member.types';
import { CouponStatus, ItemType, RedemptionStatus, type CatalogItem, type Coupon, type MemberVip, type Redemption } from './catalog.entity';
import { couponStatusAt } from './catalog.rules';

registerEnumType(ItemType, { name: 'ItemType' });
registerEnumType(RedemptionStatus, {
  name: 'RedemptionStatus',
  valuesConfig: { PENDING_PAYMENT: { description: 'Points and stock are held until the cash part is paid or the window passes.' } },
});
registerEnumType(CouponStatus, {
  name: 'CouponStatus',
  valuesConfig: { VOID: { description: 'Added to the contract: the redemption that issued it was cancelled.' } },
});

// Plain columns read straight off the object (no type-graphql wrapper per field, e.g. 5 items × 3 fields per
// recommendations list); recentRedemptions and redeemable stay field resolvers (simpleResolvers skips only plain fields).
@ObjectType('CatalogItem', { simpleResolvers: true })
export class CatalogItemType {
  @Field(() => ID) id!: string;
  @Field(() => String) sku!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => String) category!: string;
  @Field(() => [String]) tags!: string[];
  @Field(() => ItemType) type!: ItemType;
  @Field(() => Int) pointsPrice!: number;
  @Field(() => Decimal, { nullable: true, description: 'Cash to pay on top of the points (points + cash items); null: points only.' })
  cashPrice!: Decimal | null;
  @Field(() => Int) stock!: number;
  @Field(() => Int, { nullable: true }) perMemberLimit!: number | null;
  @Field(() => Date, { nullable: true }) availableFrom!: Date | null;
  @Field(() => Date, { nullable: true }) availableUntil!: Date | null;
  @Field(() => String, { nullable: true }) imageUrl!: string | null;
  @Field(() => Boolean) active!: boolean;
  @Field(() => Boolean, { description: 'Added to the contract: a flash sale; redemptions are admitted by an atomic stock and per-member counter before their transaction.' })
  hot!: boolean;
  /** Not exposed: type-specific settings, for admins' tools only through the input. */
  config!: Record<string, unknown> | null;
}

export const { Connection: CatalogItemConnection } = connectionTypes('CatalogItem', CatalogItemType, { totalCount: true });

@InputType()
export class CatalogFilter {
  @Field(() => String, { nullable: true }) category?: string | null;
  @Field(() => ItemType, { nullable: true }) type?: ItemType | null;
  @Field(() => Int, { nullable: true }) maxPoints?: number | null;
  @Field(() => Int, { nullable: true }) minPoints?: number | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Only items the viewing member can redeem now.' })
  redeemableOnly?: boolean | null;
  @Field(() => String, { nullable: true }) search?: string | null;
}

@InputType()
export class CatalogItemInput {
  @Field(() => String) sku!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true, defaultValue: '' }) description?: string | null;
  @Field(() => String) category!: string;
  @Field(() => [String], { nullable: true, defaultValue: [] }) tags?: string[] | null;
  @Field(() => ItemType) type!: ItemType;
  @Field(() => Int) pointsPrice!: number;
  @Field(() => Decimal, { nullable: true }) cashPrice?: Decimal | null;
  @Field(() => Int) stock!: number;
  @Field(() => Int, { nullable: true }) perMemberLimit?: number | null;
  @Field(() => Date, { nullable: true }) availableFrom?: Date | null;
  @Field(() => Date, { nullable: true }) availableUntil?: Date | null;
  @Field(() => String, { nullable: true }) imageUrl?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Type-specific settings: coupon value and validity, VIP level and days.' })
  config?: Record<string, unknown> | null;
  @Field(() => Boolean, { nullable: true, defaultValue: true }) active?: boolean | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Added to the contract: flag the item for a flash sale (see CatalogItem.hot). Omitted or null: false on create, unchanged on update.',
  })
  hot?: boolean | null;
}

@ObjectType('Coupon')
export class CouponType {
  @Field(() => String) code!: string;
  @Field(() => Decimal, { nullable: true }) value!: Decimal | null;
  @Field(() => Date) expiresAt!: Date;
  @Field(() => CouponStatus) status!: CouponStatus;
}

@ObjectType('Redemption')
export class RedemptionType {
  @Field(() => ID) id!: string;
  @Field(() => Int) quantity!: number;
  @Field(() => Int) pointsSpent!: number;
  @Field(() => Decimal, { nullable: true }) cashDue!: Decimal | null;
  @Field(() => Date, { nullable: true, description: 'For PENDING_PAYMENT: the hold ends then unless paid.' })
  paymentDueBy!: Date | null;
  @Field(() => String, { nullable: true }) paymentReference!: string | null;
  @Field(() => RedemptionStatus) status!: RedemptionStatus;
  @Field(() => String, { nullable: true }) trackingNumber!: string | null;
  @Field(() => Date) createdAt!: Date;
  itemId!: string;
  memberId!: string;
}

export const { Connection: RedemptionConnection } = connectionTypes('Redemption', RedemptionType);

@InputType()
export class RedeemInput {
  @Field(() => ID) itemId!: string;
  @Field(() => Int, { nullable: true, defaultValue: 1 }) quantity?: number | null;
  @Field(() => String, { description: 'Client-chosen key: a retried redeem with the same key returns the first result.' })
  idempotencyKey!: string;
  @Field(() => JSONScalar, { nullable: true }) shippingAddress?: Record<string, unknown> | null;
}

@ObjectType('RedeemPayload')
export class RedeemPayload {
  @Field(() => RedemptionType) redemption!: RedemptionType;
  @Field(() => MemberType) member?: MemberType;
  @Field(() => Int) remainingPoints!: number;
  /** Not in the schema: whose member RedeemPayloadResolver.member reads. */
  memberId!: string;
}

@ObjectType('QuickRedeemOption')
export class QuickRedeemOptionType {
  @Field(() => CatalogItemType) item!: CatalogItemType;
  @Field(() => Boolean) canRedeem!: boolean;
  @Field(() => Int) remainingAfter!: number;
  @Field(() => Decimal, {
    nullable: true,
    description: 'Added to the contract: cash to pay on top of the points for one unit (points + cash items), paid before delivery; null: points only.',
  })
  cashDue!: Decimal | null;
}

@ObjectType('QuickRedeemOptions')
export class QuickRedeemOptionsType {
  @Field(() => Int) balance!: number;
  @Field(() => [QuickRedeemOptionType]) options!: QuickRedeemOptionType[];
  @Field(() => String, { nullable: true, description: 'Set when points expire soon, e.g. to nudge a redemption.' })
  expiryWarning!: string | null;
}

@ObjectType('VipStatus')
export class VipStatusType {
  @Field(() => Int) level!: number;
  @Field(() => Date) expiresAt!: Date;
}

export function toItemType(item: CatalogItem): CatalogItemType {
  return Object.assign(new CatalogItemType(), {
    id: item.id,
    sku: item.sku,
    name: item.name,
    description: item.description,
    category: item.category,
    tags: item.tags,
    type: item.type,
    pointsPrice: item.pointsPrice,
    cashPrice: item.cashPrice == null ? null : new Decimal(item.cashPrice),
    stock: item.stock,
    perMemberLimit: item.perMemberLimit,
    availableFrom: item.availableFrom,
    availableUntil: item.availableUntil,
    imageUrl: item.imageUrl,
    active: item.active,
    hot: item.hot,
    config: item.config,
  });
}

export function toRedemptionType(r: Redemption): RedemptionType {
  return Object.assign(new RedemptionType(), {
    id: r.id,
    quantity: r.quantity,
    pointsSpent: r.pointsSpent,
    cashDue: r.cashDue == null ? null : new Decimal(r.cashDue),
    paymentDueBy: r.paymentDueBy,
    paymentReference: r.paymentReference,
    status: r.status,
    trackingNumber: r.trackingNumber,
    createdAt: r.createdAt,
    itemId: r.itemId,
    memberId: r.memberId,
  });
}

/** The coupon as members see it at `now` (couponStatusAt: an ACTIVE coupon past its date reads EXPIRED). */
export function toCouponType(coupon: Coupon, now: Date): CouponType {
  return Object.assign(new CouponType(), { code: coupon.code, value: coupon.value == null ? null : new Decimal(coupon.value), expiresAt: coupon.expiresAt, status: couponStatusAt(coupon, now) });
}

export function toVipType(vip: MemberVip): VipStatusType {
  return Object.assign(new VipStatusType(), { level: vip.level, expiresAt: vip.expiresAt });
}
