import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jStat } from 'jstat';
import { assignVariant, bucketHash, bucketRanges, chooseVariation, experimentOutcome, fnv1a32, srmPValue, twoProportionTest, type BucketRange } from '../../src/experiments/experiment.rules';

/*
 * Expected values copied from GrowthBook's language-agnostic SDK test cases:
 * repository growthbook/growthbook, file packages/sdk-js/test/cases.json (specVersion 0.5.4,
 * commit 021bf498f75c8491c156184ca1b3a1fbafa1d64e), sections "hash", "getBucketRange",
 * "chooseVariation", and the hash-version-2 cases of "run" and "stickyBucket".
 * Only the data is copied; the code under test is ours.
 */

// "hash": [seed, value, version, expected]; version 99 (→ null) is not one we implement.
const HASH_CASES: [string, string, 1 | 2, number][] = [
  ['', 'a', 1, 0.22],
  ['', 'b', 1, 0.077],
  ['b', 'a', 1, 0.946],
  ['ef', 'd', 1, 0.652],
  ['asdf', '8952klfjas09ujk', 1, 0.549],
  ['', '123', 1, 0.011],
  ['', '___)((*":&', 1, 0.563],
  ['seed', 'a', 2, 0.0505],
  ['seed', 'b', 2, 0.2696],
  ['foo', 'ab', 2, 0.2575],
  ['foo', 'def', 2, 0.2019],
  ['89123klj', '8952klfjas09ujkasdf', 2, 0.124],
  ['90850943850283058242805', '123', 2, 0.7516],
  ['()**(%$##$%#$#', '___)((*":&', 2, 0.0128],
];

// "getBucketRange": [name, [numVariations, coverage, weights], expected ranges]
const BUCKET_RANGE_CASES: [string, [number, number, number[] | null], BucketRange[]][] = [
  [
    'normal 50/50',
    [2, 1, null],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'reduced coverage',
    [2, 0.5, null],
    [
      [0, 0.25],
      [0.5, 0.75],
    ],
  ],
  [
    'zero coverage',
    [2, 0, null],
    [
      [0, 0],
      [0.5, 0.5],
    ],
  ],
  [
    '4 variations',
    [4, 1, null],
    [
      [0, 0.25],
      [0.25, 0.5],
      [0.5, 0.75],
      [0.75, 1],
    ],
  ],
  [
    'uneven weights',
    [2, 1, [0.4, 0.6]],
    [
      [0, 0.4],
      [0.4, 1],
    ],
  ],
  [
    'uneven weights, 3 variations',
    [3, 1, [0.2, 0.3, 0.5]],
    [
      [0, 0.2],
      [0.2, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'uneven weights, reduced coverage, 3 variations',
    [3, 0.2, [0.2, 0.3, 0.5]],
    [
      [0, 0.04],
      [0.2, 0.26],
      [0.5, 0.6],
    ],
  ],
  [
    'negative coverage',
    [2, -0.2, null],
    [
      [0, 0],
      [0.5, 0.5],
    ],
  ],
  [
    'coverage above 1',
    [2, 1.5, null],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'weights sum below 1',
    [2, 1, [0.4, 0.1]],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'weights sum above 1',
    [2, 1, [0.7, 0.6]],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'weights.length not equal to num variations',
    [4, 1, [0.4, 0.4, 0.2]],
    [
      [0, 0.25],
      [0.25, 0.5],
      [0.5, 0.75],
      [0.75, 1],
    ],
  ],
  [
    'weights sum almost equals 1',
    [2, 1, [0.4, 0.5999]],
    [
      [0, 0.4],
      [0.4, 0.9999],
    ],
  ],
];

// "chooseVariation": [name, bucket, ranges, expected index]
const even: BucketRange[] = [
  [0, 0.5],
  [0.5, 1],
];
const reduced: BucketRange[] = [
  [0, 0.25],
  [0.5, 0.75],
];
const CHOOSE_CASES: [string, number, BucketRange[], number][] = [
  ['even range, 0.2', 0.2, even, 0],
  ['even range, 0.4', 0.4, even, 0],
  ['even range, 0.6', 0.6, even, 1],
  ['even range, 0.8', 0.8, even, 1],
  ['even range, 0', 0, even, 0],
  ['even range, 0.5', 0.5, even, 1],
  ['reduced range, 0.2', 0.2, reduced, 0],
  ['reduced range, 0.4', 0.4, reduced, -1],
  ['reduced range, 0.6', 0.6, reduced, 1],
  ['reduced range, 0.8', 0.8, reduced, -1],
  ['reduced range, 0.25', 0.25, reduced, -1],
  ['reduced range, 0.5', 0.5, reduced, 1],
  [
    'zero range',
    0.5,
    [
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
    ],
    2,
  ],
];

const closeRanges = (actual: BucketRange[], expected: BucketRange[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach(([a, b], i) => {
    expect(a).toBeCloseTo(expected[i][0], 9);
    expect(b).toBeCloseTo(expected[i][1], 9);
  });
};

/** 100,000 distinct, fixed member ids (uuid-shaped, as members' ids are): the test cannot flake. */
const memberIds = (n: number) => Array.from({ length: n }, (_, i) => `${((i * 2654435761) % 4294967296).toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);

describe('GrowthBook-compatible assignment', () => {
  it.each(HASH_CASES)('hash(%j, %j, v%i) = %f', (seed, value, version, expected) => {
    expect(bucketHash(seed, value, version)).toBe(expected);
  });

  it('FNV-1a 32 matches the reference offset basis and a published vector', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c); // FNV-1a 32 of "a" (the FNV reference test suite)
  });

  it.each(BUCKET_RANGE_CASES)('bucket ranges: %s', (_name, [count, coverage, weights], expected) => {
    closeRanges(bucketRanges(count, coverage, weights), expected);
  });

  it.each(CHOOSE_CASES)('chooseVariation: %s', (_name, bucket, ranges, expected) => {
    expect(chooseVariation(bucket, ranges)).toBe(expected);
  });

  it('end to end like a GrowthBook SDK: seed, member id, weights and coverage give its variant', () => {
    // "run": { key: "key", seed: "foo", hashVersion: 2 }, id "1" → variation 1 (default weights; and coverage 0.99).
    expect(assignVariant({ key: 'foo', weights: [1, 1], trafficShare: 1 }, '1')).toBe(1);
    expect(assignVariant({ key: 'foo', weights: [0.5, 0.5], trafficShare: 0.99 }, '1')).toBe(1);
    // "stickyBucket": seed "feature-exp", hashVersion 2, weights 0.3334/0.3333/0.3333:
    // id "d123" → bucket 0.6468, variation 1; id "i123" → bucket 0.9943, variation 2.
    expect(bucketHash('feature-exp', 'd123')).toBe(0.6468);
    expect(bucketHash('feature-exp', 'i123')).toBe(0.9943);
    expect(assignVariant({ key: 'feature-exp', weights: [0.3334, 0.3333, 0.3333], trafficShare: 1 }, 'd123')).toBe(1);
    expect(assignVariant({ key: 'feature-exp', weights: [0.3334, 0.3333, 0.3333], trafficShare: 1 }, 'i123')).toBe(2);
  });

  it('over 100,000 members the split matches the weights (chi-square p > 0.01), inside and outside the share', () => {
    const ids = memberIds(100_000);
    const weights = [2, 3, 5];
    const full = [0, 0, 0];
    for (const id of ids) full[assignVariant({ key: 'points_prompt', weights, trafficShare: 1 }, id)] += 1;
    expect(full.reduce((a, b) => a + b)).toBe(100_000);
    expect(srmPValue(full, weights)!).toBeGreaterThan(0.01);

    const partial = [0, 0, 0];
    let outside = 0;
    for (const id of ids) {
      const i = assignVariant({ key: 'points_prompt', weights, trafficShare: 0.4 }, id);
      if (i < 0) outside += 1;
      else partial[i] += 1;
    }
    expect(srmPValue(partial, weights)!).toBeGreaterThan(0.01);
    // In or out is itself a fair 40/60 coin.
    expect(srmPValue([100_000 - outside, outside], [0.4, 0.6])!).toBeGreaterThan(0.01);
  });

  it('is sticky: a pure function of key, member, weights and share; scaling weights or widening the share moves nobody', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 5 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (member, key, weights, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const atLow = assignVariant({ key, weights, trafficShare: low }, member);
          expect(assignVariant({ key, weights, trafficShare: low }, member)).toBe(atLow);
          expect(assignVariant({ key, weights: weights.map((w) => w * 10), trafficShare: low }, member)).toBe(atLow);
          if (atLow >= 0) expect(assignVariant({ key, weights, trafficShare: high }, member)).toBe(atLow);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('statistics', () => {
  it('normal CDF matches textbook table values', () => {
    expect(jStat.normal.cdf(0, 0, 1)).toBeCloseTo(0.5, 12);
    expect(jStat.normal.cdf(1, 0, 1)).toBeCloseTo(0.8413447461, 8);
    expect(jStat.normal.cdf(1.959963984540054, 0, 1)).toBeCloseTo(0.975, 8);
    expect(jStat.normal.cdf(-2.5758293035489, 0, 1)).toBeCloseTo(0.005, 8);
  });

  it('two-proportion z-test: 200/1000 vs 250/1000 (R prop.test(c(200,250), c(1000,1000), correct=FALSE))', () => {
    // R: X-squared = 7.1685 (= z²), p-value = 0.00742; 95% CI of the difference 0.01346 .. 0.08654.
    // Independently, p = erfc(|z| / √2) with z = 2.677397763 gives 0.0074196493.
    const t = twoProportionTest(200, 1000, 250, 1000);
    expect(t.pValue!).toBeCloseTo(0.0074196493, 8);
    expect(t.ciLow!).toBeCloseTo(0.0134636217, 8);
    expect(t.ciHigh!).toBeCloseTo(0.0865363783, 8);
    // No difference at all: p = 1 and an interval around 0.
    expect(twoProportionTest(0, 50, 0, 70)).toEqual({ pValue: 1, ciLow: 0, ciHigh: 0 });
    expect(twoProportionTest(0, 0, 3, 10)).toEqual({ pValue: null, ciLow: null, ciHigh: null });
  });

  it('SRM: chi-square goodness of fit against the weights', () => {
    // 5000 vs 5500 on a 50/50 split: χ² = 23.81, df 1, p = erfc(√(χ²/2)) = 1.0635e-6.
    expect(srmPValue([5000, 5500], [1, 1])!).toBeCloseTo(1.0635492679527373e-6, 10);
    // df 2 has the closed form p = e^(−χ²/2): 1000/1000/1100 → χ² = 6.4516, p = 0.0397237.
    expect(srmPValue([1000, 1000, 1100], [1, 1, 1])!).toBeCloseTo(0.03972373338644103, 8);
    expect(srmPValue([0, 0], [1, 1])).toBeNull();
  });

  it('significant and a winner only with p < 0.05 and no sample-ratio mismatch', () => {
    const clear = experimentOutcome(
      [
        { variant: 'A', exposures: 1000, conversions: 200, valueSum: 400 },
        { variant: 'B', exposures: 1000, conversions: 250, valueSum: 600 },
      ],
      [1, 1],
    );
    expect(clear).toMatchObject({ significant: true, winner: 'B', srmPValue: 1 });
    expect(clear.variants[0]).toMatchObject({ conversionRate: 0.2, meanValue: 0.4, lift: null, pValue: null });
    expect(clear.variants[1].lift!).toBeCloseTo(0.25, 12);
    expect(clear.variants[1].meanValue).toBe(0.6);

    // The same rates on a deliberately skewed split (1000 vs 1200 on 50/50): SRM p ≈ 2e-5 < 0.001.
    const skewed = experimentOutcome(
      [
        { variant: 'A', exposures: 1000, conversions: 200, valueSum: 0 },
        { variant: 'B', exposures: 1200, conversions: 300, valueSum: 0 },
      ],
      [1, 1],
    );
    expect(skewed.srmPValue!).toBeLessThan(0.001);
    expect(skewed.variants[1].pValue!).toBeLessThan(0.05);
    expect(skewed).toMatchObject({ significant: false, winner: null });

    // A significant loss: the control wins.
    const loss = experimentOutcome(
      [
        { variant: 'A', exposures: 1000, conversions: 250, valueSum: 0 },
        { variant: 'B', exposures: 1000, conversions: 200, valueSum: 0 },
      ],
      [1, 1],
    );
    expect(loss).toMatchObject({ significant: true, winner: 'A' });

    // Not enough evidence.
    const flat = experimentOutcome(
      [
        { variant: 'A', exposures: 100, conversions: 20, valueSum: 0 },
        { variant: 'B', exposures: 100, conversions: 22, valueSum: 0 },
      ],
      [1, 1],
    );
    expect(flat).toMatchObject({ significant: false, winner: null });
  });
});
