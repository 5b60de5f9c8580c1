import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { partnerCall } from '../support/partner';
import { ConfirmRedemptionPaymentDocument, UseCouponDocument } from '../../schema/generated/graphql';
import { PaymentTimeoutJob } from '../../src/jobs/payment-timeout.job';
import { ADDRESS, balance, createItem, DAY, itemById, memberWith, redeemOk } from './support';

const CONFIRM = `mutation($id: ID!, $ref: String!, $amount: Decimal!) {
  confirmRedemptionPayment(id: $id, paymentReference: $ref, amount: $amount) { id status cashDue paymentDueBy paymentReference coupon { code status } }
}`;
const CANCEL = `mutation($id: ID!) { cancelRedemption(id: $id, reason: "不要了") { id status } }`;
const SHIP = `mutation($id: ID!) { markRedemptionShipped(id: $id, trackingNumber: "SF1234567890") { id status } }`;
const ME = `{ me { balance vip { level expiresAt } coupons { code status } redemptions(first: 50) { edges { node { id status paymentDueBy paymentReference } } } } }`;

let refSequence = 0;
const newRef = () => `pay-${process.pid}-${++refSequence}`;
const codeOf = (res: { errors?: { extensions?: { code?: string } }[] }) => (res.errors ? (res.errors[0].extensions?.code ?? 'UNKNOWN') : 'OK');

describe('points + cash: paid before delivery', async () => {
  const api = await startApp();
  const sql = (query: string, params: unknown[] = []) => api.app.orm.em.fork().execute(query, params);
  const timeoutJob = () => new PaymentTimeoutJob({ orm: api.app.orm, clock: api.clock, redemptions: api.app.services.redemptions, batchSize: 3 });
  /** The payment system confirms through the partner door (its persisted operation); with a token, on /graphql. */
  const confirm = (id: string, ref: string, amount: string, token?: string) =>
    token ? api.gql(CONFIRM, { id, ref, amount }, token) : partnerCall(api, ConfirmRedemptionPaymentDocument, { id, paymentReference: ref, amount });
  /** A till marks a coupon used, through the partner door. */
  const useAtTill = (code: string) => partnerCall(api, UseCouponDocument, { code });

  /** Items created by this file and the stock each started with: stock + redeemed (not cancelled) must stay equal to it. */
  const seeded = new Map<string, number>();
  const cashItem = async (overrides: Record<string, unknown> = {}) => {
    const item = await createItem(api, { pointsPrice: 100, cashPrice: '9.90', stock: 50, ...overrides });
    seeded.set(item.id, item.stock);
    return item;
  };
  afterEach(async () => {
    await expectReconciled(api);
    const rows = (await sql(
      `select ci.id, ci.stock + coalesce((select sum(r.quantity) from redemption r where r.item_id = ci.id and r.status <> 'CANCELLED'), 0)::int as total
       from catalog_item ci where ci.id in (?)`,
      [[...seeded.keys()]],
    )) as { id: string; total: number }[];
    for (const row of rows) expect(row.total, `stock + redeemed of ${row.id}`).toBe(seeded.get(row.id));
  });

  it('an unpaid redemption holds points and stock and delivers nothing', async () => {
    const m = await memberWith(api, 1000);
    const vip = await cashItem({ type: 'VIP', pointsPrice: 300, cashPrice: '99.00', config: { level: 2, days: 30 } });
    const coupon = await cashItem({ type: 'COUPON', pointsPrice: 200, cashPrice: '5.00', config: { value: '20.00', validDays: 30 } });
    const physical = await cashItem({ type: 'PHYSICAL', pointsPrice: 100, cashPrice: '59.00' });
    const dueBy = new Date(api.clock.now().getTime() + 900_000).toISOString();

    const r1 = await redeemOk(api, m.token, { itemId: vip.id });
    expect(r1).toMatchObject({ remainingPoints: 700, redemption: { status: 'PENDING_PAYMENT', cashDue: '99.00', coupon: null, coupons: [] } });
    const r2 = await redeemOk(api, m.token, { itemId: coupon.id, quantity: 2 });
    expect(r2.redemption).toMatchObject({ status: 'PENDING_PAYMENT', cashDue: '10.00', coupon: null, coupons: [] });
    const r3 = await redeemOk(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS });
    expect(r3.redemption).toMatchObject({ status: 'PENDING_PAYMENT', cashDue: '59.00' });

    const me = (await api.ok(ME, {}, m.token)).me;
    expect(me).toMatchObject({ balance: 200, vip: null, coupons: [] });
    for (const edge of me.redemptions.edges) expect(edge.node).toMatchObject({ status: 'PENDING_PAYMENT', paymentDueBy: dueBy, paymentReference: null });
    expect((await itemById(api, physical.id)).stock).toBe(49);
    // Not shippable while unpaid.
    expect(codeOf(await api.gql(SHIP, { id: r3.redemption.id }, tokens.admin()))).toBe('CONFLICT');
    const notices = (await sql(`select title, body from notification where member_id = ?`, [m.id])) as { title: string; body: string }[];
    expect(notices.map((n) => n.title)).toEqual(['待支付', '待支付', '待支付']);
    expect(notices.filter((n) => n.body.includes('¥59.00') && n.body.includes('15分钟'))).toHaveLength(1);
  });

  it('confirm fulfils once: a repeat returns the same, another reference is CONFLICT, a wrong amount BAD_USER_INPUT', async () => {
    const m = await memberWith(api, 1000);
    const vip = await cashItem({ type: 'VIP', pointsPrice: 300, cashPrice: '99.00', config: { level: 2, days: 30 } });
    const { redemption } = await redeemOk(api, m.token, { itemId: vip.id });

    for (const amount of ['98.99', '99.001', '0', '-99.00']) {
      const res = await confirm(redemption.id, newRef(), amount);
      expect(codeOf(res), amount).toBe('BAD_USER_INPUT');
      expect(res.errors![0].extensions?.field).toBe('amount');
    }
    expect(codeOf(await confirm(redemption.id, '   ', '99.00'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await confirm(redemption.id, newRef(), '99.00', m.token))).toBe('FORBIDDEN');
    expect((await api.ok(ME, {}, m.token)).me.vip).toBeNull();

    const ref = newRef();
    const paid = (await api.ok(CONFIRM, { id: redemption.id, ref, amount: '99' }, tokens.admin())).confirmRedemptionPayment;
    expect(paid).toMatchObject({ id: redemption.id, status: 'COMPLETED', paymentReference: ref, cashDue: '99.00' });
    const vipUntil = new Date(api.clock.now().getTime() + 30 * DAY).toISOString();
    expect((await api.ok(ME, {}, m.token)).me.vip).toEqual({ level: 2, expiresAt: vipUntil });

    // The payment system retries: the same answer, no second month of VIP.
    api.clock.advance(60_000);
    expect((await api.ok(CONFIRM, { id: redemption.id, ref, amount: '99.00' }, tokens.admin())).confirmRedemptionPayment).toEqual(paid);
    expect((await api.ok(ME, {}, m.token)).me.vip).toEqual({ level: 2, expiresAt: vipUntil });
    expect(codeOf(await confirm(redemption.id, newRef(), '99.00'))).toBe('CONFLICT');
    // A paid redemption is no longer the member's to cancel (the cash needs the payment system's refund).
    expect(codeOf(await api.gql(CANCEL, { id: redemption.id }, m.token))).toBe('CONFLICT');

    // One payment pays one redemption.
    const other = await redeemOk(api, m.token, { itemId: vip.id });
    expect(codeOf(await confirm(other.redemption.id, ref, '99.00'))).toBe('CONFLICT');
    // A points-only redemption has nothing to pay.
    const pointsOnly = await createItem(api, { pointsPrice: 10 });
    seeded.set(pointsOnly.id, pointsOnly.stock);
    const free = await redeemOk(api, m.token, { itemId: pointsOnly.id });
    expect(codeOf(await confirm(free.redemption.id, newRef(), '0.01'))).toBe('CONFLICT');
    expect(codeOf(await confirm('6f1d3a52-8d7b-4c1e-9a51-2f6f0e7c9b10', newRef(), '1.00'))).toBe('NOT_FOUND');

    const notices = (await sql(`select title from notification where member_id = ? order by created_at, title`, [m.id])) as { title: string }[];
    expect(notices.filter((n) => n.title === '兑换成功')).toHaveLength(2);
  });

  it('a paid physical item goes to PENDING_SHIPMENT and ships; a paid coupon can be used', async () => {
    const m = await memberWith(api, 1000);
    const physical = await cashItem({ type: 'PHYSICAL', pointsPrice: 100, cashPrice: '59.00' });
    const coupon = await cashItem({ type: 'COUPON', pointsPrice: 100, cashPrice: '1.00', config: { value: '20.00', validDays: 30 } });
    const r1 = await redeemOk(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS });
    expect((await api.ok(CONFIRM, { id: r1.redemption.id, ref: newRef(), amount: '59.00' }, tokens.admin())).confirmRedemptionPayment.status).toBe('PENDING_SHIPMENT');
    expect((await api.ok(SHIP, { id: r1.redemption.id })).markRedemptionShipped.status).toBe('SHIPPED');
    const r2 = await redeemOk(api, m.token, { itemId: coupon.id });
    const paid = (await api.ok(CONFIRM, { id: r2.redemption.id, ref: newRef(), amount: '1.00' }, tokens.admin())).confirmRedemptionPayment;
    expect(paid.coupon.status).toBe('ACTIVE');
    expect((await useAtTill(paid.coupon.code)).data?.useCoupon.status).toBe('USED');
    // Used at the till: an admin cannot refund it any more.
    expect(codeOf(await api.gql(CANCEL, { id: r2.redemption.id }, tokens.admin()))).toBe('CONFLICT');
  });

  it('the member cancels while payment is pending: points and stock back, a confirm then is CONFLICT', async () => {
    const m = await memberWith(api, 1000);
    const item = await cashItem({ pointsPrice: 400, cashPrice: '9.90' });
    const { redemption } = await redeemOk(api, m.token, { itemId: item.id, quantity: 2 });
    expect(await balance(api, m.id)).toBe(200);
    expect((await api.ok(CANCEL, { id: redemption.id }, m.token)).cancelRedemption.status).toBe('CANCELLED');
    expect(await balance(api, m.id)).toBe(1000);
    expect((await itemById(api, item.id)).stock).toBe(50);
    expect(codeOf(await confirm(redemption.id, newRef(), '19.80'))).toBe('CONFLICT');
  });

  it('the window passes: confirm is CONFLICT, the job gives points to the same lots and stock back, once', async () => {
    const m = await memberWith(api, 1000, 100);
    const [lot] = (await sql(`select id, expires_at from points_lot where member_id = ?`, [m.id])) as { id: string; expires_at: string }[];
    const item = await cashItem({ pointsPrice: 300, cashPrice: '9.90' });
    const holds = [];
    for (let i = 0; i < 3; i++) holds.push((await redeemOk(api, m.token, { itemId: item.id })).redemption);
    await api.ok(CONFIRM, { id: holds[2].id, ref: newRef(), amount: '9.90' }, tokens.admin());
    expect(await balance(api, m.id)).toBe(100);

    const statusOf = async (id: string) => ((await sql(`select status from redemption where id = ?`, [id])) as { status: string }[])[0].status;
    api.clock.advance(899_000);
    await timeoutJob().run();
    expect(await statusOf(holds[0].id)).toBe('PENDING_PAYMENT');
    api.clock.advance(1_000);
    expect(codeOf(await confirm(holds[0].id, newRef(), '9.90'))).toBe('CONFLICT');
    const later = await memberWith(api, 300);
    const fresh = (await redeemOk(api, later.token, { itemId: item.id })).redemption;

    // Through the server's job runner; earlier tests' holds are due too: count only this member's.
    const run = (await api.app.jobs.runOnce()) as Record<string, any>;
    expect(run['payment-timeout'].released).toBeGreaterThanOrEqual(2);
    expect(await balance(api, m.id)).toBe(700);
    // Back into the lot they came from: no new lot, no fresh validity.
    expect(await sql(`select id, remaining from points_lot where member_id = ?`, [m.id])).toEqual([{ id: lot.id, remaining: 700 }]);
    expect((await itemById(api, item.id)).stock).toBe(48);
    const statuses = (await sql(`select id, status, cancel_reason from redemption where member_id = ?`, [m.id])) as { id: string; status: string; cancel_reason: string | null }[];
    expect(new Map(statuses.map((r) => [r.id, [r.status, r.cancel_reason]]))).toEqual(
      new Map([
        [holds[0].id, ['CANCELLED', 'payment timeout']],
        [holds[1].id, ['CANCELLED', 'payment timeout']],
        [holds[2].id, ['COMPLETED', null]],
      ]),
    );
    const notices = (await sql(`select title, data->>'reason' as reason from notification where member_id = ? and title = '兑换已取消'`, [m.id])) as unknown[];
    expect(notices).toEqual([
      { title: '兑换已取消', reason: 'payment timeout' },
      { title: '兑换已取消', reason: 'payment timeout' },
    ]);
    expect(codeOf(await confirm(holds[1].id, newRef(), '9.90'))).toBe('CONFLICT');
    // Released once: another run finds nothing, and the hold placed later still waits.
    expect((await timeoutJob().run()).released).toBe(0);
    expect(await statusOf(fresh.id)).toBe('PENDING_PAYMENT');
    expect((await api.ok(CONFIRM, { id: fresh.id, ref: newRef(), amount: '9.90' }, tokens.admin())).confirmRedemptionPayment.status).toBe('COMPLETED');
  });

  it('refuses a quantity whose points exceed the integer range with BAD_USER_INPUT naming quantity', async () => {
    const [{ max }] = (await sql(`select max_quantity_per_redemption as max from program_settings where id = 1`)) as { max: number }[];
    await sql(`update program_settings set max_quantity_per_redemption = 1000000 where id = 1`);
    try {
      const m = await memberWith(api, 1000);
      const item = await cashItem({ pointsPrice: 10_000_000, stock: 100_000_000 });
      const res = await api.gql(`mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints } }`, { input: { itemId: item.id, quantity: 1000, idempotencyKey: newRef() } }, m.token);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].extensions?.field).toBe('quantity');
      expect(await balance(api, m.id)).toBe(1000);
    } finally {
      await sql(`update program_settings set max_quantity_per_redemption = ? where id = 1`, [max]);
    }
  });

  it('quickRedeemOptions shows the cash part of points + cash items', async () => {
    const m = await memberWith(api, 1000);
    const category = `cash-${newRef()}`;
    await cashItem({ pointsPrice: 700, cashPrice: '19.90', category });
    const options = (await api.ok(`{ quickRedeemOptions(first: 20) { options { item { pointsPrice cashPrice } cashDue canRedeem remainingAfter } } }`, {}, m.token)).quickRedeemOptions.options;
    expect(options).toContainEqual({ item: { pointsPrice: 700, cashPrice: '19.90' }, cashDue: '19.90', canRedeem: true, remainingAfter: 300 });
    expect(options.filter((o: any) => o.item.cashPrice === null).every((o: any) => o.cashDue === null)).toBe(true);
  });

  describe('races', () => {
    const pairs = async <T>(n: number, make: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => make(i)));
    /**
     * Starts the second request 0 to 27 ms after the first, varying by round: with both sent at
     * once the shorter path would win every time and the other interleavings would go untested.
     */
    const staggered = <T>(round: number, first: () => Promise<T>, second: () => Promise<T>) =>
      Promise.all([first(), new Promise<void>((resolve) => setTimeout(resolve, (round % 10) * 3)).then(second)]);

    it('20 concurrent confirm + cancel pairs each end in exactly one of the two', async () => {
      const item = await cashItem({ type: 'VIP', pointsPrice: 300, cashPrice: '99.00', config: { level: 1, days: 30 } });
      const setups = await pairs(20, async () => {
        const m = await memberWith(api, 1000);
        return { m, redemption: (await redeemOk(api, m.token, { itemId: item.id })).redemption };
      });
      const outcomes = await pairs(20, async (i) => {
        const { m, redemption } = setups[i];
        const ref = newRef();
        const pay = () => confirm(redemption.id, ref, '99.00');
        const cancel = () => api.gql(CANCEL, { id: redemption.id }, m.token);
        // Half the pairs send the confirmation first, half the cancellation.
        const [paid, cancelled] = i % 2 === 0 ? await staggered(i, pay, cancel) : (await staggered(i, cancel, pay)).reverse();
        return { m, paid: codeOf(paid), cancelled: codeOf(cancelled) };
      });
      for (const { m, paid, cancelled } of outcomes) {
        expect([paid, cancelled].sort(), m.id).toEqual(['CONFLICT', 'OK']);
        const me = (await api.ok(ME, {}, m.token)).me;
        if (paid === 'OK') {
          expect(me).toMatchObject({ balance: 700, vip: { level: 1 }, redemptions: { edges: [{ node: { status: 'COMPLETED' } }] } });
        } else {
          expect(me).toMatchObject({ balance: 1000, vip: null, redemptions: { edges: [{ node: { status: 'CANCELLED', paymentReference: null } }] } });
        }
      }
      const won = outcomes.filter((o) => o.paid === 'OK').length;
      expect((await itemById(api, item.id)).stock).toBe(50 - won);
    });

    it('ship vs cancel, 20 times: shipped or refunded, never both', async () => {
      const item = await createItem(api, { type: 'PHYSICAL', pointsPrice: 100, stock: 50 });
      seeded.set(item.id, 50);
      for (let round = 0; round < 20; round++) {
        const m = await memberWith(api, 100);
        const { redemption } = await redeemOk(api, m.token, { itemId: item.id, shippingAddress: ADDRESS });
        const [cancelled, shipped] = await staggered(
          round,
          () => api.gql(CANCEL, { id: redemption.id }, m.token),
          () => api.gql(SHIP, { id: redemption.id }, tokens.admin()),
        );
        expect([codeOf(shipped), codeOf(cancelled)].sort(), `round ${round}`).toEqual(['CONFLICT', 'OK']);
        const me = (await api.ok(ME, {}, m.token)).me;
        if (codeOf(shipped) === 'OK') expect(me).toMatchObject({ balance: 0, redemptions: { edges: [{ node: { status: 'SHIPPED' } }] } });
        else expect(me).toMatchObject({ balance: 100, redemptions: { edges: [{ node: { status: 'CANCELLED' } }] } });
      }
    });

    it('useCoupon vs cancel, 20 times: used at the till or voided and refunded, never both', async () => {
      const item = await createItem(api, { type: 'COUPON', pointsPrice: 100, stock: 50, config: { value: '20.00', validDays: 30 } });
      seeded.set(item.id, 50);
      for (let round = 0; round < 20; round++) {
        const m = await memberWith(api, 100);
        const { redemption } = await redeemOk(api, m.token, { itemId: item.id });
        const [cancelled, used] = await staggered(
          round,
          () => api.gql(CANCEL, { id: redemption.id }, tokens.admin()),
          () => useAtTill(redemption.coupon.code),
        );
        expect([codeOf(used), codeOf(cancelled)].sort(), `round ${round}`).toEqual(['CONFLICT', 'OK']);
        const me = (await api.ok(ME, {}, m.token)).me;
        if (codeOf(used) === 'OK') expect(me).toMatchObject({ balance: 0, coupons: [{ status: 'USED' }], redemptions: { edges: [{ node: { status: 'COMPLETED' } }] } });
        else expect(me).toMatchObject({ balance: 100, coupons: [{ status: 'VOID' }], redemptions: { edges: [{ node: { status: 'CANCELLED' } }] } });
      }
    });

    it('two job instances at once release every due hold exactly once', async () => {
      // Release what earlier tests left pending, so both runs see only these holds.
      api.clock.advance(901_000);
      await timeoutJob().run();
      const item = await cashItem({ pointsPrice: 100, cashPrice: '1.00' });
      const members = await pairs(12, () => memberWith(api, 100));
      const holds = await pairs(12, async (i) => (await redeemOk(api, members[i].token, { itemId: item.id })).redemption);
      api.clock.advance(901_000);
      const [a, b] = await Promise.all([timeoutJob().run(), timeoutJob().run()]);
      expect(a.released + b.released).toBe(12);
      const [{ n }] = (await sql(`select count(*)::int as n from ledger_entry where type = 'REFUND' and reference in (?)`, [holds.map((h) => h.id)])) as { n: number }[];
      expect(n).toBe(12);
      for (const m of members) expect(await balance(api, m.id)).toBe(100);
      expect((await itemById(api, item.id)).stock).toBe(50);
    });
  });
});
