import { randomInt } from 'node:crypto';
import { Decimal } from 'decimal.js';

export interface TierLike {
  level: number;
  minSpend: string;
}

const MOBILE = /^1[3-9]\d{9}$/;

/** Accepts 13812341234, +86 138 1234 1234 or 138-1234-1234; returns the 11 digits, or null. */
export function normalizeMobile(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, '');
  return MOBILE.test(digits) ? digits : null;
}

/** 13812341234 → 138****1234 (contract: masked unless the viewer is the member or an admin). */
export function maskMobile(mobile: string): string {
  if (mobile.length < 8) return '*'.repeat(mobile.length);
  return `${mobile.slice(0, 3)}${'*'.repeat(mobile.length - 7)}${mobile.slice(-4)}`;
}

export const NICKNAME_MAX = 32;

export function normalizeNickname(input: string): string | null {
  const nickname = input.normalize('NFC').trim();
  if (nickname.length === 0 || [...nickname].length > NICKNAME_MAX) return null;
  // Control characters would break notification templates and logs.
  if (/\p{Cc}/u.test(nickname)) return null;
  return nickname;
}

/** Crockford-style alphabet without 0/O/1/I/L: codes are read aloud and typed on phones. */
const INVITE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const INVITE_CODE_LENGTH = 8;

/** 31^8 ≈ 8.5e11 codes from a CSPRNG: short, and not guessable by enumeration. */
export function newInviteCode(): string {
  let code = '';
  for (let i = 0; i < INVITE_CODE_LENGTH; i++) code += INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)];
  return code;
}

/** Tiers ordered by level; a valid set has strictly increasing minSpend, the lowest at 0. */
export function tierProblems(tiers: TierLike[]): string | null {
  const sorted = [...tiers].sort((a, b) => a.level - b.level);
  if (sorted.length === 0) return null;
  if (!new Decimal(sorted[0].minSpend).isZero()) return `the lowest tier (level ${sorted[0].level}) must have minSpend 0`;
  for (let i = 1; i < sorted.length; i++) {
    if (!new Decimal(sorted[i].minSpend).gt(sorted[i - 1].minSpend)) {
      return `minSpend must grow with level: level ${sorted[i].level} must need more than level ${sorted[i - 1].level}`;
    }
  }
  return null;
}

/** Contract: tiers by lifetime spend; the highest tier whose minSpend is reached. */
export function tierFor<T extends TierLike>(tiers: T[], totalSpend: string): T {
  const sorted = [...tiers].sort((a, b) => a.level - b.level);
  let current = sorted[0];
  for (const tier of sorted) if (new Decimal(totalSpend).gte(tier.minSpend)) current = tier;
  return current;
}

/** The held tier (issue 17: stored, not derived) as a tier of the set: the highest level at or below it, the lowest when none. */
export function heldTierOf<T extends TierLike>(tiers: T[], level: number): T {
  const sorted = [...tiers].sort((a, b) => a.level - b.level);
  let found = sorted[0];
  for (const tier of sorted) if (tier.level <= level) found = tier;
  return found;
}

/** Spend counted toward upgrades: lifetime spend less what a lowered tier had already used (member.tier_spend_base). */
export function upgradeSpendOf(totalSpend: string, spendBase: string): string {
  return Decimal.max(0, new Decimal(totalSpend).minus(spendBase)).toFixed(2);
}

export interface TierProgressValue<T> {
  tier: T;
  spendNeeded: Decimal;
  progress: number;
}

/** The next tier, how much spend it still needs, and 0..1 of the way there; null at the top. */
export function nextTierProgress<T extends TierLike>(tiers: T[], totalSpend: string, heldLevel?: number): TierProgressValue<T> | null {
  const sorted = [...tiers].sort((a, b) => a.level - b.level);
  const reached = tierFor(sorted, totalSpend);
  // The held tier may be above what the spend reaches (a refund, or a year kept): progress starts from it.
  const current = heldLevel != null && heldLevel > reached.level ? heldTierOf(sorted, heldLevel) : reached;
  const next = sorted.find((t) => t.level > current.level);
  if (!next) return null;
  const spend = new Decimal(totalSpend);
  const span = new Decimal(next.minSpend).minus(current.minSpend);
  const done = spend.minus(current.minSpend);
  const progress = span.lte(0) ? 1 : Decimal.min(1, Decimal.max(0, done.div(span))).toNumber();
  return { tier: next, spendNeeded: Decimal.max(0, new Decimal(next.minSpend).minus(spend)), progress };
}
