import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { batchByArgs } from '../platform/graphql/batch-loader';
import { lagTolerant, primary } from '../platform/db/replicas';
import type { EntryRow } from './ledger.writer';
import type { LedgerHistoryService, LedgerPageFilter } from './ledger-history.service';

export interface LedgerPageArgs {
  filter: LedgerPageFilter;
  first: number | null;
  after: string | null;
}

export interface LiveLot {
  member_id: string;
  remaining: number;
  expires_at: Date | null;
}

/** Built per request: one query for the live lots of every member a response shows. */
export function ledgerLoaders(em: EntityManager, clock: Clock, history: LedgerHistoryService, readsMayLag: () => boolean) {
  return {
    /**
     * Member.ledger: one statement per distinct (filter, first, after) for every member shown.
     * History pages may lag (docs/scaling.md, issue 20), but only under a query: in a mutation's
     * payload (earnPoints { member { ledger } }) the page must show the entry just posted.
     */
    ledgerPage: batchByArgs<LedgerPageArgs, { rows: EntryRow[]; limit: number }>(
      async (memberIds, { filter, first, after }) => {
        const reader = readsMayLag() ? lagTolerant(em) : primary(em);
        const { pages, limit } = await history.entriesOf(reader, memberIds, filter, first, after);
        return new Map(memberIds.map((id) => [id, { rows: pages.get(id) ?? [], limit }]));
      },
      () => ({ rows: [], limit: 0 }),
    ),
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
