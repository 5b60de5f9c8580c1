import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { Tier } from './tier.entity';

/** A tier as read paths use it: plain data, never a managed entity. */
export type TierView = Pick<Tier, 'id' | 'level' | 'name' | 'minSpend' | 'multiplier' | 'benefits' | 'keepByRecentSpend' | 'upgradeBonus'>;

/**
 * Every member field shows a tier, so reads take the (tiny) tier set from memory instead of a
 * query per request. upsertTier clears this instance's copy at once; other instances see a
 * change within TTL_MS. Money paths (earning) always read tiers from the database.
 */
export class TierCache {
  static readonly TTL_MS = 5_000;
  private entry: { loadedAt: number; tiers: Promise<TierView[]> } | null = null;

  constructor(private readonly clock: Clock) {}

  get(em: EntityManager): Promise<TierView[]> {
    const now = this.clock.now().getTime();
    if (!this.entry || now - this.entry.loadedAt > TierCache.TTL_MS) {
      const tiers = em
        .find(Tier, {}, { orderBy: { level: 'asc' } })
        .then((rows) => rows.map(({ id, level, name, minSpend, multiplier, benefits, keepByRecentSpend, upgradeBonus }) => ({ id, level, name, minSpend, multiplier, benefits, keepByRecentSpend, upgradeBonus })));
      this.entry = { loadedAt: now, tiers };
      tiers.catch(() => (this.entry = null));
    }
    return this.entry.tiers;
  }

  invalidate(): void {
    this.entry = null;
  }
}
