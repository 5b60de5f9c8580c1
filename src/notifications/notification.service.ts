import type { EntityManager } from '@mikro-orm/postgresql';
import { decodeTimeIdCursor, pageSize } from '../platform/graphql/connection';
import { isUuid } from '../platform/ids';
import { Notification, type NotificationKind } from './notification.entity';
import { preparedFromKnex, runPrepared } from '../platform/db/prepared';

/** Inside every money path's transaction: a named prepared statement (platform/db/prepared.ts, issue 14). */
const RECORD = preparedFromKnex(
  'notifications.record',
  `insert into notification (id, member_id, kind, title, body, data, created_at)
       select gen_random_uuid(), n.member_id, n.kind, n.title, n.body, n.data, ? from jsonb_to_recordset(?::jsonb) as n(member_id uuid, kind text, title text, body text, data jsonb)`,
);

export interface NewNotification {
  memberId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  data?: Record<string, unknown>;
}

export class NotificationService {
  /** Records notifications inside the caller's transaction, so they exist exactly when what they announce does. */
  async record(tx: EntityManager, at: Date, notifications: NewNotification[]): Promise<void> {
    if (notifications.length === 0) return;
    await runPrepared(tx, RECORD, [at, JSON.stringify(notifications.map((n) => ({ member_id: n.memberId, kind: n.kind, title: n.title, body: n.body, data: n.data ?? null })))]);
  }

  /** Newest first, keyset-paginated on (createdAt, id). */
  async list(em: EntityManager, memberId: string, first: number | null | undefined, after: string | null | undefined, unreadOnly: boolean) {
    const limit = pageSize(first);
    const where: Record<string, unknown> = { memberId };
    if (unreadOnly) where.readAt = null;
    const cursor = decodeTimeIdCursor(after);
    if (cursor) where.$or = [{ createdAt: { $lt: cursor.at } }, { createdAt: cursor.at, id: { $lt: cursor.id } }];
    const rows = await em.find(Notification, where, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: limit + 1 });
    return { rows, limit };
  }

  /** Marks the member's own notifications read; ids of others' or unknown ones are ignored. Returns how many changed. */
  async markRead(em: EntityManager, memberId: string, ids: string[], at: Date): Promise<number> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return 0;
    return em.nativeUpdate(Notification, { id: { $in: valid }, memberId, readAt: null }, { readAt: at });
  }
}
