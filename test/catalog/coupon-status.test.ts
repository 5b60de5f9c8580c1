import { describe, expect, it } from 'vitest';
import { CouponStatus } from '../../src/catalog/catalog.entity';
import { couponStatusAt, couponsWithStatus } from '../../src/catalog/catalog.rules';

/** Member.coupons(status) filters on the status members see (couponStatusAt), not the stored one. */
const NOW = new Date('2026-03-08T12:00:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

// [stored status, expires at, status members see]
const ROWS: [CouponStatus, Date, CouponStatus][] = [
  [CouponStatus.ACTIVE, at(1), CouponStatus.ACTIVE],
  [CouponStatus.ACTIVE, at(0), CouponStatus.EXPIRED], // expiresAt is the first instant it is no longer valid
  [CouponStatus.ACTIVE, at(-1), CouponStatus.EXPIRED],
  [CouponStatus.USED, at(-1), CouponStatus.USED], // used before it lapsed: stays USED
  [CouponStatus.USED, at(1), CouponStatus.USED],
  [CouponStatus.VOID, at(-1), CouponStatus.VOID],
  [CouponStatus.VOID, at(1), CouponStatus.VOID],
];

describe('coupon status', () => {
  it.each(ROWS)('stored %s, expiring %s, reads %s', (status, expiresAt, seen) => {
    expect(couponStatusAt({ status, expiresAt }, NOW)).toBe(seen);
  });

  it.each([null, ...Object.values(CouponStatus)])('filtering on %s keeps exactly the coupons that read so', (status) => {
    const coupons = ROWS.map(([stored, expiresAt], i) => ({ id: i, status: stored, expiresAt }));
    const expected = ROWS.flatMap(([, , seen], i) => (status === null || seen === status ? [i] : []));
    expect(couponsWithStatus(coupons, status, NOW).map((c) => c.id)).toEqual(expected);
  });
});
