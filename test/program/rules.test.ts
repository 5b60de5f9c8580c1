import { describe, expect, it } from 'vitest';
import { HEALTH_THRESHOLDS, healthChecks, quantile, type HealthFigures } from '../../src/program/health.rules';

const HEALTHY: HealthFigures = { redemptionRate: 0.5, expiryRate: 0.1, redemptionP99Seconds: 0.2, activeMembers24h: 500, pointsExpiring7d: 1000 };
const t = HEALTH_THRESHOLDS;

describe('health rules', () => {
  // `ok` is false exactly when the matching alert (ops/prometheus/alerts.yml) would fire: at the threshold is still ok.
  it.each<[string, Partial<HealthFigures>, string | null]>([
    ['all healthy', {}, null],
    ['redemption rate at the threshold', { redemptionRate: t.redemptionRate }, null],
    ['redemption rate below', { redemptionRate: 0.0999 }, 'redemption_rate_30d'],
    ['expiry rate at the threshold', { expiryRate: t.expiryRate }, null],
    ['expiry rate above', { expiryRate: 0.3001 }, 'expiry_rate_30d'],
    ['p99 at the threshold', { redemptionP99Seconds: t.redemptionSeconds }, null],
    ['p99 above', { redemptionP99Seconds: 2.001 }, 'redemption_p99_seconds'],
    ['active members at the threshold', { activeMembers24h: t.activeMembers24h }, null],
    ['active members below', { activeMembers24h: 99 }, 'active_members_24h'],
    ['expiring points at the threshold', { pointsExpiring7d: t.pointsExpiring7d }, null],
    ['expiring points above', { pointsExpiring7d: 100_001 }, 'points_expiring_7d'],
  ])('healthChecks: %s', (_name, figures, failing) => {
    const checks = healthChecks({ ...HEALTHY, ...figures });
    expect(checks.map((c) => c.name)).toEqual(['redemption_rate_30d', 'expiry_rate_30d', 'redemption_p99_seconds', 'active_members_24h', 'points_expiring_7d']);
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(failing ? [failing] : []);
  });

  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  it.each<[string, number[], number, number]>([
    ['no samples', [], 0.99, 0],
    ['one sample', [5], 0.99, 5],
    ['p99 of 1..100', hundred, 0.99, 99],
    ['median of 1..100', hundred, 0.5, 50],
    ['max', hundred, 1, 100],
    ['q = 0 is the minimum', hundred, 0, 1],
    ['p99 of two samples is the larger', [3, 1], 0.99, 3],
  ])('quantile: %s', (_name, samples, q, value) => {
    expect(quantile(samples, q)).toBe(value);
  });
});
