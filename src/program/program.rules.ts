import { Decimal } from 'decimal.js';

export interface SettingsValues {
  pointsPerCurrencyUnit: string;
  validityDays: number;
  reminderDays: number[];
  earnLimitPerHour: number;
  reviewThresholdAmount: string;
  redeemLimitPer30Min: number;
  maxQuantityPerRedemption: number;
  referralInviterPoints: number;
  referralInviteePoints: number;
  /** Earning caps on REWARD points per member and local day / month (issue 17); null: none. */
  rewardDailyCap: number | null;
  rewardMonthlyCap: number | null;
  /** Earning caps on PURCHASE points per member and local day / month; null (the default): uncapped. */
  purchaseDailyCap: number | null;
  purchaseMonthlyCap: number | null;
}

export interface SettingsPatch {
  pointsPerCurrencyUnit?: number | null;
  validityDays?: number | null;
  reminderDays?: number[] | null;
  earnLimitPerHour?: number | null;
  reviewThresholdAmount?: Decimal | null;
  redeemLimitPer30Min?: number | null;
  maxQuantityPerRedemption?: number | null;
  referralInviterPoints?: number | null;
  referralInviteePoints?: number | null;
  /** 0 removes the cap (GraphQL input cannot tell "unset" from null here). */
  rewardDailyCap?: number | null;
  rewardMonthlyCap?: number | null;
  purchaseDailyCap?: number | null;
  purchaseMonthlyCap?: number | null;
}

const positiveInt = (v: number, max: number) => Number.isInteger(v) && v >= 1 && v <= max;

/**
 * Applies a patch to the current settings: the new values, or the first problem with the
 * field it concerns. Validity ≥ 0 (0: never expire); reminder days positive and distinct;
 * limits positive.
 */
export function applyPatch(current: SettingsValues, patch: SettingsPatch): { problem: { field: string; message: string } } | { next: SettingsValues } {
  const next = { ...current };
  if (patch.pointsPerCurrencyUnit != null) {
    const v = patch.pointsPerCurrencyUnit;
    // Stored with 4 decimals: a rate that rounds to 0 would earn nothing (and fail every purchase).
    const rounded = Number.isFinite(v) ? new Decimal(v).toDecimalPlaces(4) : null;
    if (!rounded || rounded.lte(0) || v > 1000) {
      return { problem: { field: 'pointsPerCurrencyUnit', message: 'pointsPerCurrencyUnit must be from 0.0001 to 1000' } };
    }
    next.pointsPerCurrencyUnit = rounded.toFixed(4);
  }
  if (patch.validityDays != null) {
    if (!Number.isInteger(patch.validityDays) || patch.validityDays < 0 || patch.validityDays > 36500) {
      return { problem: { field: 'validityDays', message: 'validityDays must be 0 (never expire) to 36500' } };
    }
    next.validityDays = patch.validityDays;
  }
  if (patch.reminderDays != null) {
    const days = patch.reminderDays;
    if (days.length > 10 || days.some((d) => !positiveInt(d, 365)) || new Set(days).size !== days.length) {
      return { problem: { field: 'reminderDays', message: 'reminderDays must be distinct whole days from 1 to 365 (at most 10)' } };
    }
    next.reminderDays = [...days].sort((a, b) => b - a);
  }
  if (patch.earnLimitPerHour != null) {
    if (!positiveInt(patch.earnLimitPerHour, 1_000_000)) return { problem: { field: 'earnLimitPerHour', message: 'earnLimitPerHour must be a positive integer' } };
    next.earnLimitPerHour = patch.earnLimitPerHour;
  }
  if (patch.reviewThresholdAmount != null) {
    const v = patch.reviewThresholdAmount;
    if (v.lte(0) || v.decimalPlaces() > 2 || v.gt('999999999999')) {
      return { problem: { field: 'reviewThresholdAmount', message: 'reviewThresholdAmount must be a positive amount with at most 2 decimals' } };
    }
    next.reviewThresholdAmount = v.toFixed(2);
  }
  if (patch.redeemLimitPer30Min != null) {
    if (!positiveInt(patch.redeemLimitPer30Min, 1_000_000)) return { problem: { field: 'redeemLimitPer30Min', message: 'redeemLimitPer30Min must be a positive integer' } };
    next.redeemLimitPer30Min = patch.redeemLimitPer30Min;
  }
  if (patch.maxQuantityPerRedemption != null) {
    if (!positiveInt(patch.maxQuantityPerRedemption, 1_000_000)) {
      return { problem: { field: 'maxQuantityPerRedemption', message: 'maxQuantityPerRedemption must be a positive integer' } };
    }
    next.maxQuantityPerRedemption = patch.maxQuantityPerRedemption;
  }
  for (const field of ['referralInviterPoints', 'referralInviteePoints'] as const) {
    const v = patch[field];
    if (v == null) continue;
    if (!Number.isInteger(v) || v < 0 || v > 1_000_000) return { problem: { field, message: `${field} must be 0 (no reward) to 1000000` } };
    next[field] = v;
  }
  for (const field of ['rewardDailyCap', 'rewardMonthlyCap', 'purchaseDailyCap', 'purchaseMonthlyCap'] as const) {
    const v = patch[field];
    if (v == null) continue;
    if (!Number.isInteger(v) || v < 0 || v > 100_000_000) return { problem: { field, message: `${field} must be 0 (no cap) to 100000000 points` } };
    next[field] = v === 0 ? null : v;
  }
  return { next };
}

/** Field-by-field differences, for the audit. */
export function settingsChanges(before: SettingsValues, after: SettingsValues): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof SettingsValues)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[key] = { from: before[key], to: after[key] };
  }
  return changes;
}

export const MIN_COMPLIANT_VALIDITY_DAYS = 1095;
export const MIN_FIRST_REMINDER_DAYS = 7;

/** Contract: validity under 1095 days, a first reminder under 7 days, points expired unwarned. */
export function complianceViolations(settings: Pick<SettingsValues, 'validityDays' | 'reminderDays'>, unwarnedMembers: number): string[] {
  const violations: string[] = [];
  if (settings.validityDays > 0 && settings.validityDays < MIN_COMPLIANT_VALIDITY_DAYS) {
    violations.push(`Points are valid ${settings.validityDays} days; at least ${MIN_COMPLIANT_VALIDITY_DAYS} days are required`);
  }
  const first = settings.reminderDays.length ? Math.max(...settings.reminderDays) : 0;
  if (first < MIN_FIRST_REMINDER_DAYS) {
    violations.push(first === 0 ? 'No expiry reminders are configured' : `The first expiry reminder is ${first} days before expiry; at least ${MIN_FIRST_REMINDER_DAYS} days are required`);
  }
  if (unwarnedMembers > 0) violations.push(`${unwarnedMembers} member(s) had points expire without a warning`);
  return violations;
}
