import type { TierView } from '../members/tier.cache';
import type { TierStatusValue } from './tier.rules';

/** One channel per member: TIER_CHANGED:<memberId> (upgrade, keep, grace, lowering, protection). */
export const TIER_CHANGED_TOPIC = 'TIER_CHANGED';

/** What travels through Redis: plain JSON, dates as ISO strings, amounts as strings. */
export interface TierChangedPayload {
  memberId: string;
  tier: TierView;
  validUntil: string | null;
  qualifyingSpend: string;
  keepSpend: string;
  inGrace: boolean;
  graceUntil: string | null;
  protectedUntil: string | null;
}

export function tierChangedPayload(memberId: string, status: TierStatusValue<TierView>): TierChangedPayload {
  const { id, level, name, minSpend, multiplier, benefits, keepByRecentSpend, upgradeBonus } = status.tier;
  return {
    memberId,
    tier: { id, level, name, minSpend, multiplier, benefits, keepByRecentSpend, upgradeBonus },
    validUntil: status.validUntil?.toISOString() ?? null,
    qualifyingSpend: status.qualifyingSpend.toFixed(2),
    keepSpend: status.keepSpend.toFixed(2),
    inGrace: status.inGrace,
    graceUntil: status.graceUntil?.toISOString() ?? null,
    protectedUntil: status.protectedUntil?.toISOString() ?? null,
  };
}
