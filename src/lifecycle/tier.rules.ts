import { Decimal } from 'decimal.js';
import { heldTierOf, tierFor, type TierLike } from '../members/member.rules';
import { addLocalMonths, DAY_MS } from '../platform/time';

/**
 * The tier year (issue 17, seed 001 §3.2 and §4.5), as pure functions of the held tier, the
 * member's spend and now:
 * - reaching a tier (by spend counted for upgrades, see upgradeSpend) holds it `validityMonths`;
 * - at the end of the year the tier is kept for another year by 12-month spend ≥ minSpend, or,
 *   for tiers with keepByRecentSpend (gold and up by default), by 90-day spend ≥ minSpend / 2;
 * - otherwise a grace of `graceMonths` keeps the tier (and its multiplier); spending enough during
 *   it keeps the tier again; at its end the member moves to the tier its 12-month spend reaches.
 * A refund lowers the spend figures but never the held tier: only this evaluation lowers it.
 */

export interface LifecycleTier extends TierLike {
  keepByRecentSpend: boolean;
}

export interface HeldTier {
  level: number;
  validUntil: Date | null;
  graceUntil: Date | null;
  graceWarned: boolean;
  protectedUntil: Date | null;
}

export interface MemberSpend {
  /** member.total_spend: purchases posted, less refunds. */
  lifetime: string;
  /** Lifetime spend that no longer counts toward upgrades (what a lowered tier had already used). */
  spendBase: string;
  last12Months: string;
  last90Days: string;
}

export interface LifecycleSettings {
  validityMonths: number;
  graceMonths: number;
}

/** Share of minSpend that 90-day spend must reach to keep a keepByRecentSpend tier (the seed's 50%). */
export const RECENT_KEEP_SHARE = new Decimal('0.5');
/** Days before the end of grace at which the member is reminded. */
export const GRACE_REMINDER_DAYS = 30;

/** Tier years count calendar months in UTC, the day clamped to the target month's length (Jan 31 + 1 month = Feb 28/29). */
export const addMonths = (at: Date, months: number): Date => addLocalMonths(at, months, 'UTC');

const sorted = <T extends TierLike>(tiers: T[]) => [...tiers].sort((a, b) => a.level - b.level);

export const isLowest = (tiers: TierLike[], level: number) => sorted(tiers)[0].level >= level;

/** Spend that counts toward an upgrade: lifetime spend since the tier was last lowered (plus the 12 months before it). */
export function upgradeSpend(spend: Pick<MemberSpend, 'lifetime' | 'spendBase'>): Decimal {
  return Decimal.max(0, new Decimal(spend.lifetime).minus(spend.spendBase));
}

/** The tier an upgrade moves to now, or null when the spend reaches nothing above the held tier. */
export function upgradeTo<T extends TierLike>(tiers: T[], heldLevel: number, spend: Pick<MemberSpend, 'lifetime' | 'spendBase'>): T | null {
  const reached = tierFor(tiers, upgradeSpend(spend).toFixed(2));
  return reached.level > heldLevel ? reached : null;
}

export interface KeepCheck {
  kept: boolean;
  by: 'SPEND_12_MONTHS' | 'SPEND_90_DAYS' | null;
  /** Spend still needed (the smaller of the two ways); 0 when kept. */
  gap: Decimal;
}

/** Whether the spend keeps `tier` for another year (the seed's LevelProtectionService, generalised). */
export function keepCheck(tier: LifecycleTier, spend: Pick<MemberSpend, 'last12Months' | 'last90Days'>): KeepCheck {
  const yearGap = new Decimal(tier.minSpend).minus(spend.last12Months);
  if (yearGap.lte(0)) return { kept: true, by: 'SPEND_12_MONTHS', gap: new Decimal(0) };
  if (tier.keepByRecentSpend) {
    const recentGap = new Decimal(tier.minSpend).times(RECENT_KEEP_SHARE).minus(spend.last90Days);
    if (recentGap.lte(0)) return { kept: true, by: 'SPEND_90_DAYS', gap: new Decimal(0) };
    return { kept: false, by: null, gap: Decimal.min(yearGap, recentGap) };
  }
  return { kept: false, by: null, gap: yearGap };
}

export type TierDecision =
  | { kind: 'KEEP'; validUntil: Date; by: KeepCheck['by'] }
  | { kind: 'GRACE'; graceUntil: Date; gap: Decimal }
  | { kind: 'GRACE_ENDING'; graceUntil: Date; gap: Decimal }
  | { kind: 'LOWER'; toLevel: number; validUntil: Date | null; spendBase: string };

/**
 * What the evaluation does for a member now; null when nothing is due. Every decision moves the
 * member out of "due", so a second evaluation at the same instant decides nothing (idempotent).
 */
export function evaluate<T extends LifecycleTier>(tiers: T[], held: HeldTier, spend: MemberSpend, now: Date, settings: LifecycleSettings): TierDecision | null {
  const tier = heldTierOf(tiers, held.level);
  if (isLowest(tiers, tier.level)) return null;
  const keep = keepCheck(tier, spend);
  if (held.graceUntil) {
    if (keep.kept) return { kind: 'KEEP', validUntil: addMonths(now, settings.validityMonths), by: keep.by };
    if (held.graceUntil <= now) {
      const reached = tierFor(tiers, spend.last12Months);
      if (reached.level >= tier.level) return { kind: 'KEEP', validUntil: addMonths(now, settings.validityMonths), by: 'SPEND_12_MONTHS' };
      return {
        kind: 'LOWER',
        toLevel: reached.level,
        validUntil: isLowest(tiers, reached.level) ? null : addMonths(now, settings.validityMonths),
        // From now on only the last 12 months and new purchases count toward climbing back.
        spendBase: Decimal.max(0, new Decimal(spend.lifetime).minus(spend.last12Months)).toFixed(2),
      };
    }
    if (!held.graceWarned && held.graceUntil.getTime() - GRACE_REMINDER_DAYS * DAY_MS <= now.getTime()) {
      return { kind: 'GRACE_ENDING', graceUntil: held.graceUntil, gap: keep.gap };
    }
    return null;
  }
  if (!held.validUntil || held.validUntil > now) return null;
  if (keep.kept) {
    const next = addMonths(held.validUntil, settings.validityMonths);
    return { kind: 'KEEP', validUntil: next > now ? next : addMonths(now, settings.validityMonths), by: keep.by };
  }
  // A grace always leaves the member time to act: at least the reminder window, even after an outage.
  const graceUntil = new Date(Math.max(addMonths(held.validUntil, settings.graceMonths).getTime(), now.getTime() + GRACE_REMINDER_DAYS * DAY_MS));
  return { kind: 'GRACE', graceUntil, gap: keep.gap };
}

export interface TierStatusValue<T> {
  tier: T;
  validUntil: Date | null;
  qualifyingSpend: Decimal;
  keepSpend: Decimal;
  inGrace: boolean;
  graceUntil: Date | null;
  protectedUntil: Date | null;
}

/** Member.tierStatus: keepSpend is 0 at the lowest tier, once kept, and while a protection covers the year. */
export function tierStatus<T extends LifecycleTier>(tiers: T[], held: HeldTier, spend: MemberSpend, now: Date): TierStatusValue<T> {
  const tier = heldTierOf(tiers, held.level);
  const protectedNow = !!held.protectedUntil && held.protectedUntil > now;
  const keep = keepCheck(tier, spend);
  const keepSpend = isLowest(tiers, tier.level) || protectedNow ? new Decimal(0) : keep.gap;
  const inGrace = !!held.graceUntil && held.graceUntil > now;
  return {
    tier,
    validUntil: held.validUntil,
    qualifyingSpend: new Decimal(spend.last12Months),
    keepSpend,
    inGrace,
    graceUntil: held.graceUntil,
    protectedUntil: protectedNow ? held.protectedUntil : null,
  };
}
