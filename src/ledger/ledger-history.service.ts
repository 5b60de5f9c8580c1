import { BadInputError } from '../platform/errors';
import type { SqlReader } from '../platform/db/replicas';
import { decodeCursor, pageSize } from '../platform/graphql/connection';
import { groupBy } from '../platform/graphql/batch-loader';
import type { LedgerEntryType } from './ledger.entity';
import type { EntryRow } from './ledger.writer';

export type LedgerPageFilter = { types?: LedgerEntryType[] | null; since?: Date | null; until?: Date | null } | null | undefined;

/**
 * Reading the ledger's history (Member.ledger), apart from the use cases that write it
 * (LedgerService): pages may come from a read replica when the caller says they may lag.
 */
export class LedgerHistoryService {
  /**
   * Member.ledger, newest first, keyset-paginated on the entry id: one page of history for each
   * of many members in one statement (the loader's batch):
   * a lateral join walks each member's (member_id, id) index to its page and stops there.
   */
  async entriesOf(reader: SqlReader, memberIds: string[], filter: LedgerPageFilter, first: number | null | undefined, after: string | null | undefined) {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 1);
    const clauses = ['e.member_id = m.id::uuid'];
    const params: unknown[] = [JSON.stringify(memberIds)];
    if (filter?.types?.length) {
      clauses.push('e.type in (select jsonb_array_elements_text(?::jsonb))');
      params.push(JSON.stringify(filter.types));
    }
    if (filter?.since) {
      clauses.push('e.created_at >= ?');
      params.push(filter.since);
    }
    if (filter?.until) {
      clauses.push('e.created_at < ?');
      params.push(filter.until);
    }
    if (cursor) {
      if (!/^\d{1,18}$/.test(String(cursor[0]))) throw new BadInputError('after is not a cursor returned by this API', 'after');
      clauses.push('e.id < ?');
      params.push(String(cursor[0]));
    }
    const rows = await reader.execute<EntryRow[]>(
      `select p.* from jsonb_array_elements_text(?::jsonb) as m(id)
       cross join lateral (select e.* from ledger_entry e where ${clauses.join(' and ')} order by e.id desc limit ?) p`,
      [...params, limit + 1],
    );
    return { pages: groupBy(rows, (r) => r.member_id), limit };
  }
}
