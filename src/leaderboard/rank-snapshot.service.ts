import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { lagTolerant } from '../platform/db/replicas';
import type { Clock } from '../platform/clock';
import { BadInputError } from '../platform/errors';
import { addLocalDays, localDate, periodAt, type PeriodKind } from '../platform/time';
import { PERIODS } from './leaderboard.rules';
import type { LeaderboardRebuild } from './leaderboard.rebuild';
import { BOARD_CHUNK, type LeaderboardStore } from './leaderboard.store';

/** Rank history: a daily snapshot of every board's ranks in PostgreSQL (rank_snapshot), and rankHistory over it. */
export class RankSnapshotService {
  constructor(private readonly deps: { store: LeaderboardStore; rebuild: LeaderboardRebuild; orm: MikroORM; clock: Clock; timeZone: string }) {}

  /** rankHistory: one point per local day, oldest first; null where unranked or not snapshotted. */
  async rankHistory(em: EntityManager, memberId: string, kind: PeriodKind, days: number): Promise<{ date: string; rank: number | null }[]> {
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new BadInputError('days must be 1 to 366', 'days');
    const now = this.deps.clock.now();
    const tz = this.deps.timeZone;
    const dates = Array.from({ length: days }, (_, i) => localDate(addLocalDays(now, i - days + 1, tz), tz));
    const rows = await lagTolerant(em).execute<{ day: string; rank: number }[]>('select day, rank from rank_snapshot where member_id = ? and period = ? and day >= ? and day <= ?', [
      memberId,
      kind,
      dates[0],
      dates[dates.length - 1],
    ]);
    const byDay = new Map(rows.map((r) => [r.day, r.rank]));
    return dates.map((date) => ({ date, rank: byDay.get(date) ?? null }));
  }

  /** Daily snapshot of every ranked member's rank (rankHistory); re-running a day overwrites it. */
  async snapshot(): Promise<number> {
    // Snapshots are history: take them from boards that are not behind the ledger.
    await this.deps.rebuild.rebuildStale();
    const now = this.deps.clock.now();
    const day = localDate(now, this.deps.timeZone);
    const em = this.deps.orm.em.fork();
    let written = 0;
    for (const kind of PERIODS) {
      const period = periodAt(kind, now, this.deps.timeZone);
      let offset = 0;
      let previous: { score: number; rank: number } | null = null;
      for (;;) {
        const page = await this.deps.store.rankedPage(period, offset, BOARD_CHUNK);
        if (page.length === 0) break;
        const rows: { member_id: string; rank: number; score: number }[] = [];
        for (const [i, [memberId, score]] of page.entries()) {
          const position = offset + i + 1;
          const rank: number = previous && previous.score === score ? previous.rank : position;
          previous = { score, rank };
          rows.push({ member_id: memberId, rank, score });
        }
        await em.execute(
          `insert into rank_snapshot (period, day, member_id, rank, score)
           select ?, ?, r.member_id, r.rank, r.score from jsonb_to_recordset(?::jsonb) as r(member_id uuid, rank int, score int)
           where exists (select 1 from member m where m.id = r.member_id)
           on conflict (period, day, member_id) do update set rank = excluded.rank, score = excluded.score`,
          [kind, day, JSON.stringify(rows)],
        );
        written += rows.length;
        offset += BOARD_CHUNK;
      }
    }
    return written;
  }
}
