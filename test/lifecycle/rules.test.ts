import { describe, expect, it } from 'vitest';
import { addMonths, keepCheck, upgradeTo } from '../../src/lifecycle/tier.rules';

const TIERS = [
  { level: 1, minSpend: '0', keepByRecentSpend: false },
  { level: 2, minSpend: '1000', keepByRecentSpend: false },
  { level: 3, minSpend: '5000', keepByRecentSpend: true },
];

describe('tier lifecycle rules', () => {
  it.each([
    ['2026-01-31T00:00:00.000Z', 1, '2026-02-28T00:00:00.000Z'], // clamped to February's length
    ['2028-01-31T00:00:00.000Z', 1, '2028-02-29T00:00:00.000Z'], // leap year
    ['2026-03-15T08:30:00.000Z', 12, '2027-03-15T08:30:00.000Z'],
    ['2026-11-30T00:00:00.000Z', 3, '2027-02-28T00:00:00.000Z'],
    ['2026-03-31T00:00:00.000Z', -1, '2026-02-28T00:00:00.000Z'],
  ])('addMonths(%s, %i) = %s', (at, months, expected) => {
    expect(addMonths(new Date(at), months).toISOString()).toBe(expected);
  });

  it.each<[string, number, { lifetime: string; spendBase: string }, number | null]>([
    ['reaches level 2', 1, { lifetime: '1000', spendBase: '0' }, 2],
    ['a cent short', 1, { lifetime: '999.99', spendBase: '0' }, null],
    ['jumps two levels', 1, { lifetime: '5000', spendBase: '0' }, 3],
    ['already holds what the spend reaches', 2, { lifetime: '4000', spendBase: '0' }, null],
    ['spend used by a lowered tier does not count again', 1, { lifetime: '1500', spendBase: '600' }, null],
  ])('upgradeTo: %s', (_name, held, spend, level) => {
    expect(upgradeTo(TIERS, held, spend)?.level ?? null).toBe(level);
  });

  it.each<[string, number, { last12Months: string; last90Days: string }, { kept: boolean; by: string | null; gap: string }]>([
    ['12 months reach minSpend', 2, { last12Months: '1000', last90Days: '0' }, { kept: true, by: 'SPEND_12_MONTHS', gap: '0' }],
    ['12 months short, no recent-spend way', 2, { last12Months: '999', last90Days: '999' }, { kept: false, by: null, gap: '1' }],
    ['90 days reach half of minSpend', 3, { last12Months: '0', last90Days: '2500' }, { kept: true, by: 'SPEND_90_DAYS', gap: '0' }],
    ['both short: the smaller gap', 3, { last12Months: '4000', last90Days: '2000' }, { kept: false, by: null, gap: '500' }],
    ['both short, the year closer', 3, { last12Months: '4900', last90Days: '0' }, { kept: false, by: null, gap: '100' }],
  ])('keepCheck: %s', (_name, level, spend, expected) => {
    const check = keepCheck(
      TIERS.find((tier) => tier.level === level)!,
      spend,
    );
    expect({ ...check, gap: check.gap.toString() }).toEqual(expected);
  });
});
