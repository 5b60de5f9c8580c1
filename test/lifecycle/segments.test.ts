import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startApp } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { quintile, segmentOf } from '../../src/members/segment.rules';

const DAY = 86_400_000;
const SEGMENTS = '{ segments { name members averageSpend pointsShare } }';
const CREATE_RULE = 'mutation($input: EarningRuleInput!) { createEarningRule(input: $input) { id segments } }';

describe('segment rules', () => {
  it('quintiles are ceil(5 × share at or below), 1..5', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => quintile(i, 10))).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), (a, b) => {
        const [rank, population] = a <= b ? [a, b] : [b, a];
        const q = quintile(rank, population);
        return q >= 1 && q <= 5 && (rank < population || q === 5);
      }),
    );
  });

  it('names a segment in order: new, at risk, high-value active, infrequent big spender, growing', () => {
    expect(segmentOf({ r: 5, f: 5, m: 5 }, 3)).toBe('new_member');
    expect(segmentOf({ r: 2, f: 5, m: 5 }, 40)).toBe('at_risk');
    expect(segmentOf({ r: 3, f: 4, m: 4 }, 40)).toBe('high_value_active');
    expect(segmentOf({ r: 5, f: 1, m: 5 }, 40)).toBe('infrequent_big_spender');
    expect(segmentOf({ r: 4, f: 3, m: 3 }, 40)).toBe('growing');
  });
});

/**
 * A crafted population of ten members, active in the last 90 days, with distinct recency,
 * frequency and spend, so each quintile holds two of them: score = ceil(5 × rank / 10).
 */
const POPULATION: Record<string, { purchases: number; amount: string; lastDaysAgo: number; r: number; f: number; m: number; segment: string }> = {
  A: { purchases: 1, amount: '9000.00', lastDaysAgo: 1, r: 5, f: 1, m: 5, segment: 'infrequent_big_spender' },
  B: { purchases: 8, amount: '1000.00', lastDaysAgo: 2, r: 5, f: 4, m: 5, segment: 'high_value_active' },
  C: { purchases: 7, amount: '1000.00', lastDaysAgo: 3, r: 4, f: 4, m: 4, segment: 'high_value_active' },
  D: { purchases: 2, amount: '50.00', lastDaysAgo: 5, r: 4, f: 1, m: 1, segment: 'growing' },
  E: { purchases: 3, amount: '66.67', lastDaysAgo: 10, r: 3, f: 2, m: 1, segment: 'growing' },
  F: { purchases: 4, amount: '75.00', lastDaysAgo: 20, r: 3, f: 2, m: 2, segment: 'growing' },
  G: { purchases: 5, amount: '80.00', lastDaysAgo: 30, r: 2, f: 3, m: 2, segment: 'at_risk' },
  H: { purchases: 6, amount: '83.33', lastDaysAgo: 45, r: 2, f: 3, m: 3, segment: 'at_risk' },
  I: { purchases: 9, amount: '66.67', lastDaysAgo: 60, r: 1, f: 5, m: 3, segment: 'at_risk' },
  J: { purchases: 10, amount: '70.00', lastDaysAgo: 80, r: 1, f: 5, m: 4, segment: 'at_risk' },
};

describe('RFM segments', async () => {
  const api = await startApp();
  const db = () => api.app.orm.em.fork();
  const members: Record<string, CreatedMember> = {};
  const t0 = api.clock.now();
  const evaluation = new Date(t0.getTime() + 130 * DAY);
  const run = (batchSize = 3) => api.app.services.segments.run(db(), batchSize);
  const segmentOfMember = async (m: CreatedMember) => (await api.ok('{ me { segment } }', {}, m.token)).me.segment;

  it('scores the active population by quintiles and names each member’s segment', async () => {
    for (const key of Object.keys(POPULATION)) members[key] = await createMember(api, { nickname: `RFM-${key}` });
    // Purchases one day apart, ending lastDaysAgo before the evaluation, in time order (the clock only moves forward).
    const purchases = Object.entries(POPULATION).flatMap(([key, p]) => Array.from({ length: p.purchases }, (_, i) => ({ key, amount: p.amount, daysAgo: p.lastDaysAgo + i })));
    purchases.sort((a, b) => b.daysAgo - a.daysAgo);
    for (const p of purchases) {
      api.clock.set(new Date(evaluation.getTime() - p.daysAgo * DAY));
      const res = await earn(api, members[p.key].id, p.amount);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    }
    api.clock.set(evaluation);
    expect(await run()).toMatchObject({ ran: true, active: 10, changed: 10, batches: 4 });

    const [rows] = [await db().execute<{ member_id: string; r: number; f: number; m: number; segment: string }[]>('select member_id, r, f, m, segment from member_rfm')];
    const byId = new Map(rows.map((r) => [r.member_id, r]));
    for (const [key, p] of Object.entries(POPULATION)) {
      expect({ key, ...byId.get(members[key].id) }).toEqual({ key, member_id: members[key].id, r: p.r, f: p.f, m: p.m, segment: p.segment });
      expect(await segmentOfMember(members[key])).toBe(p.segment);
    }
    // The same day again: already done.
    expect(await run()).toMatchObject({ ran: false });

    const stats = (await api.ok(SEGMENTS, {}, tokens.admin())).segments;
    expect(stats.map((s: any) => [s.name, s.members])).toEqual([
      ['at_risk', 4],
      ['high_value_active', 2],
      ['infrequent_big_spender', 1],
      ['new_member', 0],
      ['growing', 3],
    ]);
    // (400 + 499.98 + 600.03 + 700) / 4
    expect(stats[0].averageSpend).toBe('550.00');
    expect(stats.reduce((sum: number, s: any) => sum + s.pointsShare, 0)).toBeCloseTo(1, 9);
    expect(stats[3]).toMatchObject({ name: 'new_member', members: 0, pointsShare: 0 });
    expect(Number(stats[3].averageSpend)).toBe(0);
  });

  it('Member.segment is the member’s and admins’; segments is admins’', async () => {
    const A = members.A;
    expect((await api.ok('query($id: ID!) { member(id: $id) { segment } }', { id: A.id }, tokens.admin())).member.segment).toBe('infrequent_big_spender');
    expect(await api.code('query($id: ID!) { member(id: $id) { segment } }', { id: A.id }, tokens.partner())).toBe('FORBIDDEN');
    expect(await api.code('query($id: ID!) { member(id: $id) { segment } }', { id: A.id }, members.B.token)).toBe('FORBIDDEN');
    expect(await api.code(SEGMENTS, {}, A.token)).toBe('FORBIDDEN');
  });

  it('an earning rule limited to a segment boosts only that segment', async () => {
    expect(await api.code(CREATE_RULE, { input: { name: 'VIP', segments: ['vip'] } }, tokens.admin())).toBe('BAD_USER_INPUT');
    const rule = (await api.ok(CREATE_RULE, { input: { name: '回归礼包', multiplier: 2, segments: ['at_risk'] } }, tokens.admin())).createEarningRule;
    expect(rule.segments).toEqual(['at_risk']);
    api.clock.advance(DAY);
    // G is at risk (tier 1, ×1.0): 100 × 2; D is growing: 100.
    expect((await earn(api, members.G.id, '100.00')).data.earnPoints.points).toBe(200);
    expect((await earn(api, members.D.id, '100.00')).data.earnPoints.points).toBe(100);
    // A member with no segment yet is not in any segment.
    const fresh = await createMember(api);
    expect((await earn(api, fresh.id, '100.00')).data.earnPoints.points).toBe(100);
    await api.ok(
      `mutation($id: ID!, $input: EarningRuleInput!) { updateEarningRule(id: $id, input: $input) { id } }`,
      { id: rule.id, input: { name: '回归礼包', multiplier: 2, segments: ['at_risk'], active: false } },
      tokens.admin(),
    );
  });

  it('keeps the history of segment changes; a member with no purchase in 90 days leaves its segment', async () => {
    const fresh = await createMember(api);
    api.clock.advance(DAY);
    await earn(api, fresh.id, '10.00');
    api.clock.advance(DAY);
    const second = await run();
    expect(second.ran).toBe(true);
    expect(await segmentOfMember(fresh)).toBe('new_member');

    // 100 days later, only members who bought since are active.
    api.clock.advance(100 * DAY);
    await earn(api, members.B.id, '1000.00');
    api.clock.advance(DAY);
    await run();
    expect(await segmentOfMember(members.A)).toBeNull();
    expect(await segmentOfMember(members.B)).not.toBeNull();
    const history = await db().execute<{ segment: string | null; previous: string | null }[]>('select segment, previous from segment_change where member_id = ? order by id', [members.A.id]);
    expect(history[0]).toEqual({ segment: 'infrequent_big_spender', previous: null });
    expect(history.at(-1)).toMatchObject({ segment: null });
    expect(history.length).toBeGreaterThanOrEqual(2);
    await expectReconciled(api);
  });
});
