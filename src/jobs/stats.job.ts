import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { StatsService } from '../program/stats.service';

/** Rolls closed days of the ledger into stats_daily, so programStats never scans 30 days of entries. */
export class StatsJob {
  readonly name = 'stats';

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; stats: StatsService }) {}

  async run(): Promise<{ days: number }> {
    return { days: await this.deps.stats.rollUp(this.deps.orm.em.fork(), this.deps.clock.now()) };
  }
}
