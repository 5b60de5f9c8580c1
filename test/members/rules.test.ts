import { describe, expect, it } from 'vitest';
import { heldTierOf, nextTierProgress, tierFor, tierProblems, upgradeSpendOf } from '../../src/members/member.rules';
import { segmentOf, quintile } from '../../src/members/segment.rules';

/** Tiers by lifetime spend (contract): the highest tier whose minSpend is reached. */
const TIERS = [
  { level: 1, minSpend: '0' },
  { level: 2, minSpend: '1000' },
  { level: 3, minSpend: '5000' },
  { level: 4, minSpend: '20000' },
];

describe('tier rules', () => {
  it.each([
    ['0', 1],
    ['999.99', 1],
    ['1000', 2],
    ['1000.00', 2],
    ['4999.99', 2],
    ['5000', 3],
    ['20000', 4],
    ['1000000', 4],
  ])('tierFor(%s) = level %i', (spend, level) => {
    expect(tierFor(TIERS, spend).level).toBe(level);
  });

  it.each<[string, string, number | undefined, { level: number; spendNeeded: string; progress: number } | null]>([
    ['nothing spent', '0', undefined, { level: 2, spendNeeded: '1000', progress: 0 }],
    ['half way', '500', undefined, { level: 2, spendNeeded: '500', progress: 0.5 }],
    ['just reached level 2', '1000', undefined, { level: 3, spendNeeded: '4000', progress: 0 }],
    ['a cent short of level 3', '4999.99', undefined, { level: 3, spendNeeded: '0.01', progress: 0.9999975 }],
    ['at the top', '20000', undefined, null],
    ['held level 3 above what 500 reaches: from level 3, progress clamped at 0', '500', 3, { level: 4, spendNeeded: '19500', progress: 0 }],
    ['held level 4: the top', '500', 4, null],
  ])('nextTierProgress: %s', (_name, spend, held, expected) => {
    const progress = nextTierProgress(TIERS, spend, held);
    expect(progress && { level: progress.tier.level, spendNeeded: progress.spendNeeded.toString(), progress: progress.progress }).toEqual(expected);
  });

  it.each([
    [0, 1], // below every tier: the lowest
    [1, 1],
    [2, 2],
    [4, 4],
    [9, 4], // above every tier: the highest at or below
  ])('heldTierOf(level %i) = level %i', (held, level) => {
    expect(heldTierOf(TIERS, held).level).toBe(level);
  });

  it.each([
    ['1000.00', '300.00', '700.00'],
    ['300.00', '300.00', '0.00'],
    ['100.00', '300.00', '0.00'], // never negative
  ])('upgradeSpendOf(%s, base %s) = %s', (total, base, spend) => {
    expect(upgradeSpendOf(total, base)).toBe(spend);
  });

  it.each<[string, { level: number; minSpend: string }[], string | null]>([
    ['no tiers', [], null],
    ['the standard set', TIERS, null],
    ['the lowest above 0', [{ level: 1, minSpend: '10' }], 'the lowest tier (level 1) must have minSpend 0'],
    [
      'equal minSpend',
      [
        { level: 1, minSpend: '0' },
        { level: 2, minSpend: '0' },
      ],
      'minSpend must grow with level: level 2 must need more than level 1',
    ],
    [
      'out of order by level',
      [
        { level: 2, minSpend: '100' },
        { level: 1, minSpend: '0' },
        { level: 3, minSpend: '50' },
      ],
      'minSpend must grow with level: level 3 must need more than level 2',
    ],
  ])('tierProblems: %s', (_name, tiers, problem) => {
    expect(tierProblems(tiers)).toBe(problem);
  });
});

describe('segment rules (table)', () => {
  it.each([
    [1, 10, 1],
    [2, 10, 1],
    [3, 10, 2],
    [10, 10, 5],
    [1, 1, 5], // a population of one is the top quintile
    [1, 1000, 1],
    [0, 10, 1], // clamped to 1..5
  ])('quintile(%i of %i) = %i', (rank, population, q) => {
    expect(quintile(rank, population)).toBe(q);
  });

  it.each([
    [{ r: 1, f: 1, m: 1 }, 29, 'new_member'], // joined under 30 days ago, whatever the scores
    [{ r: 2, f: 5, m: 5 }, 30, 'at_risk'],
    [{ r: 3, f: 4, m: 4 }, 30, 'high_value_active'],
    [{ r: 3, f: 3, m: 4 }, 30, 'growing'],
    [{ r: 3, f: 2, m: 4 }, 30, 'infrequent_big_spender'],
    [{ r: 5, f: 1, m: 3 }, 30, 'growing'],
  ])('segmentOf(%o, joined %i days ago) = %s', (scores, days, segment) => {
    expect(segmentOf(scores, days)).toBe(segment);
  });
});
