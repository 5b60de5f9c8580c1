import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';

export interface LiveLot {
  member_id: string;
  remaining: number;
  expires_at: Date | null;
}

/** Built per request: one query for the live lots of every member a response shows. */
export function ledgerLoaders(em: EntityManager, clock: Clock) {
  return {
    liveLots: new DataLoader<string, LiveLot[]>(async (memberIds) => {
      const rows = await em.execute<LiveLot[]>(
        `select member_id, remaining, expires_at from points_lot
         where member_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and remaining > 0 and expires_at > ?
         order by expires_at`,
        [JSON.stringify(memberIds), clock.now()],
      );
      const byMember = new Map<string, LiveLot[]>();
      for (const row of rows) byMember.set(row.member_id, [...(byMember.get(row.member_id) ?? []), row]);
      return memberIds.map((id) => byMember.get(id) ?? []);
    }),
  };
}
