import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The sources points are issued from: a fixed set, so the label stays bounded. */
export const ISSUE_SOURCES = ['purchase', 'task', 'check_in', 'referral', 'challenge', 'adjustment', 'refund'] as const;
export type IssueSource = (typeof ISSUE_SOURCES)[number];

/** Program-wide figures, the same on every instance: computed by a background refresh, read at scrape time. */
export interface BusinessGaugeValues {
  activeMembers24h: number;
  activeMembers30d: number;
  pointsExpiring7d: number;
  pointsOutstanding: number;
  /** When the values were computed (the injected clock's time). */
  at: Date;
}

/** One redemption attempt, as the redemption use case reports it after it committed or rolled back. */
export interface RedemptionOutcome {
  /** The item's type in lower case, or `unknown` when the attempt failed before the item was found. */
  itemType: string;
  /** `ok`, `duplicate` (an idempotent replay) or the refusal's error code in lower case. */
  outcome: string;
  /** Points spent; 0 unless `ok`. */
  points: number;
  seconds: number;
}

const LABEL = /^[a-z_]{1,32}$/;
const bounded = (value: string) => (LABEL.test(value) ? value : 'other');

/**
 * The operator's business metrics (seed 000's PointsSystemMonitor, seed 001 §5.3). Counters are
 * moved by after-commit events the composition root wires, never inside a transaction, so a
 * rolled-back money path moves nothing; each instance counts its own work (sum in Prometheus).
 * Gauges only read the last background refresh: a scrape never runs a query.
 */
export class BusinessMetrics {
  readonly pointsIssued: Counter<'source'>;
  readonly pointsRedeemed: Counter<'item_type'>;
  readonly pointsExpired: Counter;
  readonly redemptions: Counter<'item_type' | 'outcome'>;
  readonly redemptionDuration: Histogram;
  private latest: BusinessGaugeValues | null = null;

  constructor(registry: Registry) {
    const registers = [registry];
    this.pointsIssued = new Counter({ name: 'loyalty_points_issued_total', help: 'Points issued (posted credits) by source', labelNames: ['source'], registers });
    this.pointsRedeemed = new Counter({ name: 'loyalty_points_redeemed_total', help: 'Points spent on redemptions by item type', labelNames: ['item_type'], registers });
    this.pointsExpired = new Counter({ name: 'loyalty_points_expired_total', help: 'Points expired', registers });
    this.redemptions = new Counter({ name: 'loyalty_redemptions_total', help: 'Redemption attempts by item type and outcome', labelNames: ['item_type', 'outcome'], registers });
    this.redemptionDuration = new Histogram({
      name: 'loyalty_redemption_duration_seconds',
      help: 'Duration of a redemption (the whole use case, committed or refused)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
    for (const source of ISSUE_SOURCES) this.pointsIssued.inc({ source }, 0);
    this.pointsExpired.inc(0);
    const metrics = this;
    const gauge = (name: string, help: string, labelNames: string[], read: (v: BusinessGaugeValues, set: (labels: Record<string, string>, value: number) => void) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          // No value before the first refresh: an absent series, not a misleading 0.
          if (metrics.latest) read(metrics.latest, (labels, value) => this.set(labels, value));
        },
      });
    gauge('loyalty_active_members', 'Members active (earned, redeemed, checked in, did a task) within the window', ['window'], (v, set) => {
      set({ window: '24h' }, v.activeMembers24h);
      set({ window: '30d' }, v.activeMembers30d);
    });
    gauge('loyalty_points_expiring', 'Unspent points whose lots expire within the window', ['within'], (v, set) => set({ within: '7d' }, v.pointsExpiring7d));
    gauge('loyalty_points_outstanding', 'Points in members\u2019 balances (the program\u2019s liability)', [], (v, set) => set({}, v.pointsOutstanding));
    gauge('loyalty_business_gauges_refreshed_timestamp_seconds', 'When the business gauges were last computed (unix seconds)', [], (v, set) => set({}, v.at.getTime() / 1000));
  }

  issued(source: IssueSource, points: number): void {
    if (points > 0) this.pointsIssued.inc({ source }, points);
  }

  expired(points: number): void {
    if (points > 0) this.pointsExpired.inc(points);
  }

  redemption(outcome: RedemptionOutcome): void {
    const itemType = bounded(outcome.itemType);
    this.redemptions.inc({ item_type: itemType, outcome: bounded(outcome.outcome) });
    this.redemptionDuration.observe(outcome.seconds);
    if (outcome.outcome === 'ok' && outcome.points > 0) this.pointsRedeemed.inc({ item_type: itemType }, outcome.points);
  }

  /** The background refresh hands its latest values here; scrapes read them as they are. */
  setGauges(values: BusinessGaugeValues): void {
    this.latest = values;
  }
}
