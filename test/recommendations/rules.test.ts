import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ItemIndex, SOON_SHARE, finalize, priceBand, rankCandidates, type MemberSignals, type RecItem } from '../../src/recommendations/recommendation.rules';
import { evaluate } from '../../src/recommendations/recommendation.eval';

const itemArb = fc.record({
  category: fc.constantFrom('咖啡', '茶饮', '数码', '美妆'),
  tags: fc.array(fc.constantFrom('热饮', '冷饮', '耳机', '口红', '新品'), { maxLength: 3 }),
  type: fc.constantFrom('VIRTUAL', 'COUPON', 'PHYSICAL'),
  pointsPrice: fc.integer({ min: 1, max: 5000 }),
  offered: fc.boolean(),
});

const world = fc
  .record({
    items: fc.array(itemArb, { minLength: 1, maxLength: 40 }),
    balance: fc.integer({ min: 0, max: 5000 }),
    expiringPoints: fc.integer({ min: 0, max: 3000 }),
    expiringInDays: fc.integer({ min: 0, max: 30 }),
    history: fc.array(fc.nat(39), { maxLength: 8 }),
    pairs: fc.array(fc.tuple(fc.nat(39), fc.nat(39), fc.integer({ min: 1, max: 50 })), { maxLength: 30 }),
    popularity: fc.array(fc.nat(100), { minLength: 40, maxLength: 40 }),
    eligible: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    first: fc.integer({ min: 1, max: 20 }),
  })
  .map((w) => {
    const items: RecItem[] = w.items.map((item, i) => ({ ...item, id: `item-${String(i).padStart(2, '0')}`, name: `商品${i}` }));
    const id = (i: number) => items[i % items.length].id;
    const signals: MemberSignals = {
      balance: w.balance,
      expiringPoints: w.expiringPoints,
      expiringInDays: w.expiringPoints > 0 ? w.expiringInDays : null,
      history: [...new Set(w.history.map(id))],
      neighbours: w.pairs.map(([a, b, together]) => ({ anchor: id(a), itemId: id(b), together })),
      redeemers: new Map(items.map((item) => [item.id, 60])),
    };
    return { ...w, items, signals };
  });

describe('recommendation rules', () => {
  it('never lists what is not offered, eligible or within reach, never leads with the unaffordable, and is deterministic', () => {
    fc.assert(
      fc.property(world, (w) => {
        const index = new ItemIndex(w.items);
        const popularity = Float64Array.from(index.items.map((_, i) => w.popularity[i]));
        const eligible = (i: number) => w.eligible[i];
        const ranked = rankCandidates(index, popularity, w.signals, 60);
        const served = finalize(ranked, eligible, w.first);
        expect(served.length).toBeLessThanOrEqual(w.first);
        for (const r of served) {
          const item = index.items[r.item];
          expect(item.offered && eligible(r.item)).toBe(true);
          expect(item.pointsPrice).toBeLessThanOrEqual(w.signals.balance * SOON_SHARE);
        }
        if (served.length) expect(index.items[served[0].item].pointsPrice).toBeLessThanOrEqual(w.signals.balance);
        expect(served.filter((r) => r.reasonCode === 'USES_EXPIRING_POINTS').length).toBeLessThanOrEqual(2);
        if (w.signals.expiringPoints === 0) expect(served.some((r) => r.reasonCode === 'USES_EXPIRING_POINTS')).toBe(false);
        // Shuffled input, same list: ties break by id, not by catalog order.
        const again = new ItemIndex([...w.items].reverse());
        const reordered = Float64Array.from(again.items.map((item) => popularity[index.position.get(item.id)!]));
        const servedAgain = finalize(rankCandidates(again, reordered, w.signals, 60), (i) => eligible(index.position.get(again.items[i].id)!), w.first);
        expect(servedAgain.map((r) => again.items[r.item].id)).toEqual(served.map((r) => index.items[r.item].id));
      }),
      { numRuns: 300 },
    );
  });

  it('beats popularity clearly on a small synthetic history (the full run is npm run eval:recs)', () => {
    const { rows } = evaluate({ members: 3_000, items: 200, redemptions: 30_000, seed: 7, k: 5 });
    const [hybrid, popularity, random] = rows;
    expect(hybrid.hitRate).toBeGreaterThan(1.5 * popularity.hitRate);
    expect(popularity.hitRate).toBeGreaterThan(random.hitRate);
  });
});

describe('price bands', () => {
  // round(log2(points)): a band spans a factor of 2, boundaries at 2^(n + 0.5) (181 | 182, 362 | 363).
  it.each([
    [0, 0], // free items share the lowest band
    [1, 0],
    [2, 1],
    [100, 7],
    [181, 7],
    [182, 8],
    [362, 8],
    [363, 9],
    [1000, 10],
  ])('priceBand(%i) = %i', (points, band) => {
    expect(priceBand(points)).toBe(band);
  });

  // Each band's lowest and highest whole price, as priceBand's comment lists them; one point past
  // either end is the neighbouring band. Not 100-199, 200-399: 100 and 199 are bands 7 and 8.
  it.each([
    [1, 2, 2],
    [2, 3, 5],
    [3, 6, 11],
    [4, 12, 22],
    [5, 23, 45],
    [6, 46, 90],
    [7, 91, 181],
    [8, 182, 362],
    [9, 363, 724],
    [10, 725, 1448],
    [11, 1449, 2896],
    [12, 2897, 5792],
    [13, 5793, 11585],
    [14, 11586, 23170],
  ])('band %i holds %i to %i points', (band, lowest, highest) => {
    expect([priceBand(lowest - 1), priceBand(lowest), priceBand(highest), priceBand(highest + 1)]).toEqual([band - 1, band, band, band + 1]);
  });
});
