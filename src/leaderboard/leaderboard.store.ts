import { randomUUID } from 'node:crypto';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { RedisClients } from '../platform/redis';
import { DAY_MS, periodAt, type Period, type PeriodKind } from '../platform/time';
import { boardIncrements, boardKey, competitionRanks, topPercent, type ScoredEntry } from './leaderboard.rules';
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

/** Members written or read per Redis command when a whole board moves (rebuilds, snapshots). */
export const BOARD_CHUNK = 1000;

/**
 * The boards: one Redis sorted set per period, with its `:at` (last change) and `:sum` (running
 * total, compared with the ledger's by LeaderboardRebuild). Postings are added after commit,
 * pipelined; reads answer the leaderboard queries. PostgreSQL stays the truth: a board that
 * missed an update is marked stale here and rebuilt by ./leaderboard.rebuild.ts.
 */
export class LeaderboardStore {
  /** An update failed (Redis away): the boards are behind the ledger until rebuilt. */
  stale = false;

  constructor(private readonly deps: { redis: RedisClients; clock: Clock; timeZone: string; log: Logger; retentionDays: number }) {}

  private get redis() {
    return this.deps.redis.command;
  }

  /** Redis is (back) up: `listener` catches the boards up (LeaderboardRebuild). */
  onReady(listener: () => void): void {
    this.redis.on('ready', listener);
  }

  /**
   * After commit: every posting's score change on the boards of its periods, in one pipeline (one
   * write and one reply for all of an earning's boards, issue 14). On a Redis Cluster, one pipeline
   * per board, all at once: a board and its `:at` share a hash slot, but boards of different periods
   * may live on different shards, and a cluster pipeline stays within one.
   */
  async record(entries: ScoredEntry[]): Promise<void> {
    const boards = boardIncrements(entries, this.deps.timeZone);
    if (boards.size === 0) return;
    const now = this.deps.clock.now().toISOString();
    const single = this.deps.redis.sharded ? null : this.redis.pipeline();
    const pipelines = [...boards].map(([key, { period, scores }]) => {
      const pipeline = single ?? this.redis.pipeline();
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
      const results = (await Promise.all([...new Set(pipelines)].map((p) => p.exec()))).flatMap((r) => r ?? []);
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
   * Replaces a period's board with `scores` (member, non-zero net) atomically: written to a new
   * key in chunks, swapped in with RENAME, with its `:at`, `:sum` and expiry.
   */
  async replace(period: Period, scores: [string, number][]): Promise<void> {
    const key = boardKey(period);
    const staging = `${key}:rebuild:${randomUUID()}`;
    for (let i = 0; i < scores.length; i += BOARD_CHUNK) {
      const args = scores.slice(i, i + BOARD_CHUNK).flatMap(([memberId, score]) => [score, memberId]);
      await this.redis.zadd(staging, ...(args as [number, string]));
    }
    const pipeline = this.redis.pipeline();
    if (scores.length) pipeline.rename(staging, key);
    else pipeline.del(key);
    pipeline.set(`${key}:at`, this.deps.clock.now().toISOString());
    pipeline.set(
      `${key}:sum`,
      scores.reduce((sum, [, score]) => sum + score, 0),
    );
    this.expire(pipeline, key, period);
    await pipeline.exec();
  }

  /** Whether the period's board is there (a new Redis, a flush or its expiry loses it). */
  async exists(period: Period): Promise<boolean> {
    const key = boardKey(period);
    return (await this.redis.exists(key, `${key}:at`)) > 0;
  }

  /** The board's running total (`:sum`), null when it has none. */
  async sum(period: Period): Promise<number | null> {
    const sum = await this.redis.get(`${boardKey(period)}:sum`);
    return sum === null ? null : Number(sum);
  }

  /** Ranked members (positive score), best first, `count` from `offset`: [memberId, score]. */
  async rankedPage(period: Period, offset: number, count: number): Promise<[string, number][]> {
    const flat = await this.redis.zrevrangebyscore(boardKey(period), '+inf', '(0', 'WITHSCORES', 'LIMIT', offset, count);
    const page: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) page.push([flat[i], Number(flat[i + 1])]);
    return page;
  }
}
