import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isUuid } from '../platform/ids';
import { Member } from './member.entity';
import { Tier } from './tier.entity';

/** Built per request (and per subscription event): caches never outlive one unit of work. */
export function memberLoaders(em: EntityManager) {
  let tiers: Promise<Tier[]> | null = null;
  return {
    memberById: new DataLoader<string, Member | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await em.find(Member, { id: { $in: valid } }) : [];
      const byId = new Map(rows.map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** The whole tier set, read once per request: it is small and every member field needs it. */
    tiers: () => (tiers ??= em.find(Tier, {}, { orderBy: { level: 'asc' } })),
  };
}
