import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import { Hook } from '../platform/hooks';
import { periodAt, type Period, type PeriodKind } from '../platform/time';
import { PERIODS } from './leaderboard.rules';
import type { LeaderboardStore } from './leaderboard.store';

/**
 * The boards rebuilt from the truth: scores summed from the ledger in PostgreSQL replace a board
 * in the store. At start-up (boards missing or behind), when Redis is back after an outage, before
 * each rank snapshot, and from `npm run leaderboard:rebuild`.
 */
export class LeaderboardRebuild {
  /** A board was replaced by one rebuilt from the ledger: its live subscribers may be behind it. */
  readonly rebuilt = new Hook<{ kind: PeriodKind }>();

  constructor(private readonly deps: { store: LeaderboardStore; orm: MikroORM; clock: Clock; timeZone: string; log: Logger }) {
    // Back after an outage: updates that failed left the boards behind (stale), and a Redis that came
    // back empty (no persistence, a failover) lost them even if nothing was posted meanwhile.
    deps.store.onReady(() => {
      const catchUp = deps.store.stale ? this.rebuildAll() : this.rebuildMissing();
      void catchUp.catch((error: unknown) => {
        // Not caught up: try again on the next 'ready' (or an operator runs leaderboard:rebuild).
        deps.store.stale = true;
        deps.log.warn({ err: error }, 'leaderboard catch-up failed');
      });
    });
  }

  /**
   * Scores of a period straight from the ledger (the truth the board's sorted set must equal):
   * every member with a non-zero net; only positive ones are ranked.
   */
  async scoresFromLedger(period: Period): Promise<Map<string, number>> {
    const em = this.deps.orm.em.fork();
    const range = period.start && period.end ? 'and posted_at >= ? and posted_at < ?' : '';
    // The primary, not a replica: rebuildStale compares the rebuilt board's total with the primary's
    // ledger, so a board rebuilt from a lagging replica would be behind and rebuilt again.
    const rows = await em.execute<{ member_id: string; score: number }[]>(
      `select member_id, sum(delta)::int as score from ledger_entry
       where status = 'POSTED' and type in ('PURCHASE', 'REWARD', 'REVERSAL') ${range}
       group by member_id having sum(delta) <> 0`,
      period.start && period.end ? [period.start, period.end] : [],
    );
    return new Map(rows.map((r) => [r.member_id, r.score]));
  }

  /** Rebuilds one board from PostgreSQL, swapped in atomically; returns the ranked members. */
  async rebuild(kind: PeriodKind, at: Date = this.deps.clock.now()): Promise<number> {
    const period = periodAt(kind, at, this.deps.timeZone);
    const scores = [...(await this.scoresFromLedger(period)).entries()];
    await this.deps.store.replace(period, scores);
    await this.rebuilt.emit({ kind });
    return scores.filter(([, score]) => score > 0).length;
  }

  async rebuildAll(): Promise<Record<PeriodKind, number>> {
    this.deps.store.stale = false;
    const counts = {} as Record<PeriodKind, number>;
    for (const kind of PERIODS) counts[kind] = await this.rebuild(kind);
    return counts;
  }

  /** At start-up: a board that is missing (new Redis, flushed, expired) is rebuilt from the ledger. */
  async rebuildMissing(): Promise<PeriodKind[]> {
    const rebuilt: PeriodKind[] = [];
    for (const kind of PERIODS) {
      if (!(await this.deps.store.exists(this.deps.store.periodNow(kind)))) {
        await this.rebuild(kind);
        rebuilt.push(kind);
      }
    }
    return rebuilt;
  }

  /**
   * Boards behind the ledger are rebuilt: postings are recorded on the boards after commit, so a
   * process that dies between the two leaves its last increments out. The board's running total
   * (`:sum`, kept with every increment) is compared with the ledger's; a difference that is still
   * there `settleMs` later is not a posting between its commit and its record(), and the board is
   * rebuilt. Runs at start-up and before each rank snapshot.
   */
  async rebuildStale(settleMs = 500): Promise<PeriodKind[]> {
    const behind = async (kind: PeriodKind) => {
      const period = this.deps.store.periodNow(kind);
      const [ledger, board] = await Promise.all([this.ledgerTotal(period), this.deps.store.sum(period)]);
      return board === null || board !== ledger;
    };
    const suspects: PeriodKind[] = [];
    for (const kind of PERIODS) if (await behind(kind)) suspects.push(kind);
    if (suspects.length === 0) return [];
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const rebuilt: PeriodKind[] = [];
    for (const kind of suspects) {
      if (!(await behind(kind))) continue;
      await this.rebuild(kind);
      rebuilt.push(kind);
    }
    if (rebuilt.length) this.deps.log.warn({ boards: rebuilt }, 'leaderboards were behind the ledger and have been rebuilt');
    return rebuilt;
  }

  /** The sum of a period's scores in the ledger (what the board's `:sum` must equal). */
  private async ledgerTotal(period: Period): Promise<number> {
    let total = 0;
    for (const score of (await this.scoresFromLedger(period)).values()) total += score;
    return total;
  }
}
