import { jStat } from 'jstat';

const normalCdf = (z: number) => jStat.normal.cdf(z, 0, 1);
const chisquareCdf = (x: number, df: number) => jStat.chisquare.cdf(x, df);

/*
 * Pure formulas of the A/B experiments: assignment (GrowthBook-compatible hashing) and the
 * statistics of the results. No I/O, no clock.
 */

// ── assignment ──

/** FNV-1a, 32 bits, over UTF-16 code units (as a JavaScript SDK reads a string). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * GrowthBook's bucketing hash, version 2: a number in [0, 1) with four decimals. Hashing the
 * decimal string of the first hash again spreads seeds that differ only at the end. Version 1
 * (the SDKs' legacy default) is `(fnv1a32(value + seed) % 1000) / 1000`; we only ever assign with
 * version 2, so a client SDK must be given `hashVersion: 2`.
 */
export function bucketHash(seed: string, value: string, version: 1 | 2 = 2): number {
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
}

export type BucketRange = [number, number];

/**
 * Each variant's slice of [0, 1): variants are laid side by side by weight, and each slice keeps
 * only its first `coverage` part, so lowering the traffic share never moves a member from one
 * variant to another (GrowthBook's bucket ranges). Weights that do not add up to 1 (±0.01) or do
 * not match the number of variants fall back to equal weights, as GrowthBook does; callers pass
 * normalized weights (see `normalizedWeights`).
 */
export function bucketRanges(variantCount: number, coverage: number, weights?: readonly number[] | null): BucketRange[] {
  const share = Math.min(Math.max(coverage, 0), 1);
  const equal = Array.from({ length: variantCount }, () => 1 / variantCount);
  let used = weights && weights.length === variantCount ? [...weights] : equal;
  const total = used.reduce((sum, w) => sum + w, 0);
  if (total < 0.99 || total > 1.01) used = equal;
  let start = 0;
  return used.map((weight) => {
    const from = start;
    start += weight;
    return [from, from + share * weight];
  });
}

/** The index of the range holding `bucket` (start inclusive, end exclusive), or -1 outside all of them. */
export function chooseVariation(bucket: number, ranges: readonly BucketRange[]): number {
  for (let i = 0; i < ranges.length; i += 1) {
    if (bucket >= ranges[i][0] && bucket < ranges[i][1]) return i;
  }
  return -1;
}

/** Operators give any positive weights (1:1, 50:50, 0.3/0.7); GrowthBook wants them to sum to 1. */
export function normalizedWeights(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => w / total);
}

export interface AssignmentPlan {
  /** The hash seed: the experiment's key. */
  key: string;
  weights: readonly number[];
  /** 0..1: GrowthBook's coverage. */
  trafficShare: number;
}

/**
 * A member's variant: its index, or -1 when the member falls outside the traffic share (it then
 * sees the control and is not in the experiment). A pure function of the key, the member id,
 * the weights and the share: every instance and a GrowthBook SDK configured with
 * `{ key, seed: key, hashVersion: 2, weights: normalizedWeights(weights), coverage: trafficShare }`
 * and `hashAttribute` = the member id agree.
 */
export function assignVariant(plan: AssignmentPlan, memberId: string): number {
  if (!memberId) return -1;
  const ranges = bucketRanges(plan.weights.length, plan.trafficShare, normalizedWeights(plan.weights));
  return chooseVariation(bucketHash(plan.key, memberId, 2), ranges);
}

// ── statistics ──

/** Two-sided 95%: the standard normal quantile of 0.975. */
export const Z_95 = 1.959963984540054;
export const SIGNIFICANCE_LEVEL = 0.05;
/** Below this the split itself is broken (sample-ratio mismatch): no result can be trusted. */
export const SRM_LEVEL = 0.001;

export interface ProportionTest {
  /** Two-sided p-value of the pooled two-proportion z-test; null without members on either side. */
  pValue: number | null;
  /** 95% Wald interval for the difference of the rates (treatment − control); null without members. */
  ciLow: number | null;
  ciHigh: number | null;
}

/**
 * Treatment (x2 of n2 converted) against control (x1 of n1): the pooled z-test for the p-value
 * (what the textbooks and most calculators report) and the unpooled standard error for the
 * interval, which does not assume the rates are equal.
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): ProportionTest {
  if (n1 <= 0 || n2 <= 0) return { pValue: null, ciLow: null, ciHigh: null };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const diff = p2 - p1;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  // Both rates 0 or both 1: no variation at all, so nothing tells them apart.
  // 2·Φ(−|z|) rather than 2·(1 − Φ(|z|)): keeps tiny p-values instead of rounding them to 0.
  const pValue = se === 0 ? 1 : 2 * normalCdf(-Math.abs(diff / se));
  const seDiff = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  return { pValue, ciLow: diff - Z_95 * seDiff, ciHigh: diff + Z_95 * seDiff };
}

/**
 * Sample-ratio mismatch: Pearson's chi-square goodness of fit of the observed exposures against
 * the split the weights promise (df = variants − 1). Null before anyone is exposed.
 */
export function srmPValue(observed: readonly number[], weights: readonly number[]): number | null {
  const total = observed.reduce((sum, n) => sum + n, 0);
  if (total === 0 || observed.length < 2) return null;
  const shares = normalizedWeights(weights);
  let statistic = 0;
  observed.forEach((n, i) => {
    const expected = total * shares[i];
    statistic += ((n - expected) * (n - expected)) / expected;
  });
  return 1 - chisquareCdf(statistic, observed.length - 1);
}

export interface VariantCounts {
  variant: string;
  exposures: number;
  conversions: number;
  /** Sum of the metric's values of the variant's exposed members. */
  valueSum: number;
}

export interface VariantOutcome {
  variant: string;
  exposures: number;
  conversions: number;
  conversionRate: number;
  meanValue: number | null;
  lift: number | null;
  pValue: number | null;
  ciLow: number | null;
  ciHigh: number | null;
}

export interface Outcome {
  variants: VariantOutcome[];
  srmPValue: number | null;
  significant: boolean;
  winner: string | null;
}

/**
 * The results of one metric: every treatment is compared with the control (the first variant).
 * Significant only when a comparison's p-value is below 0.05 — Bonferroni-corrected,
 * 0.05 / (variants − 1), when there are several treatments — and the split shows no sample-ratio
 * mismatch (SRM p ≥ 0.001). The winner is then the significantly better treatment with the
 * highest rate, or the control when every significant difference is a loss.
 */
export function experimentOutcome(counts: readonly VariantCounts[], weights: readonly number[]): Outcome {
  const [control] = counts;
  const controlRate = control.exposures > 0 ? control.conversions / control.exposures : 0;
  const variants = counts.map((c, i): VariantOutcome => {
    const conversionRate = c.exposures > 0 ? c.conversions / c.exposures : 0;
    const base = { variant: c.variant, exposures: c.exposures, conversions: c.conversions, conversionRate, meanValue: c.exposures > 0 ? c.valueSum / c.exposures : null };
    if (i === 0) return { ...base, lift: null, pValue: null, ciLow: null, ciHigh: null };
    const lift = control.exposures > 0 && c.exposures > 0 && controlRate > 0 ? (conversionRate - controlRate) / controlRate : null;
    return { ...base, lift, ...twoProportionTest(control.conversions, control.exposures, c.conversions, c.exposures) };
  });
  const srm = srmPValue(
    counts.map((c) => c.exposures),
    weights,
  );
  const alpha = SIGNIFICANCE_LEVEL / Math.max(counts.length - 1, 1);
  const splitOk = srm !== null && srm >= SRM_LEVEL;
  const decisive = splitOk ? variants.slice(1).filter((v) => v.pValue !== null && v.pValue < alpha) : [];
  const better = decisive.filter((v) => v.conversionRate > controlRate).sort((a, b) => b.conversionRate - a.conversionRate);
  const winner = decisive.length === 0 ? null : better.length > 0 ? better[0].variant : control.variant;
  return { variants, srmPValue: srm, significant: decisive.length > 0, winner };
}
