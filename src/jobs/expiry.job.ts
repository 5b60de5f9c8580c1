import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { LedgerWriters } from '../ledger';
import type { LedgerEvents } from '../ledger/ledger.events';
import { transact } from '../platform/db/unit-of-work';

/**
 * Due lots read per batch, measured with `npm run bench -- jobs` at 200k (BENCH_JOBS_EXPIRY_BATCH):
 * 1,000 / 2,000 / 5,000 gave the bare statement 21k / 23k / 15k lots/s and the job 0.79 / 0.85 /
 * 0.67 of it (loaded machine): past 2,000 each batch locks more members and lots for longer and
 * the statement slows per lot, below it the per-batch commit and round trips show.
 */
export const EXPIRY_BATCH_LOTS = 2000;

export interface ExpiryRunResult {
  members: number;
  /** Lots expired. */
  lots: number;
  points: number;
  batches: number;
}

/**
 * Expires lots whose time has come: one EXPIRY entry per member and run. Walks due lots in
 * (expires_at, id) keyset batches, so memory stays flat; each batch is one statement of the
 * ledger (`LedgerWriter.expireDueBatch`), which locks members with SKIP LOCKED, so several
 * instances can run it at once and each lot is expired exactly once (a member skipped here is
 * expired by the next run, or by its next money path, which expires due lots first).
 */
export class ExpiryJob {
  readonly name = 'expiry';
  /** The job's writers publish what they post (EXPIRY entries) through `events`, after each batch commits. */
  private readonly writers: LedgerWriters;

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; events: LedgerEvents; batchSize?: number }) {
    this.writers = new LedgerWriters({ clock: deps.clock, events: deps.events });
  }

  async run(stop?: AbortSignal): Promise<ExpiryRunResult> {
    const now = this.deps.clock.now();
    const batchSize = this.deps.batchSize ?? EXPIRY_BATCH_LOTS;
    const result: ExpiryRunResult = { members: 0, lots: 0, points: 0, batches: 0 };
    let cursor: { expiresAt: Date; id: string } = { expiresAt: new Date(0), id: '0' };
    for (;;) {
      const em = this.deps.orm.em.fork();
      // The run's `now`, not the clock's: a lot is expired exactly when the due query said so.
      // Counted after commit: a retried batch is counted once.
      const batch = await transact(em, (uow) => this.writers.of(uow, now).expireDueBatch(cursor, batchSize));
      if (batch.read === 0) break;
      result.members += batch.expired.size;
      result.lots += batch.lots;
      for (const points of batch.expired.values()) result.points += points;
      result.batches += 1;
      if (batch.read < batchSize || batch.last === null || stop?.aborted) break;
      cursor = batch.last;
    }
    return result;
  }
}
