import { Decimal } from 'decimal.js';
import { DAY_MS, fromLocal, isoWeekday, localParts, startOfLocalDay } from '../platform/time';

export interface EarningRuleLike {
  multiplier: string;
  bonusPoints: number;
  startsAt: Date | null;
  endsAt: Date | null;
  weekdays: number[];
  categories: string[];
  firstOrderOnly: boolean;
  minTierLevel: number | null;
  /** RFM segment keys (issue 17); empty: everyone. */
  segments: string[];
  active: boolean;
}

export interface PurchaseFacts {
  occurredAt: Date;
  category: string | null;
  tierLevel: number;
  /** The member's RFM segment when it buys; null without one. */
  segment: string | null;
  /** No earlier purchase of this member. */
  firstOrder: boolean;
  timeZone: string;
}

/** Whether an earning rule applies to a purchase; weekdays are counted in the program's time zone. */
export function ruleApplies(rule: EarningRuleLike, purchase: PurchaseFacts): boolean {
  if (!rule.active) return false;
  if (rule.startsAt && purchase.occurredAt < rule.startsAt) return false;
  if (rule.endsAt && purchase.occurredAt >= rule.endsAt) return false;
  if (rule.weekdays.length && !rule.weekdays.includes(isoWeekday(purchase.occurredAt, purchase.timeZone))) return false;
  if (rule.categories.length && (!purchase.category || !rule.categories.includes(purchase.category))) return false;
  if (rule.firstOrderOnly && !purchase.firstOrder) return false;
  if (rule.minTierLevel != null && purchase.tierLevel < rule.minTierLevel) return false;
  if (rule.segments.length && (!purchase.segment || !rule.segments.includes(purchase.segment))) return false;
  return true;
}

/** The points columns are PostgreSQL integers: any amount beyond this is refused as bad input, not a 500. */
export const POINTS_MAX = 2_147_483_647;

/**
 * Contract: ceil(amount × pointsPerCurrencyUnit × tier multiplier × product of matching
 * rule multipliers) + matching bonus points, in exact decimal arithmetic.
 */

export function purchasePoints(amount: Decimal, pointsPerCurrencyUnit: string, tierMultiplier: string, rules: Pick<EarningRuleLike, 'multiplier' | 'bonusPoints'>[]): number {
  let product = amount.times(pointsPerCurrencyUnit).times(tierMultiplier);
  let bonus = 0;
  for (const rule of rules) {
    product = product.times(rule.multiplier);
    bonus += rule.bonusPoints;
  }
  return product.ceil().toNumber() + bonus;
}

/**
 * Points a refund takes back, computed on the cumulative refunded share so that several
 * partial refunds never take more (or, once the whole order is refunded, less) than the order
 * earned: floor(points × refunded / amount) overall, all of them at a full refund.
 */
export function reversalTarget(orderPoints: number, orderAmount: Decimal, refundedTotal: Decimal): number {
  if (refundedTotal.gte(orderAmount)) return orderPoints;
  return new Decimal(orderPoints).times(refundedTotal).div(orderAmount).floor().toNumber();
}

export interface LotBalance {
  id: string;
  remaining: number;
}

/** Takes `points` from lots in the order given (callers order them earliest-expiry first). */
export function allocate(lots: LotBalance[], points: number): { allocations: { lotId: string; amount: number }[]; covered: number } {
  const allocations: { lotId: string; amount: number }[] = [];
  let left = points;
  for (const lot of lots) {
    if (left <= 0) break;
    const take = Math.min(lot.remaining, left);
    if (take > 0) {
      allocations.push({ lotId: lot.id, amount: take });
      left -= take;
    }
  }
  return { allocations, covered: points - left };
}

/** New points expire `validityDays` after they are earned; 0 means never (contract ProgramSettings). */
export function expiryFor(now: Date, validityDays: number): Date | null {
  return validityDays > 0 ? new Date(now.getTime() + validityDays * DAY_MS) : null;
}

/** Whole days left, rounded up: a lot expiring in 2.1 days has 3 days left ("expires within 3 days"). */
export function daysUntil(now: Date, at: Date): number {
  return Math.max(0, Math.ceil((at.getTime() - now.getTime()) / DAY_MS));
}

export interface ExpiringLotValue {
  points: number;
  expiresAt: Date;
}

/** Member.expiringPoints(withinDays): the window when the client names none, and the widest one. */
export const DEFAULT_EXPIRY_WINDOW_DAYS = 30;
export const MAX_EXPIRY_WINDOW_DAYS = 3650;

/** A window expirySummary accepts: whole days, 0 to MAX_EXPIRY_WINDOW_DAYS; the problem, or null. */
export function expiryWindowProblem(withinDays: number): string | null {
  if (!Number.isInteger(withinDays) || withinDays < 0 || withinDays > MAX_EXPIRY_WINDOW_DAYS) return `withinDays must be 0 to ${MAX_EXPIRY_WINDOW_DAYS}`;
  return null;
}

/** Points expiring within the window, grouped by expiry instant, earliest first. */
export function expirySummary(lots: { remaining: number; expiresAt: Date | null }[], now: Date, withinDays: number) {
  const until = now.getTime() + withinDays * DAY_MS;
  const byInstant = new Map<number, number>();
  for (const lot of lots) {
    if (!lot.expiresAt || lot.remaining <= 0) continue;
    const t = lot.expiresAt.getTime();
    if (t <= now.getTime() || t > until) continue;
    byInstant.set(t, (byInstant.get(t) ?? 0) + lot.remaining);
  }
  const grouped: ExpiringLotValue[] = [...byInstant.entries()].sort((a, b) => a[0] - b[0]).map(([t, points]) => ({ points, expiresAt: new Date(t) }));
  const earliest = grouped[0]?.expiresAt ?? null;
  return {
    points: grouped.reduce((sum, l) => sum + l.points, 0),
    earliestExpiry: earliest,
    daysUntilEarliest: earliest ? daysUntil(now, earliest) : null,
    lots: grouped,
  };
}

/** Money amounts in the ledger: positive, at most 2 decimals, below a sanity ceiling. */
export function moneyProblem(amount: Decimal, field: string): string | null {
  if (amount.lte(0)) return `${field} must be greater than 0`;
  if (amount.decimalPlaces() > 2) return `${field} must have at most 2 decimals`;
  if (amount.gt('100000000')) return `${field} is too large`;
  return null;
}

/**
 * What a ledger entry's `source` shows (issue 13): admins see it as stored; everyone else never
 * sees an admin's subject (`admin`), and sees a partner by its configured display name.
 */
export function presentSource(raw: string, viewerIsAdmin: boolean, partnerName: (partnerId: string) => string | undefined): string {
  if (viewerIsAdmin) return raw;
  const colon = raw.indexOf(':');
  const kind = colon < 0 ? raw : raw.slice(0, colon);
  const id = colon < 0 ? '' : raw.slice(colon + 1);
  if (kind === 'admin') return 'admin';
  if (kind === 'partner') return partnerName(id) ?? 'partner';
  if (kind === 'member') return 'member';
  return raw; // system:<job> names a job, not a person
}

/** The local day and month an earning cap counts in (issue 17); null caps: none. */
export function capWindow(now: Date, timeZone: string, daily: number | null, monthly: number | null): { daily: number | null; monthly: number | null; dayStart: Date; monthStart: Date } {
  const local = localParts(now, timeZone);
  return { daily, monthly, dayStart: startOfLocalDay(now, timeZone), monthStart: fromLocal(local.year, local.month, 1, timeZone) };
}
