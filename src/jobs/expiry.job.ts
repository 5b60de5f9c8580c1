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

/** Walkers over disjoint key ranges of the due lots, at once: one per PostgreSQL core here (2). */
export const EXPIRY_WALKERS = 2;

export interface ExpiryRunResult {
  members: number;
  /** Lots expired. */
  lots: number;
  points: number;
  batches: number;
}

/**
 * Expires lots whose time has come: one EXPIRY entry per member and run. Walks due lots from the
 * expiry watermark on, in (expires_at, id) keyset batches, so memory stays flat; each batch is
 * one statement of the ledger (`LedgerWriter.expireDueBatch`), which locks members with SKIP LOCKED, so several
 * instances can run it at once and each lot is expired exactly once (a member skipped here is
 * expired by the next run, or by its next money path, which expires due lots first).
 */
export class ExpiryJob {
  readonly name = 'expiry';
  /** The job's writers publish what they post (EXPIRY entries) through `events`, after each batch commits. */
  private readonly writers: LedgerWriters;

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; events: LedgerEvents; batchSize?: number; walkers?: number }) {
    this.writers = new LedgerWriters({ clock: deps.clock, events: deps.events });
  }

  async run(stop?: AbortSignal): Promise<ExpiryRunResult> {
    const now = this.deps.clock.now();
    const result: ExpiryRunResult = { members: 0, lots: 0, points: 0, batches: 0 };
    // Lots before the watermark are all spent or expired (LedgerWriter.advanceExpiryWatermark):
    // the walk starts there instead of re-reading that ever-growing tail, which the expiry index
    // no longer leaves out (it is not partial on remaining > 0, so lot updates can be HOT).
    const from = await transact(this.deps.orm.em.fork(), (uow) => this.writers.of(uow, now).expiryWatermark());
    const starts = await this.segmentStarts(now, { expiresAt: from.at, id: '0' }, this.deps.walkers ?? EXPIRY_WALKERS);
    const ends = [...starts.slice(1), null];
    const finished = await Promise.all(starts.map((start, i) => this.walk(now, start, ends[i], result, stop)));
    // Only after every walker reached its end: a stopped run leaves due lots behind it. Lots left
    // by SKIP LOCKED hold the watermark back; that statement sees them.
    if (finished.every(Boolean)) await transact(this.deps.orm.em.fork(), (uow) => this.writers.of(uow, now).advanceExpiryWatermark(from.raw));
    return result;
  }

  /**
   * Where each walker starts: the watermark, then the due lots' quantiles after it. A batch is one
   * statement PostgreSQL runs on one core, so one walker leaves the other core idle; walkers over
   * consecutive key ranges keep both busy. They need no coordination: a batch expires every due
   * lot of the members it locks, and skips members another batch holds (SKIP LOCKED), whose lots
   * that batch expires, so a lot near a boundary is expired once whichever walker reaches it
   * (test/ledger/concurrency.test.ts runs four jobs at once).
   */
  private async segmentStarts(now: Date, first: Key, walkers: number): Promise<Key[]> {
    if (walkers <= 1) return [first];
    const em = this.deps.orm.em.fork();
    const [{ due }] = await em.execute<{ due: number }[]>('select count(*)::int as due from points_lot where remaining > 0 and expires_at >= ? and expires_at <= ?', [first.expiresAt, now]);
    const starts = [first];
    for (let i = 1; i < walkers; i++) {
      const [at] = await em.execute<{ expires_at: Date; id: string }[]>(
        'select expires_at, id from points_lot where remaining > 0 and expires_at >= ? and expires_at <= ? order by expires_at, id offset ? limit 1',
        [first.expiresAt, now, Math.floor((due * i) / walkers)],
      );
      if (at) starts.push({ expiresAt: new Date(at.expires_at), id: String(at.id) });
    }
    return starts;
  }

  /**
   * Expires due lots in keyset batches from `from` until a batch's last key reaches `until` (null:
   * the end). True when it got there, false when `stop` cut it short.
   */
  private async walk(now: Date, from: Key, until: Key | null, result: ExpiryRunResult, stop?: AbortSignal): Promise<boolean> {
    const batchSize = this.deps.batchSize ?? EXPIRY_BATCH_LOTS;
    let cursor = from;
    for (;;) {
      const em = this.deps.orm.em.fork();
      // The run's `now`, not the clock's: a lot is expired exactly when the due query said so.
      // Counted after commit: a retried batch is counted once.
      const batch = await transact(em, (uow) => this.writers.of(uow, now).expireDueBatch(cursor, batchSize));
      if (batch.read === 0) return true;
      result.members += batch.expired.size;
      result.lots += batch.lots;
      for (const points of batch.expired.values()) result.points += points;
      result.batches += 1;
      if (batch.read < batchSize || batch.last === null) return true;
      if (until && !keyBefore(batch.last, until)) return true;
      if (stop?.aborted) return false;
      cursor = batch.last;
    }
  }
}

interface Key {
  expiresAt: Date;
  id: string;
}

/** (expires_at, id) order, as the due index keeps it; ids are bigint text. */
function keyBefore(a: Key, b: Key): boolean {
  if (a.expiresAt.getTime() !== b.expiresAt.getTime()) return a.expiresAt < b.expiresAt;
  return BigInt(a.id) < BigInt(b.id);
}
