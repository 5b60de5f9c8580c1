import { randomUUID } from 'node:crypto';
import { lagTolerant } from '../platform/db/replicas';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { RedisClients } from '../platform/redis';
import { addLocalDays, DAY_MS, localDate, periodAt, type Period, type PeriodKind } from '../platform/time';
import { BadInputError } from '../platform/errors';
import { boardIncrements, boardKey, competitionRanks, PERIODS, topPercent, type ScoredEntry } from './leaderboard.rules';
import { LeaderboardUnavailableError } from './leaderboard.errors';

export interface BoardEntry {
  memberId: string;
  score: number;
  rank: number;
}

export interface Board {
  period: Period;
  entries: BoardEntry[];
  total: number;
  updatedAt: Date;
}

export interface RankValue {
  rank: number;
  score: number;
  topPercent: number;
  pointsToNextRank: number | null;
}

const REBUILD_CHUNK = 1000;

/**
 * Boards live in Redis sorted sets (one per period); PostgreSQL stays the truth, and any board
 * can be rebuilt from the ledger. Updates happen after commit, pipelined; when Redis was down
 * for an update, the boards are rebuilt as soon as it is back.
 */
export class LeaderboardService {
  private stale = false;

  constructor(
    private readonly deps: { redis: RedisClients; orm: MikroORM; clock: Clock; timeZone: string; log: Logger; retentionDays: number },
  ) {
    // Back after an outage: updates that failed left the boards behind (stale), and a Redis that came
    // back empty (no persistence, a failover) lost them even if nothing was posted meanwhile.
    deps.redis.command.on('ready', () => {
      const catchUp = this.stale ? this.rebuildAll() : this.rebuildMissing();
      void catchUp.catch((error: unknown) => {
        // Not caught up: try again on the next 'ready' (or an operator runs leaderboard:rebuild).
        this.stale = true;
        deps.log.warn({ err: error }, 'leaderboard catch-up failed');
      });
    });
  }

  private get redis() {
    return this.deps.redis.command;
  }

  /**
   * After commit: every posting's score change on the boards of its periods, one pipeline per
   * board, all at once (a board and its `:at` share a hash slot; boards of different periods may
   * live on different Redis Cluster shards, and a cluster pipeline stays within one).
   */
  async record(entries: ScoredEntry[]): Promise<void> {
    const boards = boardIncrements(entries, this.deps.timeZone);
    if (boards.size === 0) return;
    const now = this.deps.clock.now().toISOString();
    const pipelines = [...boards].map(([key, { period, scores }]) => {
      const pipeline = this.redis.pipeline();
      let total = 0;
      for (const [memberId, delta] of scores) {
        pipeline.zincrby(key, delta, memberId);
        total += delta;
      }
      // The board's running total, compared with the ledger's to find increments lost in a crash (rebuildStale).
      pipeline.incrby(`${key}:sum`, total);
      // Absent means 0, so a score back at exactly 0 leaves the set. A negative net (a refund posted
      // in a later period than its order) stays, unranked: later earnings then add up exactly as the
      // ledger's sum does, and a rebuild gives the same board (clamping at 0 here would not).
      pipeline.zremrangebyscore(key, 0, 0);
      pipeline.set(`${key}:at`, now);
      this.expire(pipeline, key, period);
      return pipeline;
    });
    try {
      const results = (await Promise.all(pipelines.map((p) => p.exec()))).flatMap((r) => r ?? []);
      const failed = results.find(([error]) => error)?.[0];
      if (failed) throw failed;
    } catch (error) {
      this.stale = true;
      this.deps.log.warn({ err: error }, 'leaderboard update failed; boards will be rebuilt when Redis is back');
    }
  }

  private expire(pipeline: ReturnType<RedisClients['command']['pipeline']>, key: string, period: Period) {
    if (!period.end) return;
    // Relative to the program's clock (not Redis's), so a board lives retentionDays past its period.
    const ttl = Math.max(1000, period.end.getTime() + this.deps.retentionDays * DAY_MS - this.deps.clock.now().getTime());
    pipeline.pexpire(key, ttl);
    pipeline.pexpire(`${key}:at`, ttl);
    pipeline.pexpire(`${key}:sum`, ttl);
  }

  private async guarded<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.deps.log.warn({ err: error }, 'leaderboard read failed');
      throw new LeaderboardUnavailableError();
    }
  }

  periodNow(kind: PeriodKind): Period {
    return periodAt(kind, this.deps.clock.now(), this.deps.timeZone);
  }

  /** The top `first` of the current period's board, with competition ranks. */
  async top(kind: PeriodKind, first: number): Promise<Board> {
    const period = this.periodNow(kind);
    const key = boardKey(period);
    return this.guarded(async () => {
      const [[e1, flat], [e2, total], [e3, at]] = (await this.redis
        .pipeline()
        .zrevrangebyscore(key, '+inf', '(0', 'WITHSCORES', 'LIMIT', 0, Math.max(1, first))
        .zcount(key, '(0', '+inf')
        .get(`${key}:at`)
        .exec()) as [Error | null, unknown][];
      const failed = e1 ?? e2 ?? e3;
      if (failed) throw failed;
      const pairs = flat as string[];
      const scores: number[] = [];
      const ids: string[] = [];
      for (let i = 0; i < pairs.length; i += 2) {
        ids.push(pairs[i]);
        scores.push(Number(pairs[i + 1]));
      }
      const ranks = competitionRanks(scores);
      return {
        period,
        entries: ids.map((memberId, i) => ({ memberId, score: scores[i], rank: ranks[i] })),
        total: Number(total),
        updatedAt: typeof at === 'string' && at ? new Date(at) : this.deps.clock.now(),
      };
    });
  }

  /** A member's rank (1 + members strictly ahead), or null when unranked (no positive score) in the period. */
  async rankOf(kind: PeriodKind, memberId: string): Promise<RankValue | null> {
    const key = boardKey(this.periodNow(kind));
    return this.guarded(async () => {
      const score = await this.redis.zscore(key, memberId);
      // Ranked means a positive score in the period (see record()).
      if (score === null || Number(score) <= 0) return null;
      const [[e1, ahead], [e2, total], [e3, next]] = (await this.redis
        .pipeline()
        .zcount(key, `(${score}`, '+inf')
        .zcount(key, '(0', '+inf')
        .zrangebyscore(key, `(${score}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
        .exec()) as [Error | null, unknown][];
      const failed = e1 ?? e2 ?? e3;
      if (failed) throw failed;
      const rank = Number(ahead) + 1;
      const nextScore = (next as string[]).length ? Number((next as string[])[1]) : null;
      return { rank, score: Number(score), topPercent: topPercent(rank, Number(total)), pointsToNextRank: nextScore === null ? null : nextScore - Number(score) };
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

  /** Rebuilds one board from PostgreSQL into a new key, swapped in atomically with RENAME; returns the ranked members. */
  async rebuild(kind: PeriodKind, at: Date = this.deps.clock.now()): Promise<number> {
    const period = periodAt(kind, at, this.deps.timeZone);
    const key = boardKey(period);
    const scores = [...(await this.scoresFromLedger(period)).entries()];
    const staging = `${key}:rebuild:${randomUUID()}`;
    for (let i = 0; i < scores.length; i += REBUILD_CHUNK) {
      const args = scores.slice(i, i + REBUILD_CHUNK).flatMap(([memberId, score]) => [score, memberId]);
      await this.redis.zadd(staging, ...(args as [number, string]));
    }
    const pipeline = this.redis.pipeline();
    if (scores.length) pipeline.rename(staging, key);
    else pipeline.del(key);
    pipeline.set(`${key}:at`, this.deps.clock.now().toISOString());
    pipeline.set(`${key}:sum`, scores.reduce((sum, [, score]) => sum + score, 0));
    this.expire(pipeline, key, period);
    await pipeline.exec();
    return scores.filter(([, score]) => score > 0).length;
  }

  async rebuildAll(): Promise<Record<PeriodKind, number>> {
    this.stale = false;
    const counts = {} as Record<PeriodKind, number>;
    for (const kind of PERIODS) counts[kind] = await this.rebuild(kind);
    return counts;
  }

  /** At start-up: a board that is missing (new Redis, flushed, expired) is rebuilt from the ledger. */
  async rebuildMissing(): Promise<PeriodKind[]> {
    const rebuilt: PeriodKind[] = [];
    for (const kind of PERIODS) {
      const key = boardKey(this.periodNow(kind));
      if (!(await this.redis.exists(key, `${key}:at`))) {
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
      const period = this.periodNow(kind);
      const [ledger, board] = await Promise.all([this.ledgerTotal(period), this.redis.get(`${boardKey(period)}:sum`)]);
      return board === null || Number(board) !== ledger;
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

  /** rankHistory: one point per local day, oldest first; null where unranked or not snapshotted. */
  async rankHistory(em: EntityManager, memberId: string, kind: PeriodKind, days: number): Promise<{ date: string; rank: number | null }[]> {
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new BadInputError('days must be 1 to 366', 'days');
    const now = this.deps.clock.now();
    const tz = this.deps.timeZone;
    const dates = Array.from({ length: days }, (_, i) => localDate(addLocalDays(now, i - days + 1, tz), tz));
    const rows = await lagTolerant(em).execute<{ day: string; rank: number }[]>(
      'select day, rank from rank_snapshot where member_id = ? and period = ? and day >= ? and day <= ?',
      [memberId, kind, dates[0], dates[dates.length - 1]],
    );
    const byDay = new Map(rows.map((r) => [r.day, r.rank]));
    return dates.map((date) => ({ date, rank: byDay.get(date) ?? null }));
  }

  /** Daily snapshot of every ranked member's rank (rankHistory); re-running a day overwrites it. */
  async snapshot(): Promise<number> {
    // Snapshots are history: take them from boards that are not behind the ledger.
    await this.rebuildStale();
    const now = this.deps.clock.now();
    const day = localDate(now, this.deps.timeZone);
    const em = this.deps.orm.em.fork();
    let written = 0;
    for (const kind of PERIODS) {
      const key = boardKey(periodAt(kind, now, this.deps.timeZone));
      let offset = 0;
      let previous: { score: number; rank: number } | null = null;
      for (;;) {
        const flat = await this.redis.zrevrangebyscore(key, '+inf', '(0', 'WITHSCORES', 'LIMIT', offset, REBUILD_CHUNK);
        if (flat.length === 0) break;
        const rows: { member_id: string; rank: number; score: number }[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          const score = Number(flat[i + 1]);
          const position = offset + i / 2 + 1;
          const rank: number = previous && previous.score === score ? previous.rank : position;
          previous = { score, rank };
          rows.push({ member_id: flat[i], rank, score });
        }
        await em.execute(
          `insert into rank_snapshot (period, day, member_id, rank, score)
           select ?, ?, r.member_id, r.rank, r.score from jsonb_to_recordset(?::jsonb) as r(member_id uuid, rank int, score int)
           where exists (select 1 from member m where m.id = r.member_id)
           on conflict (period, day, member_id) do update set rank = excluded.rank, score = excluded.score`,
          [kind, day, JSON.stringify(rows)],
        );
        written += rows.length;
        offset += REBUILD_CHUNK;
      }
    }
    return written;
  }
}
