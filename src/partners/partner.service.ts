import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { BadInputError } from '../platform/errors';
import { decodeTimeIdCursor, pageSize } from '../platform/graphql/connection';
import { PartnerCall } from './partner-call.entity';

export interface PartnerCallFilter {
  partnerId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** Admins read the partner audit trail, newest first. */
export class PartnerCallService {
  async list(em: EntityManager, filter: PartnerCallFilter, first: number | null | undefined, after: string | null | undefined) {
    const limit = pageSize(first);
    if (filter.since && filter.until && filter.since > filter.until) throw new BadInputError('since must not be after until', 'since');
    const where: FilterQuery<PartnerCall>[] = [];
    if (filter.partnerId) where.push({ partnerId: filter.partnerId });
    if (filter.since) where.push({ at: { $gte: filter.since } });
    if (filter.until) where.push({ at: { $lt: filter.until } });
    // Audit rows have bigint ids.
    const cursor = decodeTimeIdCursor(after, (id) => /^\d{1,19}$/.test(id));
    if (cursor) where.push({ $or: [{ at: { $lt: cursor.at } }, { at: cursor.at, id: { $lt: cursor.id } }] });
    const rows = await em.find(PartnerCall, { $and: where }, { orderBy: [{ at: 'desc' }, { id: 'desc' }], limit: limit + 1 });
    return { rows, limit };
  }
}
