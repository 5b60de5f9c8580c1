/**
 * The seeds' business thresholds (seed 000 PointsSystemMonitor, seed 001 §5.3). The same
 * numbers are in ops/prometheus/alerts.yml; docs/runbook.md says what to do when one is crossed.
 */
export const HEALTH_THRESHOLDS = {
  /** Points redeemed / points issued over 30 days: under 10 % members are not spending (兑换率过低). */
  redemptionRate: 0.1,
  /** Points expired / points issued over 30 days: over 30 % the program takes back too much (过期率过高). */
  expiryRate: 0.3,
  /** p99 of a redemption, in seconds (兑换处理超过2秒). */
  redemptionSeconds: 2,
  /** Members active in the last 24 hours (活跃用户数过低). */
  activeMembers24h: 100,
  /** Points that expire within 7 days (大量积分即将过期). */
  pointsExpiring7d: 100_000,
} as const;

export interface HealthFigures {
  redemptionRate: number;
  expiryRate: number;
  redemptionP99Seconds: number;
  activeMembers24h: number;
  pointsExpiring7d: number;
}

export interface HealthCheckValue {
  name: string;
  value: number;
  threshold: number;
  ok: boolean;
}

/** One check per threshold, in a fixed order; `ok` is false exactly when the matching alert would fire. */
export function healthChecks(f: HealthFigures): HealthCheckValue[] {
  const t = HEALTH_THRESHOLDS;
  return [
    { name: 'redemption_rate_30d', value: f.redemptionRate, threshold: t.redemptionRate, ok: f.redemptionRate >= t.redemptionRate },
    { name: 'expiry_rate_30d', value: f.expiryRate, threshold: t.expiryRate, ok: f.expiryRate <= t.expiryRate },
    { name: 'redemption_p99_seconds', value: f.redemptionP99Seconds, threshold: t.redemptionSeconds, ok: f.redemptionP99Seconds <= t.redemptionSeconds },
    { name: 'active_members_24h', value: f.activeMembers24h, threshold: t.activeMembers24h, ok: f.activeMembers24h >= t.activeMembers24h },
    { name: 'points_expiring_7d', value: f.pointsExpiring7d, threshold: t.pointsExpiring7d, ok: f.pointsExpiring7d <= t.pointsExpiring7d },
  ];
}

/** The q-quantile (0..1) of samples by the nearest-rank method; 0 for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
