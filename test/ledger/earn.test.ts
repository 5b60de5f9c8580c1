import { describe, expect, it } from 'vitest';
import { createMember } from '../support/factories';
import { ENTRY_FIELDS, earn, startLedgerApp, newOrderId } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const RULE_FIELDS = 'id name multiplier bonusPoints startsAt endsAt weekdays categories firstOrderOnly minTierLevel active';
const CREATE_RULE = `mutation($input: EarningRuleInput!) { createEarningRule(input: $input) { ${RULE_FIELDS} } }`;
const UPDATE_RULE = `mutation($id: ID!, $input: EarningRuleInput!) { updateEarningRule(id: $id, input: $input) { ${RULE_FIELDS} } }`;
const EARN = `mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points status duplicate entry { ${ENTRY_FIELDS} } member { id balance lifetimeEarned totalSpend tier { level } } } }`;
const MEMBER_VIEW = `query($id: ID!) { member(id: $id) {
  balance lifetimeEarned totalSpend tier { level } nextTier { tier { level } spendNeeded }
  expiringPoints(withinDays: 400) { points lots { points expiresAt } }
  ledger(first: 50) { edges { node { ${ENTRY_FIELDS} } } }
} }`;
const APPROVE = `mutation($id: ID!) { approveHeldEntry(entryId: $id) { ${ENTRY_FIELDS} } }`;
const REJECT = `mutation($id: ID!, $reason: String!) { rejectHeldEntry(entryId: $id, reason: $reason) { ${ENTRY_FIELDS} } }`;

let categorySequence = 0;
/** Earning rules are program-wide: each test scopes its rules to a category no other test uses. */
const uniqueCategory = () => `cat-${++categorySequence}-${Math.random().toString(36).slice(2, 7)}`;

describe('earnPoints', async () => {
  const { api, db } = await startLedgerApp();

  // A member with this much spend behind it: the tier it reached is held (issue 17: the tier is stored).
  const setSpend = (id: string, spend: string) => db.query('update member set total_spend = $1, tier_level = (select max(level) from tier where min_spend <= $1::numeric) where id = $2', [spend, id]);
  const notifications = async (memberId: string) => (await db.query(`select kind, data from notification where member_id = $1 order by created_at, data->>'toLevel'`, [memberId])).rows;

  async function earnOk(memberId: string, amount: string, options: { orderId?: string; category?: string; occurredAt?: string } = {}) {
    const res = await earn(api, memberId, amount, options);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.earnPoints;
  }
  async function earnError(input: Record<string, unknown>, token: string | null = tokens.admin()) {
    const res = await api.gql(EARN, { input: { orderId: newOrderId(), ...input } }, token);
    expect(res.errors?.length, `expected an error, got ${JSON.stringify(res.data)}`).toBeGreaterThan(0);
    return res.errors![0].extensions?.code;
  }
  async function createRule(input: Record<string, unknown>) {
    return (await api.ok(CREATE_RULE, { input: { name: `rule ${uniqueCategory()}`, ...input } })).createEarningRule;
  }
  const view = async (id: string) => (await api.ok(MEMBER_VIEW, { id })).member;

  describe('the formula', () => {
    it('earns ceil(amount × 1 point per yuan) at the base tier, in a lot valid 365 days', async () => {
      const m = await createMember(api);
      const orderId = newOrderId();
      const first = await earnOk(m.id, '99.50', { orderId });
      expect(first).toMatchObject({ points: 100, status: 'POSTED', duplicate: false, member: { balance: 100, lifetimeEarned: 100, totalSpend: '99.50', tier: { level: 1 } } });
      const expiresAt = new Date(api.clock.now().getTime() + 365 * DAY).toISOString();
      expect(first.entry).toMatchObject({
        memberId: m.id,
        type: 'PURCHASE',
        status: 'POSTED',
        delta: 100,
        balanceAfter: 100,
        reference: orderId,
        source: 'admin:admin-test',
        expiresAt,
        createdAt: api.clock.now().toISOString(),
      });
      const second = await earnOk(m.id, '0.01');
      expect(second).toMatchObject({ points: 1, member: { balance: 101, totalSpend: '99.51' } });
      const third = await earnOk(m.id, '20');
      expect(third).toMatchObject({ points: 20, member: { balance: 121, lifetimeEarned: 121, totalSpend: '119.51' } });

      const member = await view(m.id);
      expect(member.balance).toBe(121);
      expect(member.expiringPoints).toEqual({ points: 121, lots: [{ points: 121, expiresAt }] });
      expect(member.ledger.edges.map((e: any) => [e.node.type, e.node.delta, e.node.balanceAfter])).toEqual([
        ['PURCHASE', 20, 121],
        ['PURCHASE', 1, 101],
        ['PURCHASE', 100, 100],
      ]);
    });

    it('applies the tier multiplier of the member (lifetime spend set in the database)', async () => {
      // [lifetime spend before, points for 99.50, tier level after the purchase]
      const cases: [string, number, number][] = [
        ['0.00', 100, 1], // 99.50 × 1.0
        ['999.99', 100, 2],
        ['1000.00', 120, 2], // 99.50 × 1.2 = 119.4
        ['4999.99', 120, 3],
        ['5000.00', 150, 3], // 99.50 × 1.5 = 149.25
        ['19999.99', 150, 4],
        ['20000.00', 199, 4], // 99.50 × 2
      ];
      for (const [spend, points, levelAfter] of cases) {
        const m = await createMember(api);
        await setSpend(m.id, spend);
        const result = await earnOk(m.id, '99.50');
        expect({ spend, points: result.points, levelAfter: result.member.tier.level }).toEqual({ spend, points, levelAfter });
        expect(result.member.balance).toBe(points);
      }
    });

    it('uses the tier before this purchase, upgrades past 1000 and 5000 with a TIER_CHANGE notification', async () => {
      const m = await createMember(api);
      expect(await earnOk(m.id, '999.99')).toMatchObject({ points: 1000, member: { tier: { level: 1 }, totalSpend: '999.99' } });
      expect(await notifications(m.id)).toEqual([]);

      // This purchase crosses 1000: it still earns at ×1.0, and the member is silver afterwards.
      expect(await earnOk(m.id, '0.01')).toMatchObject({ points: 1, member: { tier: { level: 2 }, totalSpend: '1000.00' } });
      expect(await notifications(m.id)).toEqual([{ kind: 'TIER_CHANGE', data: { fromLevel: 1, toLevel: 2 } }]);

      expect(await earnOk(m.id, '100')).toMatchObject({ points: 120, member: { tier: { level: 2 } } });
      // 4000 × 1.2 = 4800, and 5100 total spend reaches gold.
      expect(await earnOk(m.id, '4000.00')).toMatchObject({ points: 4800, member: { tier: { level: 3 }, totalSpend: '5100.00' } });
      expect(await earnOk(m.id, '10.01')).toMatchObject({ points: 16 }); // 10.01 × 1.5 = 15.015
      expect(await notifications(m.id)).toEqual([
        { kind: 'TIER_CHANGE', data: { fromLevel: 1, toLevel: 2 } },
        { kind: 'TIER_CHANGE', data: { fromLevel: 2, toLevel: 3 } },
      ]);
      const member = await view(m.id);
      expect(member).toMatchObject({ balance: 1000 + 1 + 120 + 4800 + 16, lifetimeEarned: 5937, totalSpend: '5110.01', tier: { level: 3 }, nextTier: { tier: { level: 4 }, spendNeeded: '14889.99' } });
    });

    it('reaches the top tier by real purchases (10000.00 is not over the review threshold)', async () => {
      const m = await createMember(api);
      expect(await earnOk(m.id, '10000.00')).toMatchObject({ points: 10000, status: 'POSTED', member: { tier: { level: 3 } } });
      // Gold (×1.5) before this purchase, diamond after it.
      expect(await earnOk(m.id, '10000.00')).toMatchObject({ points: 15000, status: 'POSTED', member: { tier: { level: 4 }, totalSpend: '20000.00' } });
      expect(await earnOk(m.id, '1.01')).toMatchObject({ points: 3 }); // 1.01 × 2 = 2.02
      expect((await notifications(m.id)).map((n) => n.data)).toEqual([
        { fromLevel: 1, toLevel: 3 },
        { fromLevel: 3, toLevel: 4 },
      ]);
      expect((await view(m.id)).nextTier).toBeNull();
    });

    it('uses the program setting pointsPerCurrencyUnit', async () => {
      const m = await createMember(api);
      await db.query('update program_settings set points_per_currency_unit = 1.5');
      try {
        expect((await earnOk(m.id, '10.01')).points).toBe(16); // 15.015
        await setSpend(m.id, '1000');
        expect((await earnOk(m.id, '10.00')).points).toBe(18); // 10 × 1.5 × 1.2
      } finally {
        await db.query('update program_settings set points_per_currency_unit = 1');
      }
    });
  });

  describe('earning rules', () => {
    it('multiplies by every matching rule, adds their bonus, and rounds up once at the end', async () => {
      const cat = uniqueCategory();
      await createRule({ categories: [cat], multiplier: 2, bonusPoints: 5 });
      const m = await createMember(api);
      expect((await earnOk(m.id, '10.01', { category: cat })).points).toBe(26); // ceil(20.02) + 5
      expect((await earnOk(m.id, '10.01', { category: uniqueCategory() })).points).toBe(11);
      expect((await earnOk(m.id, '10.01')).points).toBe(11);

      await createRule({ categories: [cat, uniqueCategory()], multiplier: 1.5, bonusPoints: 3 });
      expect((await earnOk(m.id, '10.01', { category: cat })).points).toBe(39); // ceil(10.01 × 2 × 1.5 = 30.03) + 8
      const silver = await createMember(api);
      await setSpend(silver.id, '1000');
      // ceil(10.01 × 1.2 × 2 × 1.5 = 36.036) + 8; rounding each step would give 47.
      expect((await earnOk(silver.id, '10.01', { category: cat })).points).toBe(45);
      expect(await view(m.id)).toMatchObject({ balance: 26 + 11 + 11 + 39, lifetimeEarned: 87 });
    });

    it('matches startsAt ≤ occurredAt < endsAt, on the purchase time rather than now', async () => {
      const cat = uniqueCategory();
      const startsAt = '2026-02-20T00:00:00.000Z';
      const endsAt = '2026-02-25T00:00:00.000Z';
      await createRule({ categories: [cat], bonusPoints: 100, startsAt, endsAt });
      const m = await createMember(api);
      const at = async (occurredAt: string) => (await earnOk(m.id, '10', { category: cat, occurredAt })).points;
      expect(await at('2026-02-19T23:59:59.999Z')).toBe(10);
      expect(await at(startsAt)).toBe(110);
      expect(await at('2026-02-24T23:59:59.999Z')).toBe(110);
      expect(await at(endsAt)).toBe(10);
      // No occurredAt: the purchase happens now, after the window.
      expect((await earnOk(m.id, '10', { category: cat })).points).toBe(10);
    });

    it('counts weekdays in Asia/Shanghai, not UTC', async () => {
      const cat = uniqueCategory();
      await createRule({ categories: [cat], weekdays: [1], bonusPoints: 50 }); // Monday
      await createRule({ categories: [cat], weekdays: [7], bonusPoints: 7 }); // Sunday
      const m = await createMember(api);
      // 2026-03-01 is a Sunday. 17:30Z is Monday 01:30 in Shanghai; 15:30Z is still Sunday 23:30 there.
      expect((await earnOk(m.id, '10', { category: cat, occurredAt: '2026-03-01T17:30:00Z' })).points).toBe(60);
      expect((await earnOk(m.id, '10', { category: cat, occurredAt: '2026-03-01T15:30:00Z' })).points).toBe(17);
      expect((await earnOk(m.id, '10', { category: cat, occurredAt: '2026-03-01T16:00:00+08:00' })).points).toBe(17);
      // Wednesday: neither.
      expect((await earnOk(m.id, '10', { category: cat, occurredAt: '2026-02-25T12:00:00Z' })).points).toBe(10);
    });

    it('firstOrderOnly applies to the first purchase of a member only', async () => {
      const cat = uniqueCategory();
      await createRule({ categories: [cat], firstOrderOnly: true, bonusPoints: 20 });
      const fresh = await createMember(api);
      expect((await earnOk(fresh.id, '10', { category: cat })).points).toBe(30);
      expect((await earnOk(fresh.id, '10', { category: cat })).points).toBe(10);
      const regular = await createMember(api);
      expect((await earnOk(regular.id, '10')).points).toBe(10);
      expect((await earnOk(regular.id, '10', { category: cat })).points).toBe(10);
    });

    it('minTierLevel compares with the tier before the purchase', async () => {
      const cat = uniqueCategory();
      await createRule({ categories: [cat], minTierLevel: 2, multiplier: 2 });
      const base = await createMember(api);
      expect((await earnOk(base.id, '10', { category: cat })).points).toBe(10);
      const silver = await createMember(api);
      await setSpend(silver.id, '1000');
      expect((await earnOk(silver.id, '10', { category: cat })).points).toBe(24); // 10 × 1.2 × 2
      const almost = await createMember(api);
      await setSpend(almost.id, '995');
      // 995 + 10 crosses 1000, but the purchase is earned at the tier it started in.
      expect(await earnOk(almost.id, '10', { category: cat })).toMatchObject({ points: 10, member: { tier: { level: 2 } } });
      expect((await earnOk(almost.id, '10', { category: cat })).points).toBe(24);
    });

    it('lists rules, updates them whole, and an inactive rule no longer applies', async () => {
      const cat = uniqueCategory();
      const rule = await createRule({ name: '会员日', categories: [cat], multiplier: 3, bonusPoints: 1, weekdays: [3, 1, 1] });
      expect(rule).toMatchObject({
        name: '会员日',
        multiplier: 3,
        bonusPoints: 1,
        weekdays: [1, 3],
        categories: [cat],
        firstOrderOnly: false,
        minTierLevel: null,
        active: true,
        startsAt: null,
        endsAt: null,
      });
      const listed = (await api.ok(`{ earningRules { ${RULE_FIELDS} } }`, {}, tokens.admin())).earningRules;
      expect(listed).toContainEqual(rule);

      const m = await createMember(api);
      const monday = '2026-03-02T01:00:00Z';
      expect((await earnOk(m.id, '10', { category: cat, occurredAt: monday })).points).toBe(31);

      const updated = (await api.ok(UPDATE_RULE, { id: rule.id, input: { name: '会员日2', categories: [cat], multiplier: 1.5, bonusPoints: 0 } })).updateEarningRule;
      // A whole replacement: weekdays went back to the default (every day).
      expect(updated).toMatchObject({ id: rule.id, name: '会员日2', multiplier: 1.5, bonusPoints: 0, weekdays: [], active: true });
      expect((await earnOk(m.id, '10', { category: cat, occurredAt: '2026-03-01T01:00:00Z' })).points).toBe(15);

      await api.ok(UPDATE_RULE, { id: rule.id, input: { name: '会员日2', categories: [cat], multiplier: 1.5, active: false } });
      expect((await earnOk(m.id, '10', { category: cat })).points).toBe(10);
      const after = (await api.ok(`{ earningRules { id active } }`)).earningRules;
      expect(after).toContainEqual({ id: rule.id, active: false });
    });

    it('refuses bad rules and unknown ids', async () => {
      const cat = uniqueCategory();
      const bad = async (input: Record<string, unknown>) => api.code(CREATE_RULE, { input: { name: 'bad', categories: [cat], ...input } });
      expect(await bad({ weekdays: [8] })).toBe('BAD_USER_INPUT');
      expect(await bad({ weekdays: [0] })).toBe('BAD_USER_INPUT');
      expect(await bad({ multiplier: 0 })).toBe('BAD_USER_INPUT');
      expect(await bad({ bonusPoints: -1 })).toBe('BAD_USER_INPUT');
      expect(await bad({ startsAt: '2026-03-02T00:00:00Z', endsAt: '2026-03-01T00:00:00Z' })).toBe('BAD_USER_INPUT');
      expect(await bad({ name: '  ' })).toBe('BAD_USER_INPUT');
      expect(await api.code(UPDATE_RULE, { id: '7d4f5e0e-0000-4000-8000-000000000000', input: { name: 'x' } })).toBe('NOT_FOUND');
      expect(await api.code(UPDATE_RULE, { id: 'nope', input: { name: 'x' } })).toBe('NOT_FOUND');
      // Nothing was created by the refused attempts.
      const listed = (await api.ok(`{ earningRules { categories } }`)).earningRules;
      expect(listed.filter((r: any) => r.categories.includes(cat))).toEqual([]);
    });

    it('only admins manage rules; members cannot list them', async () => {
      const m = await createMember(api);
      expect(await api.code(CREATE_RULE, { input: { name: 'x', categories: [uniqueCategory()] } }, tokens.partner())).toBe('FORBIDDEN');
      expect(await api.code(CREATE_RULE, { input: { name: 'x', categories: [uniqueCategory()] } }, m.token)).toBe('FORBIDDEN');
      expect(await api.code(`{ earningRules { id } }`, {}, m.token)).toBe('FORBIDDEN');
    });
  });

  describe('idempotency', () => {
    it('the same orderId again returns the first entry and points with duplicate: true', async () => {
      const m = await createMember(api);
      const orderId = newOrderId();
      const first = await earnOk(m.id, '88.80', { orderId });
      const again = await earnOk(m.id, '88.8', { orderId });
      expect(again).toMatchObject({ points: first.points, status: 'POSTED', duplicate: true, entry: first.entry, member: { balance: 89, totalSpend: '88.80' } });
      expect(await earnError({ memberId: m.id, orderId, amount: '88.81' })).toBe('CONFLICT');
      const other = await createMember(api);
      expect(await earnError({ memberId: other.id, orderId, amount: '88.80' })).toBe('CONFLICT');
      expect(await view(other.id)).toMatchObject({ balance: 0, totalSpend: '0.00', ledger: { edges: [] } });
      const member = await view(m.id);
      expect(member.balance).toBe(89);
      expect(member.ledger.edges.map((e: any) => e.node.id)).toEqual([first.entry.id]);
    });

    it('a repeat keeps the first result even when the rules or the tier changed since', async () => {
      const cat = uniqueCategory();
      const m = await createMember(api);
      const orderId = newOrderId();
      const first = await earnOk(m.id, '50', { orderId, category: cat });
      await createRule({ categories: [cat], multiplier: 2 });
      await setSpend(m.id, '6000');
      expect(await earnOk(m.id, '50', { orderId, category: cat })).toMatchObject({ points: 50, duplicate: true, entry: { id: first.entry.id } });
      expect((await earnOk(m.id, '50', { category: cat })).points).toBe(150);
    });
  });

  describe('risk rules', () => {
    it('a frozen member cannot earn (MEMBER_FROZEN) until unfrozen', async () => {
      const m = await createMember(api);
      await earnOk(m.id, '10');
      await api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "风控") { status } }`, { id: m.id });
      expect(await earnError({ memberId: m.id, amount: '100' })).toBe('MEMBER_FROZEN');
      expect(await view(m.id)).toMatchObject({ balance: 10, totalSpend: '10.00' });
      expect((await view(m.id)).ledger.edges).toHaveLength(1);
      await api.ok(`mutation($id: ID!) { unfreezeMember(memberId: $id) { status } }`, { id: m.id });
      expect(await earnOk(m.id, '100')).toMatchObject({ points: 100, member: { balance: 110 } });
    });

    it('the 11th purchase earning within an hour is RATE_LIMITED; an hour later it is allowed again', async () => {
      const m = await createMember(api);
      const orders: string[] = [];
      for (let i = 0; i < 10; i++) {
        const orderId = newOrderId();
        orders.push(orderId);
        await earnOk(m.id, '1', { orderId });
        api.clock.advance(60_000);
      }
      // The first earning was 10 minutes ago.
      expect(await earnError({ memberId: m.id, amount: '1' })).toBe('RATE_LIMITED');
      // A retry of an order already processed is still answered as a duplicate.
      expect(await earnOk(m.id, '1', { orderId: orders[9] })).toMatchObject({ duplicate: true, points: 1 });
      // Other members are not affected.
      const other = await createMember(api);
      expect((await earnOk(other.id, '1')).points).toBe(1);

      api.clock.advance(50 * 60_000 - 1); // 1 ms before the first earning leaves the hour
      expect(await earnError({ memberId: m.id, amount: '1' })).toBe('RATE_LIMITED');
      expect(await view(m.id)).toMatchObject({ balance: 10 });
      expect((await view(m.id)).ledger.edges).toHaveLength(10);

      api.clock.advance(1);
      expect(await earnOk(m.id, '1')).toMatchObject({ points: 1, member: { balance: 11 } });
      // Only one slot freed up: the next one is limited again.
      expect(await earnError({ memberId: m.id, amount: '1' })).toBe('RATE_LIMITED');
      api.clock.advance(60 * 60_000);
    });

    it('a purchase over 10000.00 is HELD; approving posts it (balance, spend, tier), twice is idempotent', async () => {
      const m = await createMember(api);
      await earnOk(m.id, '100');
      const orderId = newOrderId();
      const held = await earnOk(m.id, '10000.01', { orderId });
      expect(held).toMatchObject({ points: 10001, status: 'HELD_FOR_REVIEW', duplicate: false, member: { balance: 100, totalSpend: '100.00', lifetimeEarned: 100 } });
      expect(held.entry).toMatchObject({ type: 'PURCHASE', status: 'HELD', delta: 10001, balanceAfter: 100, reference: orderId });
      let member = await view(m.id);
      expect(member).toMatchObject({ balance: 100, totalSpend: '100.00', tier: { level: 1 } });
      expect(member.expiringPoints.points).toBe(100);
      expect(member.ledger.edges[0].node).toMatchObject({ id: held.entry.id, status: 'HELD' });
      // Held points cannot be spent.
      const spend = await api.gql(
        `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id } }`,
        { input: { memberId: m.id, delta: -101, reason: 'spend', idempotencyKey: newOrderId() } },
        tokens.admin(),
      );
      expect(spend.errors?.[0].extensions?.code).toBe('INSUFFICIENT_POINTS');
      expect(await earnOk(m.id, '10000.01', { orderId })).toMatchObject({ status: 'HELD_FOR_REVIEW', duplicate: true, entry: { id: held.entry.id } });

      api.clock.advanceDays(2);
      const approved = (await api.ok(APPROVE, { id: held.entry.id })).approveHeldEntry;
      expect(approved).toMatchObject({ id: held.entry.id, type: 'PURCHASE', status: 'POSTED', delta: 10001, balanceAfter: 10101 });
      // It keeps its validity from approval on.
      expect(approved.expiresAt).toBe(new Date(api.clock.now().getTime() + 365 * DAY).toISOString());
      member = await view(m.id);
      expect(member).toMatchObject({ balance: 10101, lifetimeEarned: 10101, totalSpend: '10100.01', tier: { level: 3 } });
      expect(member.expiringPoints.points).toBe(10101);
      expect((await notifications(m.id)).map((n) => n.data)).toEqual([{ fromLevel: 1, toLevel: 3 }]);

      const again = (await api.ok(APPROVE, { id: held.entry.id })).approveHeldEntry;
      expect(again).toEqual(approved);
      expect(await view(m.id)).toMatchObject({ balance: 10101, totalSpend: '10100.01' });
      expect(await earnOk(m.id, '10000.01', { orderId })).toMatchObject({ status: 'POSTED', duplicate: true, points: 10001 });
      expect(await api.code(REJECT, { id: held.entry.id, reason: 'too late' })).toBe('CONFLICT');
      expect(await notifications(m.id)).toHaveLength(1);
    });

    it('rejecting a held entry leaves the balance alone; approving it afterwards is a CONFLICT', async () => {
      const m = await createMember(api);
      const orderId = newOrderId();
      const held = await earnOk(m.id, '20000.00', { orderId });
      expect(held.status).toBe('HELD_FOR_REVIEW');
      const rejected = (await api.ok(REJECT, { id: held.entry.id, reason: '刷单' })).rejectHeldEntry;
      expect(rejected).toMatchObject({ id: held.entry.id, status: 'REJECTED', delta: 20000 });
      expect((await api.ok(REJECT, { id: held.entry.id, reason: '刷单' })).rejectHeldEntry.status).toBe('REJECTED');
      expect(await api.code(APPROVE, { id: held.entry.id })).toBe('CONFLICT');
      expect(await view(m.id)).toMatchObject({ balance: 0, lifetimeEarned: 0, totalSpend: '0.00', tier: { level: 1 } });
      expect(await earnOk(m.id, '20000.00', { orderId })).toMatchObject({ duplicate: true, status: 'REJECTED' });
      expect(await notifications(m.id)).toEqual([]);
    });

    it('review mutations: unknown ids are NOT_FOUND, only admins may review', async () => {
      const m = await createMember(api);
      const held = await earnOk(m.id, '12000');
      expect(await api.code(APPROVE, { id: '999999999' })).toBe('NOT_FOUND');
      expect(await api.code(APPROVE, { id: 'abc' })).toBe('NOT_FOUND');
      expect(await api.code(REJECT, { id: '999999999', reason: 'x' })).toBe('NOT_FOUND');
      expect(await api.code(APPROVE, { id: held.entry.id }, tokens.partner())).toBe('FORBIDDEN');
      expect(await api.code(APPROVE, { id: held.entry.id }, m.token)).toBe('FORBIDDEN');
      expect(await api.code(REJECT, { id: held.entry.id, reason: 'x' }, tokens.partner())).toBe('FORBIDDEN');
      // Approving a posted, non-held entry is a no-op answer, rejecting it a CONFLICT.
      const posted = await earnOk(m.id, '10');
      expect(await api.code(REJECT, { id: posted.entry.id, reason: 'x' })).toBe('CONFLICT');
      expect((await view(m.id)).balance).toBe(10);
    });
  });

  describe('validation and access', () => {
    it('refuses bad amounts with BAD_USER_INPUT and writes nothing', async () => {
      const m = await createMember(api);
      for (const amount of ['0', '0.00', '-1', '1.234', 'abc', '', '1e3']) {
        expect(await earnError({ memberId: m.id, amount }), amount).toBe('BAD_USER_INPUT');
      }
      expect(await earnError({ memberId: m.id, amount: '10', orderId: '   ' })).toBe('BAD_USER_INPUT');
      const future = new Date(api.clock.now().getTime() + 60 * 60_000).toISOString();
      expect(await earnError({ memberId: m.id, amount: '10', occurredAt: future })).toBe('BAD_USER_INPUT');
      expect(await view(m.id)).toMatchObject({ balance: 0, totalSpend: '0.00', ledger: { edges: [] } });
    });

    it('an unknown member is NOT_FOUND', async () => {
      expect(await earnError({ memberId: '5b0f7c1e-1111-4000-8000-000000000000', amount: '10' })).toBe('NOT_FOUND');
      expect(await earnError({ memberId: 'not-a-uuid', amount: '10' })).toBe('NOT_FOUND');
    });

    it('only partners and admins earn; a member token is FORBIDDEN, no token UNAUTHENTICATED', async () => {
      const m = await createMember(api);
      expect(await earnError({ memberId: m.id, amount: '10' }, m.token)).toBe('FORBIDDEN');
      expect(await earnError({ memberId: m.id, amount: '10' }, null)).toBe('UNAUTHENTICATED');
      expect((await view(m.id)).balance).toBe(0);
      const byAdmin = await api.ok(EARN, { input: { memberId: m.id, orderId: newOrderId(), amount: '10' } }, tokens.admin());
      expect(byAdmin.earnPoints).toMatchObject({ points: 10, entry: { source: 'admin:admin-test' } });
    });
  });
});
