import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { LedgerWriters } from '../ledger';
import type { LedgerEvents } from '../ledger/ledger.events';
import { transact } from '../platform/db/unit-of-work';

export interface ExpiryRunResult {
  members: number;
  points: number;
  batches: number;
}

/**
 * Expires lots whose time has come: one EXPIRY entry per member and run. Walks due lots in
 * (expires_at, id) keyset batches, so memory stays flat; locks members with SKIP LOCKED, so
 * several instances can run it at once and each lot is expired exactly once (a member skipped
 * here is expired by the next run, or by its next money path, which expires due lots first).
 */
export class ExpiryJob {
  readonly name = 'expiry';
  /** The job's writers publish what they post (EXPIRY entries) through `events`, after each batch commits. */
  private readonly writers: LedgerWriters;

  constructor(
    private readonly deps: { orm: MikroORM; clock: Clock; events: LedgerEvents; batchSize?: number },
  ) {
    this.writers = new LedgerWriters({ clock: deps.clock, events: deps.events });
  }

  async run(stop?: AbortSignal): Promise<ExpiryRunResult> {
    const now = this.deps.clock.now();
    const batchSize = this.deps.batchSize ?? 2000;
    const result: ExpiryRunResult = { members: 0, points: 0, batches: 0 };
    let cursor: { expiresAt: Date; id: string } = { expiresAt: new Date(0), id: '0' };
    for (;;) {
      const em = this.deps.orm.em.fork();
      const due = await em.execute<{ id: string; member_id: string; expires_at: Date }[]>(
        `select id, member_id, expires_at from points_lot
         where remaining > 0 and expires_at <= ? and (expires_at, id) > (?, ?)
         order by expires_at, id limit ?`,
        [now, cursor.expiresAt, cursor.id, batchSize],
      );
      if (due.length === 0) break;
      const last = due[due.length - 1];
      cursor = { expiresAt: last.expires_at, id: last.id };
      const memberIds = [...new Set(due.map((l) => l.member_id))].sort();
      await transact(em, async (uow) => {
        const locked = await uow.tx.execute<{ id: string }[]>(
          `select id from member where id in (select jsonb_array_elements_text(?::jsonb)::uuid) order by id for update skip locked`,
          [JSON.stringify(memberIds)],
        );
        // The run's `now`, not the clock's: a lot is expired exactly when the due query above said so.
        const expired = await this.writers.of(uow, now).expireDue(locked.map((m) => m.id));
        result.members += expired.size;
        for (const points of expired.values()) result.points += points;
      });
      result.batches += 1;
      if (due.length < batchSize || stop?.aborted) break;
    }
    return result;
  }
}
