import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { allocate, daysUntil, expiryFor, moneyProblem, purchasePoints, reversalTarget, ruleApplies, type EarningRuleLike, type PurchaseFacts } from '../../src/ledger/ledger.rules';

const DAY = 86_400_000;
const NOW = new Date('2026-03-02T02:00:00.000Z');

describe('earning rules', () => {
  // Contract: ceil(amount × pointsPerCurrencyUnit × tier multiplier × Π rule multipliers) + Σ bonus points, exact decimals.
  it.each<[string, string, string, string, { multiplier: string; bonusPoints: number }[], number]>([
    ['whole amount', '100.00', '1', '1', [], 100],
    ['a cent rounds up', '99.01', '1', '1', [], 100],
    ['the smallest amount earns a point', '0.01', '1', '1', [], 1],
    ['exact decimals: 0.07 × 100 is 7, not 7.000000000000001', '0.07', '100', '1', [], 7],
    ['tier multiplier', '100.00', '1', '1.5', [], 150],
    ['tier multiplier, rounded up once at the end', '33.33', '1', '1.5', [], 50],
    ['points per unit and a rule multiplier', '100.00', '2', '1', [{ multiplier: '2', bonusPoints: 0 }], 400],
    [
      'rules multiply together, bonuses add after rounding',
      '100.00',
      '1',
      '1',
      [
        { multiplier: '1.5', bonusPoints: 10 },
        { multiplier: '2', bonusPoints: 5 },
      ],
      315,
    ],
  ])('purchasePoints: %s', (_name, amount, perUnit, tier, rules, points) => {
    expect(purchasePoints(new Decimal(amount), perUnit, tier, rules)).toBe(points);
  });

  const rule = (over: Partial<EarningRuleLike> = {}): EarningRuleLike => ({
    multiplier: '2',
    bonusPoints: 0,
    startsAt: null,
    endsAt: null,
    weekdays: [],
    categories: [],
    firstOrderOnly: false,
    minTierLevel: null,
    segments: [],
    active: true,
    ...over,
  });
  // 2026-03-02 is a Monday (ISO weekday 1) in Asia/Shanghai.
  const purchase: PurchaseFacts = { occurredAt: NOW, category: 'coffee', tierLevel: 2, segment: 'growing', firstOrder: false, timeZone: 'Asia/Shanghai' };
  it.each<[string, EarningRuleLike, boolean]>([
    ['no conditions', rule(), true],
    ['inactive', rule({ active: false }), false],
    ['starts exactly now (inclusive)', rule({ startsAt: NOW }), true],
    ['starts a millisecond later', rule({ startsAt: new Date(NOW.getTime() + 1) }), false],
    ['ends exactly now (exclusive)', rule({ endsAt: NOW }), false],
    ['ends a millisecond later', rule({ endsAt: new Date(NOW.getTime() + 1) }), true],
    ['on Mondays', rule({ weekdays: [1] }), true],
    ['on weekends', rule({ weekdays: [6, 7] }), false],
    ['in the category', rule({ categories: ['tea', 'coffee'] }), true],
    ['another category', rule({ categories: ['tea'] }), false],
    ['first orders only', rule({ firstOrderOnly: true }), false],
    ['from the tier the member holds', rule({ minTierLevel: 2 }), true],
    ['from a tier above', rule({ minTierLevel: 3 }), false],
    ['for the member’s segment', rule({ segments: ['growing'] }), true],
    ['for another segment', rule({ segments: ['at_risk'] }), false],
  ])('ruleApplies: %s → %s', (_name, r, applies) => {
    expect(ruleApplies(r, purchase)).toBe(applies);
  });

  it.each<[string, Partial<PurchaseFacts>, EarningRuleLike, boolean]>([
    ['a purchase without category never matches a category rule', { category: null }, rule({ categories: ['coffee'] }), false],
    ['a member without segment never matches a segment rule', { segment: null }, rule({ segments: ['growing'] }), false],
    ['a first order matches a first-order rule', { firstOrder: true }, rule({ firstOrderOnly: true }), true],
  ])('ruleApplies: %s', (_name, facts, r, applies) => {
    expect(ruleApplies(r, { ...purchase, ...facts })).toBe(applies);
  });
});

describe('reversal, allocation and expiry rules', () => {
  // floor(points × refunded / amount) on the cumulative refund; all of them once fully refunded.
  it.each([
    [100, '100.00', '0', 0],
    [100, '100.00', '30.00', 30],
    [99, '100.00', '50.00', 49],
    [99, '100.00', '99.99', 98],
    [99, '100.00', '100.00', 99],
    [99, '100.00', '150.00', 99],
    [7, '3.00', '1.00', 2],
    [7, '3.00', '2.00', 4],
  ])('reversalTarget(%i points, order %s, refunded %s) = %i', (points, amount, refunded, target) => {
    expect(reversalTarget(points, new Decimal(amount), new Decimal(refunded))).toBe(target);
  });

  const lots = [
    { id: 'a', remaining: 50 },
    { id: 'b', remaining: 30 },
    { id: 'c', remaining: 0 },
    { id: 'd', remaining: 100 },
  ];
  it.each<[number, [string, number][], number]>([
    [0, [], 0],
    [50, [['a', 50]], 50],
    [
      60,
      [
        ['a', 50],
        ['b', 10],
      ],
      60,
    ],
    [
      80,
      [
        ['a', 50],
        ['b', 30],
      ],
      80,
    ],
    [
      81,
      [
        ['a', 50],
        ['b', 30],
        ['d', 1],
      ],
      81,
    ], // the empty lot is skipped
    [
      200,
      [
        ['a', 50],
        ['b', 30],
        ['d', 100],
      ],
      180,
    ], // short: covered says how much
  ])('allocate(%i) in the order given', (points, taken, covered) => {
    expect(allocate(lots, points)).toEqual({ allocations: taken.map(([lotId, amount]) => ({ lotId, amount })), covered });
  });

  it.each([
    [0, null],
    [1, new Date(NOW.getTime() + DAY)],
    [365, new Date(NOW.getTime() + 365 * DAY)],
  ])('expiryFor(now, %i days) = %s', (days, expiry) => {
    expect(expiryFor(NOW, days)).toEqual(expiry);
  });

  it.each([
    ['in the past', -DAY, 0],
    ['now', 0, 0],
    ['in a millisecond', 1, 1],
    ['in exactly a day', DAY, 1],
    ['a day and a millisecond', DAY + 1, 2],
    ['2.1 days', 2.1 * DAY, 3],
  ])('daysUntil: %s → %i', (_name, ms, days) => {
    expect(daysUntil(NOW, new Date(NOW.getTime() + ms))).toBe(days);
  });

  it.each([
    ['0', 'amount must be greater than 0'],
    ['-1', 'amount must be greater than 0'],
    ['0.001', 'amount must have at most 2 decimals'],
    ['0.01', null],
    ['100000000', null],
    ['100000000.01', 'amount is too large'],
  ])('moneyProblem(%s) = %s', (amount, problem) => {
    expect(moneyProblem(new Decimal(amount), 'amount')).toBe(problem);
  });
});
