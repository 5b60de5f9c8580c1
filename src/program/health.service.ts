import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { StatsService } from './stats.service';
import { healthChecks, quantile, type HealthCheckValue } from './health.rules';
import { DAY_MS } from '../platform/time';

/** Redemption durations kept for programHealth's p99 (this instance's most recent ones). */
const RECENT_REDEMPTIONS = 1000;

export interface ProgramGauges {
  activeMembers24h: number;
  activeMembers30d: number;
  pointsExpiring7d: number;
  pointsOutstanding: number;
  at: Date;
}

/**
 * The program's health: the gauges an operator scrapes and the seed's thresholds an admin
 * reads (programHealth). Gauges are computed by a background refresh on every instance (one
 * statement every `intervalMs`) and cached, so a Prometheus scrape never touches the database
 * and every instance reports the same program-wide values.
 */
export class ProgramHealthService {
  private latest: ProgramGauges | null = null;
  private refreshing: Promise<ProgramGauges | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly durations: number[] = [];
  /** Told about every refreshed value (the composition root hands it to the metrics). */
  readonly refreshed: ((gauges: ProgramGauges) => void)[] = [];

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; stats: StatsService; log: Logger }) {}

  async gauges(em: EntityManager, now: Date): Promise<ProgramGauges> {
    const [row] = await em.execute<{ active24h: number; active30d: number; expiring: string; outstanding: string }[]>(
      `select (select count(*) from member where last_active_at > ?)::int as active24h,
              (select count(*) from member where last_active_at > ?)::int as active30d,
              (select coalesce(sum(remaining), 0) from points_lot where remaining > 0 and expires_at > ? and expires_at <= ?)::text as expiring,
              (select coalesce(sum(balance), 0) from member)::text as outstanding`,
      [new Date(now.getTime() - DAY_MS), new Date(now.getTime() - 30 * DAY_MS), now, new Date(now.getTime() + 7 * DAY_MS)],
    );
    return { activeMembers24h: row.active24h, activeMembers30d: row.active30d, pointsExpiring7d: Number(row.expiring), pointsOutstanding: Number(row.outstanding), at: now };
  }

  /** The last refreshed gauges (null before the first refresh succeeded). */
  cached(): ProgramGauges | null {
    return this.latest;
  }

  /** Recomputes the gauges now; concurrent calls share one query. A failure keeps the last values. */
  refresh(): Promise<ProgramGauges | null> {
    this.refreshing ??= (async () => {
      try {
        const gauges = await this.gauges(this.deps.orm.em.fork(), this.deps.clock.now());
        this.latest = gauges;
        for (const listener of this.refreshed) listener(gauges);
        return gauges;
      } catch (error) {
        this.deps.log.warn({ err: error }, 'business gauges refresh failed; keeping the last values');
        return this.latest;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** The first values before the server takes traffic (no scrape sees an empty gauge), then every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
    await this.refresh();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
  }

  /** A redemption's duration on this instance (fed from the redemption attempts by the composition root). */
  recordRedemption(seconds: number): void {
    this.durations.push(seconds);
    if (this.durations.length > RECENT_REDEMPTIONS) this.durations.shift();
  }

  /** programHealth: each threshold with its current value, computed now (an admin query, not a scrape). */
  async checks(em: EntityManager): Promise<HealthCheckValue[]> {
    const now = this.deps.clock.now();
    const [stats, gauges] = await Promise.all([this.deps.stats.compute(em.fork(), now), this.gauges(em.fork(), now)]);
    return healthChecks({
      redemptionRate: stats.redemptionRate,
      expiryRate: stats.expiryRate,
      redemptionP99Seconds: quantile(this.durations, 0.99),
      activeMembers24h: gauges.activeMembers24h,
      pointsExpiring7d: gauges.pointsExpiring7d,
    });
  }
}
