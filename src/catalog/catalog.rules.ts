import { createHash, randomInt } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { MemberStatus } from '../members';
import { CouponStatus, ItemType } from './catalog.entity';

export interface ItemFields {
  sku: string;
  name: string;
  description?: string | null;
  category: string;
  tags?: string[] | null;
  type: ItemType;
  pointsPrice: number;
  cashPrice?: Decimal | null;
  stock: number;
  perMemberLimit?: number | null;
  availableFrom?: Date | null;
  availableUntil?: Date | null;
  imageUrl?: string | null;
  config?: Record<string, unknown> | null;
  active?: boolean | null;
  /** Null or absent: false on create, unchanged on update (an older admin tool never turns a flash sale off). */
  hot?: boolean | null;
}

export type ItemProblem = { field: string; message: string };

const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_POINTS = 10_000_000;
export const MAX_STOCK = 100_000_000;

function int(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Coupon items: {value: "20.00", validDays: 30}; VIP items: {level: 1, days: 30} (contract CatalogItemInput.config). */
export function configProblem(type: ItemType, config: Record<string, unknown> | null | undefined): ItemProblem | null {
  if (config != null && (typeof config !== 'object' || Array.isArray(config))) return { field: 'config', message: 'config must be an object' };
  if (config != null && JSON.stringify(config).length > 4096) return { field: 'config', message: 'config is too large' };
  if (type === ItemType.COUPON) {
    const value = config?.value;
    if (typeof value !== 'string' && typeof value !== 'number') return { field: 'config.value', message: 'a coupon needs config.value, its face value such as "20.00"' };
    if (!/^\d{1,10}(\.\d{1,2})?$/.test(String(value)) || new Decimal(String(value)).lte(0)) return { field: 'config.value', message: 'config.value must be a positive amount with at most 2 decimals' };
    if (!int(config?.validDays, 1, 3650)) return { field: 'config.validDays', message: 'a coupon needs config.validDays, 1 to 3650' };
  }
  if (type === ItemType.VIP) {
    if (!int(config?.level, 1, 100)) return { field: 'config.level', message: 'a VIP item needs config.level, 1 to 100' };
    if (!int(config?.days, 1, 3650)) return { field: 'config.days', message: 'a VIP item needs config.days, 1 to 3650' };
  }
  return null;
}

/** Every field a catalog item must satisfy; the first problem found, or the normalized fields. */
export type NormalizedItem = Omit<Required<ItemFields>, 'cashPrice' | 'active' | 'description' | 'tags' | 'hot'> & {
  cashPrice: string | null;
  active: boolean;
  description: string;
  tags: string[];
  hot: boolean | null;
};

export function normalizeItem(input: ItemFields): { problem: ItemProblem } | { fields: NormalizedItem } {
  const sku = input.sku.trim();
  if (!SKU.test(sku)) return { problem: { field: 'sku', message: 'sku must be 1 to 64 letters, digits, dots, dashes or underscores' } };
  const name = input.name.trim();
  if (!name || name.length > 100) return { problem: { field: 'name', message: 'name must be 1 to 100 characters' } };
  const description = (input.description ?? '').trim();
  if (description.length > 2000) return { problem: { field: 'description', message: 'description must be at most 2000 characters' } };
  const category = input.category.trim();
  if (!category || category.length > 64) return { problem: { field: 'category', message: 'category must be 1 to 64 characters' } };
  const tags = [...new Set((input.tags ?? []).map((t) => t.trim()))];
  if (tags.length > 20 || tags.some((t) => !t || t.length > 32)) return { problem: { field: 'tags', message: 'at most 20 tags of 1 to 32 characters' } };
  if (!int(input.pointsPrice, 0, MAX_POINTS)) return { problem: { field: 'pointsPrice', message: `pointsPrice must be an integer from 0 to ${MAX_POINTS}` } };
  if (input.cashPrice != null && (input.cashPrice.isNegative() || input.cashPrice.decimalPlaces() > 2)) {
    return { problem: { field: 'cashPrice', message: 'cashPrice must be a non-negative amount with at most 2 decimals' } };
  }
  if (input.pointsPrice === 0 && (input.cashPrice == null || input.cashPrice.isZero())) {
    return { problem: { field: 'pointsPrice', message: 'an item must cost points, cash or both' } };
  }
  if (!int(input.stock, 0, MAX_STOCK)) return { problem: { field: 'stock', message: 'stock must be a non-negative integer' } };
  if (input.perMemberLimit != null && !int(input.perMemberLimit, 1, MAX_STOCK)) return { problem: { field: 'perMemberLimit', message: 'perMemberLimit must be at least 1' } };
  if (input.availableFrom && input.availableUntil && input.availableUntil <= input.availableFrom) {
    return { problem: { field: 'availableUntil', message: 'availableUntil must be after availableFrom' } };
  }
  const imageUrl = input.imageUrl?.trim() || null;
  if (imageUrl && (!/^https?:\/\/\S+$/.test(imageUrl) || imageUrl.length > 500)) return { problem: { field: 'imageUrl', message: 'imageUrl must be an http(s) URL' } };
  const problem = configProblem(input.type, input.config);
  if (problem) return { problem };
  return {
    fields: {
      sku,
      name,
      description,
      category,
      tags,
      type: input.type,
      pointsPrice: input.pointsPrice,
      cashPrice: input.cashPrice ? input.cashPrice.toFixed(2) : null,
      stock: input.stock,
      perMemberLimit: input.perMemberLimit ?? null,
      availableFrom: input.availableFrom ?? null,
      availableUntil: input.availableUntil ?? null,
      imageUrl,
      config: input.config ?? null,
      active: input.active ?? true,
      hot: input.hot ?? null,
    },
  };
}

export interface Sellable {
  active: boolean;
  availableFrom: Date | null;
  availableUntil: Date | null;
}

/** Active and inside its availability window [from, until). */
export function isAvailable(item: Sellable, now: Date): boolean {
  if (!item.active) return false;
  if (item.availableFrom && now < item.availableFrom) return false;
  if (item.availableUntil && now >= item.availableUntil) return false;
  return true;
}

/** What "redeemable" reads of an item. */
export interface RedeemableItem extends Sellable {
  stock: number;
  pointsPrice: number;
  perMemberLimit: number | null;
}

/** What "redeemable" reads of the member: its status and its spendable balance (SPENDABLE_BALANCE_SQL). */
export interface RedeemingMember {
  status: MemberStatus;
  balance: number;
}

/**
 * "The member may redeem one unit, its balance apart": active, inside its window, in stock, and
 * under the per-member limit counting `usedByMember` units not cancelled. The in-memory twin of
 * AVAILABLE_TO_MEMBER_SQL (catalog.sql.ts); test/catalog/redeemable.test.ts holds them together.
 */
export function availableToMember(item: RedeemableItem, usedByMember: number, now: Date): boolean {
  return item.stock >= 1 && isAvailable(item, now) && (item.perMemberLimit == null || usedByMember < item.perMemberLimit);
}

/**
 * CatalogItem.redeemable, the one definition (contract: balance, stock, window, limit): an active
 * member who can spend the points part now, of an item availableToMember. The cash part of a
 * points + cash item is paid afterwards, so it does not count. REDEEMABLE_SQL is the same as SQL
 * (catalog(filter: {redeemableOnly})).
 */
export function isRedeemable(item: RedeemableItem, member: RedeemingMember | null, usedByMember: number, now: Date): boolean {
  return member != null && member.status === MemberStatus.ACTIVE && member.balance >= item.pointsPrice && availableToMember(item, usedByMember, now);
}

/** Quick options: affordable items costing 30%..100% of the balance, closest to 70% first. */
export const QUICK_MIN_SHARE = 0.3;
export const QUICK_MAX_SHARE = 1.0;
export const QUICK_TARGET_SHARE = 0.7;

export function quickScore(pointsPrice: number, balance: number): number | null {
  if (balance <= 0) return null;
  const share = pointsPrice / balance;
  if (share < QUICK_MIN_SHARE || share > QUICK_MAX_SHARE) return null;
  return Math.abs(share - QUICK_TARGET_SHARE);
}

/**
 * A coupon's status as members see it (contract: Member.coupons): ACTIVE, USED or VOID as stored,
 * except that an ACTIVE coupon past its date reads EXPIRED (nothing rewrites it when it lapses).
 */
export function couponStatusAt(coupon: { status: CouponStatus; expiresAt: Date }, now: Date): CouponStatus {
  return coupon.status === CouponStatus.ACTIVE && coupon.expiresAt <= now ? CouponStatus.EXPIRED : coupon.status;
}

/** Member.coupons(status): the coupons whose status, as members see it now, is `status` (all when null). */
export function couponsWithStatus<C extends { status: CouponStatus; expiresAt: Date }>(coupons: C[], status: CouponStatus | null, now: Date): C[] {
  return status ? coupons.filter((coupon) => couponStatusAt(coupon, now) === status) : coupons;
}

const COUPON_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** 16 characters from a CSPRNG (≈79 bits): unguessable, and readable at a till (XXXX-XXXX-XXXX-XXXX). */
export function newCouponCode(): string {
  let code = '';
  for (let i = 0; i < 16; i++) code += COUPON_ALPHABET[randomInt(COUPON_ALPHABET.length)];
  return code.match(/.{4}/g)!.join('-');
}

/** Fingerprint of what a redeem asked for, so a reused idempotency key with other arguments is a CONFLICT. */
export function redeemFingerprint(itemId: string, quantity: number, shippingAddress: unknown): string {
  const canonical = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
        )
      : Array.isArray(value)
        ? value.map(canonical)
        : value;
  return createHash('sha256')
    .update(JSON.stringify([itemId, quantity, canonical(shippingAddress ?? null)]))
    .digest('hex');
}
