import type { MikroORM } from '@mikro-orm/postgresql';
import type { EvaluationResult, TierLifecycleService } from '../lifecycle/tier.service';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The tier evaluation (issue 17): members whose tier year or grace is due are kept, put in
 * grace, reminded or lowered, in keyset batches by member id. Each batch claims its members
 * FOR UPDATE SKIP LOCKED, so several instances share the work without waiting on each other,
 * and every decision moves a member out of "due": running it again does nothing.
 * It runs with the other jobs (every JOBS_INTERVAL_MS) and finds nothing to do most of the day.
 */
export class TierEvaluationJob {
  readonly name = 'tier-evaluation';

  constructor(private readonly deps: { orm: MikroORM; tiers: TierLifecycleService; batchSize?: number }) {}

  async run(): Promise<EvaluationResult & { batches: number }> {
    const result = { members: 0, kept: 0, graced: 0, reminded: 0, lowered: 0, batches: 0 };
    if (!(await this.deps.tiers.anyDue(this.deps.orm.em.fork()))) return result;
    for (let cursor: string | null = NIL_UUID; cursor;) {
      cursor = await this.deps.tiers.evaluateBatch(this.deps.orm.em.fork(), cursor, this.deps.batchSize ?? 1000, result);
      if (cursor) result.batches += 1;
    }
    return result;
  }
}
