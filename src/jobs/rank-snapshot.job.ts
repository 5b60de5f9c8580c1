import type { RankSnapshotService } from '../leaderboard/rank-snapshot.service';

/** Writes today's rank of every ranked member (rankHistory); idempotent per local day. */
export class RankSnapshotJob {
  readonly name = 'rank-snapshot';

  constructor(private readonly rankSnapshots: RankSnapshotService) {}

  async run(): Promise<{ ranks: number }> {
    return { ranks: await this.rankSnapshots.snapshot() };
  }
}
