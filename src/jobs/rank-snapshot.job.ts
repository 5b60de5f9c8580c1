import type { LeaderboardService } from '../leaderboard/leaderboard.service';

/** Writes today's rank of every ranked member (rankHistory); idempotent per local day. */
export class RankSnapshotJob {
  readonly name = 'rank-snapshot';

  constructor(private readonly leaderboard: LeaderboardService) {}

  async run(): Promise<{ ranks: number }> {
    return { ranks: await this.leaderboard.snapshot() };
  }
}
