import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { ENTRY_FIELDS, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { ADDRESS, COUPON_FIELDS, DAY, balance, createItem, fund, itemById, memberWith, redeemCode, redeemOk } from './support';

const CANCEL = `mutation($id: ID!, $reason: String!) { cancelRedemption(id: $id, reason: $reason) { id status quantity pointsSpent coupons { ${COUPON_FIELDS} } } }`;
const SHIP = `mutation($id: ID!) { markRedemptionShipped(id: $id, trackingNumber: "SF100200300") { status } }`;
const USE = `mutation($code: String!) { useCoupon(code: $code) { ${COUPON_FIELDS} } }`;

describe('cancelling a redemption', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const at = (days: number) => new Date(api.clock.now().getTime() + days * DAY).toISOString();
  const cancel = (id: string, token: string = tokens.admin(), reason = '客户申请取消') => api.gql(CANCEL, { id, reason }, token);
  async function cancelOk(id: string, token: string = tokens.admin(), reason?: string) {
    const res = await cancel(id, token, reason);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.cancelRedemption;
  }
  const cancelCode = async (id: string, token: string = tokens.admin()) => (await cancel(id, token)).errors?.[0].extensions?.code;
  async function ledger(memberId: string, first = 10) {
    const data = await api.ok(`query($id: ID!, $first: Int) { member(id: $id) { ledger(first: $first) { edges { node { ${ENTRY_FIELDS} } } } } }`, { id: memberId, first });
    return data.member.ledger.edges.map((e: any) => e.node);
  }
  async function couponsOf(memberId: string, status?: string) {
    return (await api.ok(`query($id: ID!, $s: CouponStatus) { member(id: $id) { coupons(status: $s) { ${COUPON_FIELDS} } } }`, { id: memberId, s: status })).member.coupons;
  }
  async function redemptionStatus(memberId: string, id: string) {
    const data = await api.ok(`query($id: ID!) { member(id: $id) { redemptions(first: 50) { edges { node { id status } } } } }`, { id: memberId });
    return data.member.redemptions.edges.find((e: any) => e.node.id === id)?.node.status;
  }

  it('gives the points back through a REFUND entry and the stock back, once', async () => {
    const m = await memberWith(api, 1000);
    const lotExpiry = at(365);
    const item = await createItem(api, { name: '爱奇艺月卡', pointsPrice: 300, stock: 5 });
    const r = (await redeemOk(api, m.token, { itemId: item.id, quantity: 2 })).redemption;
    expect(await balance(api, m.id)).toBe(400);
    expect(await itemById(api, item.id)).toMatchObject({ stock: 3, recentRedemptions: 1 });

    const cancelled = await cancelOk(r.id, tokens.admin(), '缺货补偿');
    expect(cancelled).toMatchObject({ id: r.id, status: 'CANCELLED', quantity: 2, pointsSpent: 600 });
    const [refund, spend] = await ledger(m.id, 2);
    expect(refund).toMatchObject({ type: 'REFUND', status: 'POSTED', delta: 600, balanceAfter: 1000, reference: r.id, source: 'admin:admin-test' });
    expect(refund.description).toContain('缺货补偿');
    expect(spend).toMatchObject({ type: 'REDEMPTION', delta: -600, reference: r.id });
    expect(await balance(api, m.id)).toBe(1000);
    expect(await itemById(api, item.id)).toMatchObject({ stock: 5, recentRedemptions: 0 });
    expect(await redemptionStatus(m.id, r.id)).toBe('CANCELLED');
    // The points go back into the lot they came from, with its own expiry: no new lot.
    expect(refund.expiresAt).toBe(lotExpiry);
    const lots = await api.ok(`query($id: ID!) { member(id: $id) { expiringPoints(withinDays: 3650) { lots { points expiresAt } } } }`, { id: m.id });
    expect(lots.member.expiringPoints.lots).toEqual([{ points: 1000, expiresAt: lotExpiry }]);

    // Again: the same answer, nothing more.
    expect((await cancelOk(r.id)).status).toBe('CANCELLED');
    expect((await cancelOk(r.id, tokens.admin(), '另一个理由')).status).toBe('CANCELLED');
    expect((await ledger(m.id)).filter((e: any) => e.type === 'REFUND')).toHaveLength(1);
    expect(await balance(api, m.id)).toBe(1000);
    expect((await itemById(api, item.id)).stock).toBe(5);
    const [row] = await api.app.orm.em.fork().execute('select cancel_reason, refund_entry_id from redemption where id = ?', [r.id]);
    expect(row).toEqual({ cancel_reason: '缺货补偿', refund_entry_id: refund.id });
  });

  it('frees the per-member limit again', async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { pointsPrice: 100, perMemberLimit: 1 });
    const r = (await redeemOk(api, m.token, { itemId: item.id })).redemption;
    expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('LIMIT_EXCEEDED');
    await cancelOk(r.id);
    await redeemOk(api, m.token, { itemId: item.id });
    expect(await balance(api, m.id)).toBe(900);
  });

  it('voids the unused coupons of a cancelled coupon redemption', async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { type: 'COUPON', pointsPrice: 100, config: { value: '10.00', validDays: 10 } });
    const r = (await redeemOk(api, m.token, { itemId: item.id, quantity: 2 })).redemption;
    expect(r.coupons.map((c: any) => c.status)).toEqual(['ACTIVE', 'ACTIVE']);
    const cancelled = await cancelOk(r.id);
    expect(cancelled.coupons.map((c: any) => c.status)).toEqual(['VOID', 'VOID']);
    expect((await couponsOf(m.id, 'VOID')).map((c: any) => c.code).sort()).toEqual(r.coupons.map((c: any) => c.code).sort());
    expect(await couponsOf(m.id, 'ACTIVE')).toEqual([]);
    // A void coupon cannot be used, and stays VOID after its date.
    expect(await api.code(USE, { code: r.coupons[0].code }, tokens.admin())).toBe('CONFLICT');
    api.clock.advanceDays(11);
    expect((await couponsOf(m.id)).map((c: any) => c.status)).toEqual(['VOID', 'VOID']);
    expect(await balance(api, m.id)).toBe(1000);
  });

  it('refuses to cancel a redemption whose coupon was used (CONFLICT)', async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { type: 'COUPON', pointsPrice: 100, config: { value: '10.00', validDays: 10 } });
    const r = (await redeemOk(api, m.token, { itemId: item.id, quantity: 2 })).redemption;
    const [first, second] = r.coupons;

    expect(await api.code(USE, { code: first.code }, m.token)).toBe('FORBIDDEN');
    // Partners type codes as they read them: case and spaces do not matter.
    const used = await api.ok(USE, { code: ` ${first.code.toLowerCase()} ` }, tokens.admin());
    expect(used.useCoupon).toEqual({ ...first, status: 'USED' });
    expect(await api.code(USE, { code: first.code }, tokens.admin())).toBe('CONFLICT');
    expect(await api.code(USE, { code: 'NOPE-NOPE-NOPE-NOPE' }, tokens.admin())).toBe('NOT_FOUND');

    const refused = await cancel(r.id);
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await balance(api, m.id)).toBe(800);
    expect((await itemById(api, item.id)).stock).toBe(8);
    expect(await redemptionStatus(m.id, r.id)).toBe('COMPLETED');
    expect((await couponsOf(m.id)).map((c: any) => [c.code, c.status])).toEqual(
      expect.arrayContaining([
        [first.code, 'USED'],
        [second.code, 'ACTIVE'],
      ]),
    );
    expect((await ledger(m.id)).filter((e: any) => e.type === 'REFUND')).toEqual([]);

    // A coupon past its date cannot be used either.
    api.clock.advanceDays(10);
    expect(await api.code(USE, { code: second.code }, tokens.admin())).toBe('CONFLICT');
    expect(await couponsOf(m.id, 'EXPIRED')).toEqual([{ ...second, status: 'EXPIRED' }]);
  });

  it('lets a member cancel only its own redemption, and only while it awaits shipment', async () => {
    const m = await memberWith(api, 1000);
    const other = await memberWith(api, 1000);
    const physical = await createItem(api, { type: 'PHYSICAL', pointsPrice: 200, stock: 5 });
    const virtual = await createItem(api, { pointsPrice: 100 });
    const pending = (await redeemOk(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS })).redemption;
    const completed = (await redeemOk(api, m.token, { itemId: virtual.id })).redemption;
    const toShip = (await redeemOk(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS })).redemption;
    expect(await balance(api, m.id)).toBe(500);

    expect(await cancelCode(pending.id, other.token)).toBe('FORBIDDEN');
    expect(await cancelCode(pending.id, tokens.partner())).toBe('FORBIDDEN');
    expect(await cancelCode(pending.id, null as unknown as string)).toBe('UNAUTHENTICATED');
    expect(await redemptionStatus(m.id, pending.id)).toBe('PENDING_SHIPMENT');

    expect((await cancelOk(pending.id, m.token, '地址填错了')).status).toBe('CANCELLED');
    expect(await balance(api, m.id)).toBe(700);
    expect((await ledger(m.id, 1))[0]).toMatchObject({ type: 'REFUND', delta: 200, source: `member:${m.id}` });
    // Cancelling again is harmless, even for the member.
    expect((await cancelOk(pending.id, m.token)).status).toBe('CANCELLED');

    expect(await cancelCode(completed.id, m.token)).toBe('CONFLICT');
    expect(await redemptionStatus(m.id, completed.id)).toBe('COMPLETED');

    await api.ok(SHIP, { id: toShip.id });
    expect(await cancelCode(toShip.id, m.token)).toBe('CONFLICT');
    expect(await cancelCode(toShip.id, tokens.admin())).toBe('CONFLICT');
    expect(await redemptionStatus(m.id, toShip.id)).toBe('SHIPPED');
    // A cancelled redemption cannot be shipped.
    expect(await api.code(SHIP, { id: pending.id })).toBe('CONFLICT');

    expect(await balance(api, m.id)).toBe(700);
    expect((await itemById(api, physical.id)).stock).toBe(4);
    expect(await cancelCode('00000000-0000-4000-8000-000000000000')).toBe('NOT_FOUND');
    expect(await cancelCode('nope')).toBe('NOT_FOUND');
    const blank = await cancel(completed.id, tokens.admin(), '   ');
    expect(blank.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    // An admin may cancel a completed one.
    expect((await cancelOk(completed.id)).status).toBe('CANCELLED');
    expect(await balance(api, m.id)).toBe(800);
  });

  it('takes back the VIP days a cancelled VIP redemption granted', async () => {
    const m = await memberWith(api, 1000);
    const vip = await createItem(api, { type: 'VIP', pointsPrice: 100, config: { level: 1, days: 30 } });
    const first = (await redeemOk(api, m.token, { itemId: vip.id })).redemption;
    await redeemOk(api, m.token, { itemId: vip.id });
    const vipOf = async () => (await api.ok(`query($id: ID!) { member(id: $id) { vip { level expiresAt } } }`, { id: m.id })).member.vip;
    expect(await vipOf()).toEqual({ level: 1, expiresAt: at(60) });
    await cancelOk(first.id);
    expect(await vipOf()).toEqual({ level: 1, expiresAt: at(30) });
    expect(await balance(api, m.id)).toBe(900);
  });

  describe('points whose lot expired in the meantime', () => {
    for (const jobFirst of [false, true]) {
      it(`come back in a new lot valid the shorter of 30 days and their own validity (${jobFirst ? 'after the expiry job ran' : 'before any expiry job'})`, async () => {
        const m = await createMember(api);
        const start = api.clock.now().getTime();
        await fund(api, m.id, 100, 5);
        await fund(api, m.id, 100, 60);
        const item = await createItem(api, { type: 'PHYSICAL', pointsPrice: 150 });
        const r = (await redeemOk(api, m.token, { itemId: item.id, shippingAddress: ADDRESS })).redemption;
        // 100 from the 5-day lot, 50 from the 60-day lot.
        expect(await balance(api, m.id)).toBe(50);

        api.clock.advanceDays(6);
        if (jobFirst) await api.app.jobs.runOnce();
        expect(await balance(api, m.id)).toBe(50);
        expect((await cancelOk(r.id, m.token)).status).toBe('CANCELLED');

        // Their lot was valid 5 days: they come back for 5 days, not 30 (README: cancelled redemptions).
        const grace = at(5);
        const [refund] = await ledger(m.id, 1);
        expect(refund).toMatchObject({ type: 'REFUND', delta: 150, balanceAfter: 200, reference: r.id, expiresAt: grace });
        const view = await api.ok(`query($id: ID!) { member(id: $id) { balance expiringPoints(withinDays: 3650) { points lots { points expiresAt } } } }`, { id: m.id });
        expect(view.member).toEqual({
          balance: 200,
          expiringPoints: {
            points: 200,
            lots: [
              { points: 100, expiresAt: grace },
              { points: 100, expiresAt: new Date(start + 60 * DAY).toISOString() },
            ],
          },
        });
        // The new lot expires like any other.
        api.clock.advanceDays(5);
        expect(await balance(api, m.id)).toBe(100);
      });
    }

    it('expire what was left unspent of the lot, and return what was spent in a new lot', async () => {
      const m = await createMember(api);
      await fund(api, m.id, 100, 5);
      const item = await createItem(api, { type: 'PHYSICAL', pointsPrice: 60 });
      const r = (await redeemOk(api, m.token, { itemId: item.id, shippingAddress: ADDRESS })).redemption;
      api.clock.advanceDays(6);
      await cancelOk(r.id);
      const entries = (await ledger(m.id, 3)).map((e: any) => [e.type, e.delta, e.balanceAfter, e.expiresAt]);
      expect(entries).toEqual([
        ['REFUND', 60, 60, at(5)],
        ['EXPIRY', -40, 0, null],
        ['REDEMPTION', -60, 40, null],
      ]);
      expect(await balance(api, m.id)).toBe(60);
    });
  });
});
