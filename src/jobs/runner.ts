import type { MikroORM } from '@mikro-orm/postgresql';
import type { Services } from '../context';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { ExpiryJob } from './expiry.job';
import { RankSnapshotJob } from './rank-snapshot.job';
import { ExpiryWarningJob } from './expiry-warning.job';
import { StatsJob } from './stats.job';
import { PaymentTimeoutJob } from './payment-timeout.job';
import { TierEvaluationJob } from './tier-evaluation.job';
import { RfmJob } from './rfm.job';
import type { PubSub } from 'type-graphql';
import { isDatabaseUnavailable } from '../platform/db/failures';

export interface Job {
  readonly name: string;
  /** `stop` aborts at shutdown: a job with batches returns between two of them (each batch is its own transaction). */
  run(stop?: AbortSignal): Promise<object>;
}

/**
 * Runs the scheduled jobs, inside the server on an interval or once from `npm run jobs`.
 * Jobs are idempotent and safe on many instances at once, so no leader election is needed.
 */
export class JobRunner {
  readonly jobs: Job[];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly stopSignal = new AbortController();

  private get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; services: Services; pubSub: PubSub; log: Logger; metrics: Metrics; intervalMs: number }) {
    this.jobs = [
      // Warn before expiring: a lot due now can no longer be warned about.
      new ExpiryWarningJob({ orm: deps.orm, clock: deps.clock, pubSub: deps.pubSub, program: deps.services.program }),
      new ExpiryJob({ orm: deps.orm, clock: deps.clock, events: deps.services.events }),
      new PaymentTimeoutJob({ orm: deps.orm, clock: deps.clock, redemptions: deps.services.redemptions }),
      new RankSnapshotJob(deps.services.rankSnapshots),
      new StatsJob({ orm: deps.orm, clock: deps.clock, stats: deps.services.stats }),
      new TierEvaluationJob({ orm: deps.orm, tiers: deps.services.tiers }),
      new RfmJob({ orm: deps.orm, segments: deps.services.segments }),
    ];
  }

  /**
   * Runs every job once, one after another; a failing job is logged and does not stop the rest.
   * PostgreSQL away skips the rest of the run instead: every job would fail the same way, and the
   * next run (jobs are idempotent) picks up what this one left.
   */
  async runOnce(): Promise<Record<string, object | { error: string } | { skipped: string }>> {
    const results: Record<string, object | { error: string } | { skipped: string }> = {};
    let unavailable = false;
    for (const job of this.jobs) {
      if (unavailable || this.stopping) {
        results[job.name] = { skipped: unavailable ? 'database unavailable' : 'shutting down' };
        this.deps.metrics.jobRuns.inc({ job: job.name, outcome: 'skipped' });
        continue;
      }
      // A duration, not a time of day: measured on the monotonic timer, never the program clock.
      const started = performance.now();
      try {
        const result = await job.run(this.stopSignal.signal);
        results[job.name] = result;
        this.deps.metrics.jobRuns.inc({ job: job.name, outcome: 'ok' });
        this.deps.metrics.jobDuration.observe({ job: job.name }, (performance.now() - started) / 1000);
        for (const [item, count] of Object.entries(result)) {
          if (typeof count === 'number' && count > 0) this.deps.metrics.jobItems.inc({ job: job.name, item }, count);
        }
        this.deps.log.info({ job: job.name, ms: Math.round(performance.now() - started), ...result }, 'job done');
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          unavailable = true;
          results[job.name] = { skipped: 'database unavailable' };
          this.deps.metrics.jobRuns.inc({ job: job.name, outcome: 'skipped' });
          this.deps.log.warn({ job: job.name, err: error }, 'database unavailable: skipping this run');
          continue;
        }
        results[job.name] = { error: (error as Error).message };
        this.deps.metrics.jobRuns.inc({ job: job.name, outcome: 'error' });
        this.deps.log.error({ job: job.name, err: error }, 'job failed');
      }
    }
    return results;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.runOnce().then(() => void (this.running = null));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  /** Shutdown: no new run; a run in progress ends after its current batch. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
