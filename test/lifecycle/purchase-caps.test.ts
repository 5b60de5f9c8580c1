import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn, expectReconciled, newOrderId } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const SETTINGS = 'mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { purchaseDailyCap purchaseMonthlyCap } }';
const REVERSE = 'mutation($input: ReverseEarnInput!) { reverseEarn(input: $input) { pointsReversed shortfall member { balance totalSpend } } }';

/** Issue 17: purchases are uncapped unless the program configures purchase caps. */
describe('purchase caps', async () => {
  // 2026-03-02 10:00 in Shanghai.
  const api = await startApp({ now: '2026-03-02T02:00:00.000Z' });
  const db = () => api.app.orm.em.fork();
  afterEach(async () => {
    await expectReconciled(api);
  });
  const balance = async (id: string) => (await api.ok('query($id: ID!) { member(id: $id) { balance totalSpend } }', { id }, tokens.admin())).member;
  const earnOk = async (memberId: string, amount: string, orderId = newOrderId()) => {
    const res = await earn(api, memberId, amount, { orderId });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.earnPoints;
  };

  it('are off by default, then validated (naming the field) and audited', async () => {
    expect((await api.ok('{ programSettings { purchaseDailyCap purchaseMonthlyCap } }', {}, tokens.admin())).programSettings).toEqual({ purchaseDailyCap: null, purchaseMonthlyCap: null });
    // 20 purchases at once are limited by nothing but the hourly rate limit, raised here.
    await api.ok('mutation { updateProgramSettings(input: { earnLimitPerHour: 1000 }) { earnLimitPerHour } }', {}, tokens.admin());
    const m = await createMember(api);
    const points = await Promise.all(Array.from({ length: 20 }, () => earnOk(m.id, '10.00')));
    expect(points.map((p) => p.points)).toEqual(Array(20).fill(10));
    expect((await balance(m.id)).balance).toBe(200);

    for (const field of ['purchaseDailyCap', 'purchaseMonthlyCap']) {
      const res = await api.gql(SETTINGS, { input: { [field]: -5 } }, tokens.admin());
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0].message).toContain(field);
    }
    expect((await api.ok('{ programSettings { purchaseDailyCap } }', {}, tokens.admin())).programSettings.purchaseDailyCap).toBeNull();
    expect((await api.ok(SETTINGS, { input: { purchaseDailyCap: 95 } }, tokens.admin())).updateProgramSettings).toEqual({ purchaseDailyCap: 95, purchaseMonthlyCap: null });
    const [audit] = await db().execute<{ changes: any; changed_by: string }[]>('select changes from program_settings_audit order by id desc limit 1');
    expect(audit.changes).toEqual({ purchaseDailyCap: { from: null, to: 95 } });
  });

  it('a daily cap holds under 20 concurrent purchases: exactly the cap is granted, the rest recorded as capped with a reason', async () => {
    const m = await createMember(api);
    const orders = Array.from({ length: 20 }, () => newOrderId());
    const results = await Promise.all(orders.map((orderId) => earnOk(m.id, '10.00', orderId)));
    const points = results.map((r) => r.points as number);
    expect(points.reduce((a, b) => a + b, 0)).toBe(95);
    expect(points.filter((p) => p === 10)).toHaveLength(9);
    expect(points.filter((p) => p === 5)).toHaveLength(1);
    expect(results.filter((r) => r.points === 0).every((r) => r.status === 'REJECTED' && r.entry.delta === 10)).toBe(true);
    expect(results.filter((r) => r.points === 0)).toHaveLength(10);
    // Every purchase is still spend: the cap is on points, not on what the member bought.
    expect(await balance(m.id)).toEqual({ balance: 95, totalSpend: '200.00' });

    const hits = await db().execute<{ type: string; requested: number; granted: number; reason: string }[]>(
      'select type, requested, granted, reason from reward_cap_hit where member_id = ? order by granted desc',
      [m.id],
    );
    expect(hits).toHaveLength(11);
    expect(hits[0]).toEqual({ type: 'PURCHASE', requested: 10, granted: 5, reason: '每日消费积分上限 95' });
    expect(hits.slice(1).every((h) => h.granted === 0 && h.reason === '每日消费积分上限 95')).toBe(true);
    const history = (await api.ok('{ me { ledger(first: 50, filter: { types: [PURCHASE] }) { edges { node { status delta description } } } } }', {}, m.token)).me.ledger.edges.map((e: any) => e.node);
    expect(history.filter((e: any) => e.status === 'REJECTED')).toHaveLength(10);
    expect(history.find((e: any) => e.status === 'REJECTED').description).toMatch(/已达每日消费积分上限 95, 未发放/);
    expect(history.find((e: any) => e.delta === 5).description).toMatch(/已达每日消费积分上限 95, 原10积分/);

    // Idempotency on orderId is unchanged: a repeated capped order returns what it gave, once.
    const zero = points.indexOf(0);
    const again = await earnOk(m.id, '10.00', orders[zero]);
    expect(again).toMatchObject({ points: 0, duplicate: true, status: 'REJECTED' });
    const five = points.indexOf(5);
    expect(await earnOk(m.id, '10.00', orders[five])).toMatchObject({ points: 5, duplicate: true });
    expect((await balance(m.id)).balance).toBe(95);

    const stats = (await api.ok('{ programStats { purchaseCaps { dailyCap monthlyCap capped30d pointsCapped30d } rewardCaps { capped30d } } }', {}, tokens.admin())).programStats;
    expect(stats.purchaseCaps).toEqual({ dailyCap: 95, monthlyCap: null, capped30d: 11, pointsCapped30d: 105 });
    expect(stats.rewardCaps.capped30d).toBe(0);

    // The next local day has a new room.
    api.clock.advance(DAY);
    expect((await earnOk(m.id, '50.00')).points).toBe(50);
  });

  it('a monthly cap holds across days and opens again next month', async () => {
    await api.ok(SETTINGS, { input: { purchaseDailyCap: 0, purchaseMonthlyCap: 150 } }, tokens.admin());
    const m = await createMember(api);
    expect((await earnOk(m.id, '100.00')).points).toBe(100);
    api.clock.advance(DAY);
    expect((await earnOk(m.id, '100.00')).points).toBe(50);
    const [{ reason }] = await db().execute<{ reason: string }[]>('select reason from reward_cap_hit where member_id = ? order by id desc limit 1', [m.id]);
    expect(reason).toBe('每月消费积分上限 150');
    expect((await earnOk(m.id, '10.00')).points).toBe(0);
    api.clock.advance(31 * DAY);
    expect((await earnOk(m.id, '100.00')).points).toBe(100);
    expect((await balance(m.id)).balance).toBe(250);
  });

  it('a refund of a capped purchase never takes back more than was granted', async () => {
    await api.ok(SETTINGS, { input: { purchaseDailyCap: 95, purchaseMonthlyCap: 0 } }, tokens.admin());
    api.clock.advance(DAY);
    const m = await createMember(api);
    const full = newOrderId();
    const partly = newOrderId();
    const none = newOrderId();
    expect((await earnOk(m.id, '90.00', full)).points).toBe(90);
    expect((await earnOk(m.id, '50.00', partly)).points).toBe(5);
    expect((await earnOk(m.id, '20.00', none)).points).toBe(0);
    expect(await balance(m.id)).toEqual({ balance: 95, totalSpend: '160.00' });

    // Half the partly capped order: half of the 5 granted (rounded down), not half of 50.
    const half = await api.ok(REVERSE, { input: { orderId: partly, amount: '25.00', reason: 'half returned' } }, tokens.admin());
    expect(half.reverseEarn).toMatchObject({ pointsReversed: 2, shortfall: 0 });
    const rest = await api.ok(REVERSE, { input: { orderId: partly, reason: 'all returned' } }, tokens.admin());
    expect(rest.reverseEarn).toMatchObject({ pointsReversed: 3, shortfall: 0, member: { balance: 90, totalSpend: '110.00' } });
    // The order capped to nothing gives nothing back, but its spend goes.
    const zero = await api.ok(REVERSE, { input: { orderId: none, reason: 'returned' } }, tokens.admin());
    expect(zero.reverseEarn).toMatchObject({ pointsReversed: 0, shortfall: 0, member: { balance: 90, totalSpend: '90.00' } });
  });
});
