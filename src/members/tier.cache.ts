import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { Tier } from './tier.entity';
import { toTierType, type TierType } from './member.types';

/** A tier as read paths use it: plain data, never a managed entity. */
export type TierView = Pick<Tier, 'id' | 'level' | 'name' | 'minSpend' | 'multiplier' | 'benefits' | 'keepByRecentSpend' | 'upgradeBonus'>;

/**
 * Every member field shows a tier, so reads take the (tiny) tier set from memory instead of a
 * query per request. upsertTier clears this instance's copy at once; other instances see a
 * change within TTL_MS. Money paths (earning) always read tiers from the database.
 */
export class TierCache {
  static readonly TTL_MS = 5_000;
  private entry: { loadedAt: number; tiers: Promise<TierView[]>; shown: TierType[] | null } | null = null;

  constructor(private readonly clock: Clock) {}

  get(em: EntityManager): Promise<TierView[]> {
    const now = this.clock.now().getTime();
    if (!this.entry || now - this.entry.loadedAt > TierCache.TTL_MS) {
      const tiers = em
        .find(Tier, {}, { orderBy: { level: 'asc' } })
        .then((rows) =>
          rows.map(({ id, level, name, minSpend, multiplier, benefits, keepByRecentSpend, upgradeBonus }) => ({ id, level, name, minSpend, multiplier, benefits, keepByRecentSpend, upgradeBonus })),
        );
      const entry: NonNullable<TierCache['entry']> = { loadedAt: now, tiers, shown: null };
      this.entry = entry;
      // The GraphQL shapes (Decimals and all) are built once per load, already sorted by level.
      tiers.then(
        (rows) => void (entry.shown = rows.map(toTierType)),
        () => void (this.entry === entry && (this.entry = null)),
      );
    }
    return this.entry.tiers;
  }

  /**
   * The tier a member holds at `level` (the highest at or below it), synchronously, when this
   * instance's copy is loaded and fresh; null when it must be (re)loaded through `get`. Member.tier
   * is on every member screen: no promise, no sort, no Decimal per request.
   */
  heldTier(level: number): TierType | null {
    const entry = this.entry;
    if (!entry?.shown?.length || this.clock.now().getTime() - entry.loadedAt > TierCache.TTL_MS) return null;
    let held = entry.shown[0];
    for (const tier of entry.shown) if (tier.level <= level) held = tier;
    return held;
  }

  invalidate(): void {
    this.entry = null;
  }
}
