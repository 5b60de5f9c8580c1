import type { EntityManager } from '@mikro-orm/postgresql';
import type { NotificationKind } from './notification.entity';

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
    await tx.execute(
      `insert into notification (id, member_id, kind, title, body, data, created_at)
       select gen_random_uuid(), n.member_id, n.kind, n.title, n.body, n.data, ? from jsonb_to_recordset(?::jsonb) as n(member_id uuid, kind text, title text, body text, data jsonb)`,
      [at, JSON.stringify(notifications.map((n) => ({ member_id: n.memberId, kind: n.kind, title: n.title, body: n.body, data: n.data ?? null })))],
    );
  }
}
