import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { ENTRY_FIELDS, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { ADDRESS, COUPON_FIELDS, DAY, MINUTE, REDEMPTION_FIELDS, balance, createItem, fund, itemById, memberWith, newCategory, newKey, redeem, redeemCode, redeemOk } from './support';

const CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){3}$/;
const QUICK = `query($first: Int) { quickRedeemOptions(first: $first) { balance expiryWarning options { item { id sku pointsPrice } canRedeem remainingAfter } } }`;

describe('redemption', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const at = (days: number) => new Date(api.clock.now().getTime() + days * DAY).toISOString();
  const sql = (query: string, params: unknown[] = []) => api.app.orm.em.fork().execute(query, params);
  const freeze = (id: string) => api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "风控") { status } }`, { id });
  const unfreeze = (id: string) => api.ok(`mutation($id: ID!) { unfreezeMember(memberId: $id) { status } }`, { id });
  async function mine(memberId: string, token: string = tokens.admin()) {
    const data = await api.ok(
      `query($id: ID!) { member(id: $id) { balance vip { level expiresAt } coupons { ${COUPON_FIELDS} } redemptions(first: 50) { edges { node { id status } } } } }`,
      { id: memberId },
      token,
    );
    return data.member;
  }
  async function notificationCount(memberId: string) {
    const [row] = await sql(`select count(*)::int as n from notification where member_id = ?`, [memberId]);
    return row.n as number;
  }

  describe('errors', () => {
    it('refuses inactive items and items outside their window with ITEM_UNAVAILABLE', async () => {
      const m = await memberWith(api, 1000);
      const inactive = await createItem(api, { active: false });
      const future = await createItem(api, { availableFrom: at(1) });
      const past = await createItem(api, { availableFrom: at(-5), availableUntil: at(0) });
      for (const item of [inactive, future, past]) expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('ITEM_UNAVAILABLE');
      expect(await balance(api, m.id)).toBe(1000);

      api.clock.advanceDays(1);
      const opened = await redeemOk(api, m.token, { itemId: future.id });
      expect(opened.redemption.status).toBe('COMPLETED');
      expect(await redeemCode(api, m.token, { itemId: past.id })).toBe('ITEM_UNAVAILABLE');
    });

    it('refuses a bad quantity, a blank key and a physical item without an address with BAD_USER_INPUT', async () => {
      const m = await memberWith(api, 1000);
      const item = await createItem(api);
      const physical = await createItem(api, { type: 'PHYSICAL' });
      for (const quantity of [0, -1]) {
        const res = await redeem(api, m.token, { itemId: item.id, quantity });
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'quantity' });
      }
      for (const key of ['', '   ', 'k'.repeat(129)]) {
        const res = await redeem(api, m.token, { itemId: item.id, idempotencyKey: key });
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
      }
      for (const shippingAddress of [undefined, null, {}, { line1: '   ' }, ['上海'], '上海市']) {
        const res = await redeem(api, m.token, { itemId: physical.id, shippingAddress });
        expect(res.errors?.[0].extensions, JSON.stringify(shippingAddress)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'shippingAddress' });
      }
      expect(await balance(api, m.id)).toBe(1000);
      expect((await itemById(api, physical.id)).stock).toBe(10);
    });

    it('refuses unknown items with NOT_FOUND and non-members with FORBIDDEN', async () => {
      const m = await memberWith(api, 1000);
      expect(await redeemCode(api, m.token, { itemId: '00000000-0000-4000-8000-000000000000' })).toBe('NOT_FOUND');
      expect(await redeemCode(api, m.token, { itemId: 'sku-123' })).toBe('NOT_FOUND');
      const item = await createItem(api);
      expect(await redeemCode(api, tokens.admin(), { itemId: item.id })).toBe('FORBIDDEN');
      expect(await redeemCode(api, tokens.partner(), { itemId: item.id })).toBe('FORBIDDEN');
      expect((await redeem(api, null as unknown as string, { itemId: item.id })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('refuses more than 10 units and more than the per-member limit with LIMIT_EXCEEDED', async () => {
      const m = await memberWith(api, 10_000);
      const cheap = await createItem(api, { pointsPrice: 1, stock: 100 });
      expect(await redeemCode(api, m.token, { itemId: cheap.id, quantity: 11 })).toBe('LIMIT_EXCEEDED');
      expect((await redeemOk(api, m.token, { itemId: cheap.id, quantity: 10 })).redemption.quantity).toBe(10);

      const limited = await createItem(api, { pointsPrice: 100, perMemberLimit: 2 });
      const over = await redeem(api, m.token, { itemId: limited.id, quantity: 3 });
      expect(over.errors?.[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 2 });
      await redeemOk(api, m.token, { itemId: limited.id });
      expect(await redeemCode(api, m.token, { itemId: limited.id, quantity: 2 })).toBe('LIMIT_EXCEEDED');
      await redeemOk(api, m.token, { itemId: limited.id });
      expect(await redeemCode(api, m.token, { itemId: limited.id })).toBe('LIMIT_EXCEEDED');
      // The limit is per member.
      const other = await memberWith(api, 1000);
      await redeemOk(api, other.token, { itemId: limited.id, quantity: 2 });
      expect((await itemById(api, limited.id)).stock).toBe(6);
    });

    it('refuses more than the stock with OUT_OF_STOCK', async () => {
      const m = await memberWith(api, 10_000);
      const item = await createItem(api, { stock: 2 });
      expect(await redeemCode(api, m.token, { itemId: item.id, quantity: 3 })).toBe('OUT_OF_STOCK');
      await redeemOk(api, m.token, { itemId: item.id, quantity: 2 });
      expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('OUT_OF_STOCK');
      const none = await createItem(api, { stock: 0 });
      expect(await redeemCode(api, m.token, { itemId: none.id })).toBe('OUT_OF_STOCK');
      expect(await balance(api, m.id)).toBe(9800);
      expect((await itemById(api, item.id)).stock).toBe(0);
    });

    it('refuses what the balance cannot pay with INSUFFICIENT_POINTS', async () => {
      const m = await memberWith(api, 99);
      const item = await createItem(api, { pointsPrice: 100 });
      expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('INSUFFICIENT_POINTS');
      const sixty = await createItem(api, { pointsPrice: 60 });
      expect(await redeemCode(api, m.token, { itemId: sixty.id, quantity: 2 })).toBe('INSUFFICIENT_POINTS');
      await fund(api, m.id, 1);
      expect((await redeemOk(api, m.token, { itemId: item.id })).remainingPoints).toBe(0);
      expect(await redeemCode(api, m.token, { itemId: sixty.id })).toBe('INSUFFICIENT_POINTS');

      // Points whose lot has passed its date cannot pay, even before the expiry job has run.
      const n = await createMember(api);
      await fund(api, n.id, 500, 2);
      api.clock.advanceDays(3);
      expect(await redeemCode(api, n.token, { itemId: item.id })).toBe('INSUFFICIENT_POINTS');
      expect(await balance(api, n.id)).toBe(0);
    });

    it('refuses a frozen member with MEMBER_FROZEN', async () => {
      const m = await memberWith(api, 1000);
      const item = await createItem(api);
      await freeze(m.id);
      expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('MEMBER_FROZEN');
      await unfreeze(m.id);
      await redeemOk(api, m.token, { itemId: item.id });
      expect(await balance(api, m.id)).toBe(900);
    });

    it('refuses a 6th redemption within 30 minutes with RATE_LIMITED, and frees it when the clock moves on', async () => {
      const m = await memberWith(api, 10_000);
      const item = await createItem(api, { pointsPrice: 10, stock: 100 });
      const other = await createItem(api, { pointsPrice: 10, stock: 100 });
      // Failed attempts do not count.
      expect(await redeemCode(api, m.token, { itemId: item.id, quantity: 0 })).toBe('BAD_USER_INPUT');
      expect(await redeemCode(api, m.token, { itemId: item.id, quantity: 11 })).toBe('LIMIT_EXCEEDED');
      for (let i = 0; i < 5; i++) {
        await redeemOk(api, m.token, { itemId: i % 2 ? item.id : other.id });
        api.clock.advance(MINUTE);
      }
      const limited = await redeem(api, m.token, { itemId: item.id });
      expect(limited.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 5 });
      expect(await redeemCode(api, m.token, { itemId: other.id })).toBe('RATE_LIMITED');
      // The first was 5 minutes ago: 25 minutes more and it leaves the window.
      api.clock.advance(25 * MINUTE - 1000);
      expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('RATE_LIMITED');
      api.clock.advance(1000);
      await redeemOk(api, m.token, { itemId: item.id });
      expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('RATE_LIMITED');
      // Another member is not limited.
      const n = await memberWith(api, 100);
      await redeemOk(api, n.token, { itemId: item.id });
      expect(await balance(api, m.id)).toBe(10_000 - 60);
    });

    it('leaves no trace when it fails', async () => {
      const m = await memberWith(api, 100);
      const item = await createItem(api, { pointsPrice: 150, stock: 3 });
      expect(await redeemCode(api, m.token, { itemId: item.id })).toBe('INSUFFICIENT_POINTS');
      expect(await mine(m.id)).toMatchObject({ balance: 100, redemptions: { edges: [] }, coupons: [] });
      expect(await itemById(api, item.id)).toMatchObject({ stock: 3, recentRedemptions: 0 });
      expect(await notificationCount(m.id)).toBe(0);
    });
  });

  describe('idempotency', () => {
    it('returns the first result for a retried key and CONFLICT for the same key with other arguments', async () => {
      const m = await memberWith(api, 1000);
      const item = await createItem(api, { pointsPrice: 100, stock: 10 });
      const key = newKey();
      const first = await redeemOk(api, m.token, { itemId: item.id, quantity: 2, idempotencyKey: key });
      expect(first).toMatchObject({ remainingPoints: 800, member: { balance: 800 }, redemption: { quantity: 2, pointsSpent: 200, status: 'COMPLETED' } });
      const retry = await redeemOk(api, m.token, { itemId: item.id, quantity: 2, idempotencyKey: key });
      expect(retry.redemption).toEqual(first.redemption);
      expect(retry).toMatchObject({ remainingPoints: 800, member: { balance: 800 } });
      expect((await itemById(api, item.id)).stock).toBe(8);
      expect(await notificationCount(m.id)).toBe(1);

      const otherQuantity = await redeem(api, m.token, { itemId: item.id, quantity: 1, idempotencyKey: key });
      expect(otherQuantity.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', idempotencyKey: key });
      const otherItem = await createItem(api);
      expect(await redeemCode(api, m.token, { itemId: otherItem.id, quantity: 2, idempotencyKey: key })).toBe('CONFLICT');
      // The default quantity is 1, which is not 2.
      expect(await redeemCode(api, m.token, { itemId: item.id, idempotencyKey: key })).toBe('CONFLICT');

      // A retry still gets its answer when the item has meanwhile sold out or gone inactive.
      await api.ok(`mutation($id: ID!, $input: CatalogItemInput!) { updateCatalogItem(id: $id, input: $input) { id } }`, {
        id: item.id,
        input: { sku: item.sku, name: item.name, category: item.category, type: item.type, pointsPrice: item.pointsPrice, stock: 0, active: false },
      });
      expect((await redeemOk(api, m.token, { itemId: item.id, quantity: 2, idempotencyKey: key })).redemption.id).toBe(first.redemption.id);

      // Keys are per member.
      const n = await memberWith(api, 1000);
      const theirs = await redeemOk(api, n.token, { itemId: otherItem.id, idempotencyKey: key });
      expect(theirs.redemption.id).not.toBe(first.redemption.id);
      expect(await balance(api, m.id)).toBe(800);
      expect((await mine(m.id)).redemptions.edges).toHaveLength(1);
    });

    it('compares shipping addresses by content, and lets a key whose attempt failed be used again', async () => {
      const m = await memberWith(api, 100);
      const physical = await createItem(api, { type: 'PHYSICAL', pointsPrice: 150 });
      const key = newKey();
      const address = { name: '李四', line1: '北京市朝阳区建国路 1 号', city: '北京' };
      expect(await redeemCode(api, m.token, { itemId: physical.id, idempotencyKey: key, shippingAddress: address })).toBe('INSUFFICIENT_POINTS');
      await fund(api, m.id, 50);
      const first = await redeemOk(api, m.token, { itemId: physical.id, idempotencyKey: key, shippingAddress: address });
      expect(first.redemption.status).toBe('PENDING_SHIPMENT');
      // The same address with its keys in another order is the same request.
      const reordered = await redeemOk(api, m.token, { itemId: physical.id, idempotencyKey: key, shippingAddress: { city: '北京', line1: '北京市朝阳区建国路 1 号', name: '李四' } });
      expect(reordered.redemption.id).toBe(first.redemption.id);
      expect(await redeemCode(api, m.token, { itemId: physical.id, idempotencyKey: key, shippingAddress: { ...address, line1: '北京市海淀区' } })).toBe('CONFLICT');
      expect(await balance(api, m.id)).toBe(0);
      // Keys are trimmed: " key " is the key.
      expect((await redeemOk(api, m.token, { itemId: physical.id, idempotencyKey: ` ${key} `, shippingAddress: address })).redemption.id).toBe(first.redemption.id);
    });
  });

  describe('prices', () => {
    it('sets cashDue to cashPrice × quantity for points + cash items, null for points-only items', async () => {
      const m = await memberWith(api, 10_000);
      const mixed = await createItem(api, { pointsPrice: 500, cashPrice: '19.90' });
      const pointsOnly = await createItem(api, { pointsPrice: 500 });
      const r1 = await redeemOk(api, m.token, { itemId: mixed.id, quantity: 3 });
      expect(r1.redemption).toMatchObject({ quantity: 3, pointsSpent: 1500, cashDue: '59.70', status: 'PENDING_PAYMENT' });
      const r2 = await redeemOk(api, m.token, { itemId: pointsOnly.id, quantity: 2 });
      expect(r2.redemption).toMatchObject({ pointsSpent: 1000, cashDue: null });
      const whole = await createItem(api, { pointsPrice: 1, cashPrice: '0.10' });
      expect((await redeemOk(api, m.token, { itemId: whole.id, quantity: 10 })).redemption.cashDue).toBe('1.00');
      expect(await balance(api, m.id)).toBe(10_000 - 1500 - 1000 - 10);
    });

    it('redeems a cash-only item without touching the points', async () => {
      const m = await createMember(api);
      const cashOnly = await createItem(api, { pointsPrice: 0, cashPrice: '9.90', type: 'PHYSICAL' });
      const r = await redeemOk(api, m.token, { itemId: cashOnly.id, quantity: 2, shippingAddress: ADDRESS });
      expect(r).toMatchObject({ remainingPoints: 0, redemption: { pointsSpent: 0, cashDue: '19.80', status: 'PENDING_PAYMENT' } });
      const cancelled = await api.ok(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "不要了") { status } }`, { id: r.redemption.id }, m.token);
      expect(cancelled.cancelRedemption.status).toBe('CANCELLED');
      expect(await balance(api, m.id)).toBe(0);
      expect((await itemById(api, cashOnly.id)).stock).toBe(10);
    });
  });

  describe('fulfilment', () => {
    it('issues one unguessable coupon per unit, with its value and expiry, that reads EXPIRED after its date', async () => {
      const m = await memberWith(api, 100_000);
      const item = await createItem(api, { type: 'COUPON', name: '满100减20 优惠券', pointsPrice: 300, stock: 100, config: { value: '20.00', validDays: 30 } });
      const issuedAt = api.clock.now().getTime();
      const r = await redeemOk(api, m.token, { itemId: item.id, quantity: 3 });
      expect(r.redemption.status).toBe('COMPLETED');
      const coupons = r.redemption.coupons;
      expect(coupons).toHaveLength(3);
      for (const coupon of coupons) {
        expect(coupon).toEqual({ code: expect.stringMatching(CODE), value: '20.00', expiresAt: new Date(issuedAt + 30 * DAY).toISOString(), status: 'ACTIVE' });
        expect(coupon.code.replace(/-/g, '')).toHaveLength(16);
      }
      expect(r.redemption.coupon).toEqual(coupons[0]);

      // Many codes, all different.
      const codes = new Set<string>(coupons.map((c: any) => c.code));
      const numeric = await createItem(api, { type: 'COUPON', pointsPrice: 10, stock: 100, config: { value: 5, validDays: 7 } });
      for (let i = 0; i < 3; i++) {
        const more = await redeemOk(api, m.token, { itemId: numeric.id, quantity: 10 });
        expect(more.redemption.coupons.every((c: any) => c.value === '5.00')).toBe(true);
        for (const c of more.redemption.coupons) codes.add(c.code);
      }
      expect(codes.size).toBe(33);

      const all = (await mine(m.id, m.token)).coupons;
      expect(all).toHaveLength(33);
      expect(new Set(all.map((c: any) => c.code))).toEqual(codes);
      const byStatus = async (status: string) => (await api.ok(`query($s: CouponStatus) { me { coupons(status: $s) { code status } } }`, { s: status }, m.token)).me.coupons;
      expect(await byStatus('ACTIVE')).toHaveLength(33);

      api.clock.advanceDays(7);
      expect(await byStatus('EXPIRED')).toHaveLength(30);
      expect(await byStatus('ACTIVE')).toHaveLength(3);
      api.clock.advanceDays(23);
      expect(await byStatus('ACTIVE')).toEqual([]);
      expect((await byStatus('EXPIRED')).map((c: any) => c.code).sort()).toEqual([...codes].sort());
      expect(await byStatus('USED')).toEqual([]);
      const redemption = await api.ok(`query { me { redemptions(first: 10) { edges { node { id coupon { status } } } } } }`, {}, m.token);
      const original = redemption.me.redemptions.edges.find((e: any) => e.node.id === r.redemption.id);
      expect(original.node.coupon.status).toBe('EXPIRED');

      // Coupons are the member's own.
      const other = await createMember(api);
      expect(await api.code(`query($id: ID!) { member(id: $id) { coupons { code } } }`, { id: m.id }, other.token)).toBe('FORBIDDEN');
    });

    it('creates VIP status and stacks further VIP redemptions onto it', async () => {
      const m = await memberWith(api, 100_000);
      const month = await createItem(api, { type: 'VIP', name: 'VIP 月卡', pointsPrice: 1000, stock: 100, config: { level: 1, days: 30 } });
      const gold = await createItem(api, { type: 'VIP', name: '黄金 VIP 10 天', pointsPrice: 1000, stock: 100, config: { level: 2, days: 10 } });
      const start = api.clock.now().getTime();
      const when = (days: number) => new Date(start + days * DAY).toISOString();
      expect((await mine(m.id)).vip).toBeNull();

      const r = await redeemOk(api, m.token, { itemId: month.id });
      expect(r.redemption).toMatchObject({ status: 'COMPLETED', coupon: null, coupons: [] });
      expect((await mine(m.id)).vip).toEqual({ level: 1, expiresAt: when(30) });
      await redeemOk(api, m.token, { itemId: month.id });
      expect((await mine(m.id)).vip).toEqual({ level: 1, expiresAt: when(60) });
      await redeemOk(api, m.token, { itemId: gold.id });
      expect((await mine(m.id)).vip).toEqual({ level: 2, expiresAt: when(70) });
      // Two units, two months; the higher level stays.
      await redeemOk(api, m.token, { itemId: month.id, quantity: 2 });
      expect((await mine(m.id, m.token)).vip).toEqual({ level: 2, expiresAt: when(130) });

      api.clock.advanceDays(130);
      expect((await mine(m.id)).vip).toBeNull();
      // An expired VIP is not extended: a new one starts now, at the item's level.
      await redeemOk(api, m.token, { itemId: month.id });
      expect((await mine(m.id)).vip).toEqual({ level: 1, expiresAt: when(160) });
    });

    it('completes VIRTUAL items at once', async () => {
      const m = await memberWith(api, 1000);
      const item = await createItem(api, { type: 'VIRTUAL', pointsPrice: 200 });
      const r = await redeemOk(api, m.token, { itemId: item.id });
      expect(r).toMatchObject({ remainingPoints: 800, redemption: { status: 'COMPLETED', trackingNumber: null, coupon: null, coupons: [], item: { id: item.id, stock: 9 }, member: { id: m.id } } });
    });

    it('ships PHYSICAL items: PENDING_SHIPMENT, then SHIPPED with a tracking number', async () => {
      const m = await memberWith(api, 1000);
      const item = await createItem(api, { type: 'PHYSICAL', name: '小米充电宝', pointsPrice: 300 });
      const r = await redeemOk(api, m.token, { itemId: item.id, shippingAddress: ADDRESS });
      expect(r.redemption).toMatchObject({ status: 'PENDING_SHIPMENT', trackingNumber: null, coupon: null });
      const [stored] = await api.app.orm.em.fork().execute('select shipping_address from redemption where id = ?', [r.redemption.id]);
      expect(stored.shipping_address).toEqual(ADDRESS);

      const SHIP = `mutation($id: ID!, $t: String!) { markRedemptionShipped(id: $id, trackingNumber: $t) { id status trackingNumber } }`;
      expect(await api.code(SHIP, { id: r.redemption.id, t: 'SF1234567890' }, m.token)).toBe('FORBIDDEN');
      expect(await api.code(SHIP, { id: r.redemption.id, t: 'SF1234567890' }, tokens.partner())).toBe('FORBIDDEN');
      const blank = await api.gql(SHIP, { id: r.redemption.id, t: '  ' }, tokens.admin());
      expect(blank.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'trackingNumber' });
      expect(await api.code(SHIP, { id: '00000000-0000-4000-8000-000000000000', t: 'SF1' })).toBe('NOT_FOUND');

      const shipped = await api.ok(SHIP, { id: r.redemption.id, t: ' SF1234567890 ' });
      expect(shipped.markRedemptionShipped).toEqual({ id: r.redemption.id, status: 'SHIPPED', trackingNumber: 'SF1234567890' });
      // Idempotent with the same number; another number is a CONFLICT.
      expect((await api.ok(SHIP, { id: r.redemption.id, t: 'SF1234567890' })).markRedemptionShipped.status).toBe('SHIPPED');
      expect(await api.code(SHIP, { id: r.redemption.id, t: 'YT999' })).toBe('CONFLICT');
      const member = await api.ok(`{ me { redemptions(first: 5) { edges { node { id status trackingNumber item { name } } } } } }`, {}, m.token);
      expect(member.me.redemptions.edges[0].node).toEqual({ id: r.redemption.id, status: 'SHIPPED', trackingNumber: 'SF1234567890', item: { name: '小米充电宝' } });

      // Only what awaits shipment can be shipped.
      const virtual = await createItem(api);
      const done = await redeemOk(api, m.token, { itemId: virtual.id });
      expect(await api.code(SHIP, { id: done.redemption.id, t: 'SF1' })).toBe('CONFLICT');
    });
  });

  describe('spending', () => {
    it('pays with the earliest-expiring points first, through the ledger', async () => {
      const m = await createMember(api);
      const in10 = at(10);
      const in5 = at(5);
      await fund(api, m.id, 100, 10);
      await fund(api, m.id, 100, 5);
      await fund(api, m.id, 100, 0);
      const item = await createItem(api, { name: '电影票', pointsPrice: 75 });
      const r = await redeemOk(api, m.token, { itemId: item.id, quantity: 2 });
      expect(r.remainingPoints).toBe(150);
      const view = await api.ok(
        `query($id: ID!) { member(id: $id) { balance expiringPoints(withinDays: 3650) { points lots { points expiresAt } } ledger(first: 1) { edges { node { ${ENTRY_FIELDS} } } } } }`,
        { id: m.id },
      );
      // All of the 5-day lot, half of the 10-day lot; the never-expiring lot untouched.
      expect(view.member.balance).toBe(150);
      expect(view.member.expiringPoints).toEqual({ points: 50, lots: [{ points: 50, expiresAt: in10 }] });
      expect(in5 < in10).toBe(true);
      expect(view.member.ledger.edges[0].node).toMatchObject({ type: 'REDEMPTION', status: 'POSTED', delta: -150, balanceAfter: 150, reference: r.redemption.id, description: '兑换 电影票 ×2' });

      await redeemOk(api, m.token, { itemId: item.id, quantity: 2 });
      const after = await api.ok(`query($id: ID!) { member(id: $id) { balance expiringPoints(withinDays: 3650) { points } } }`, { id: m.id });
      expect(after.member).toEqual({ balance: 0, expiringPoints: { points: 0 } });
    });
  });

  describe('quick options', () => {
    it('offers affordable items between 0.3 and 1.0 of the balance, closest to 0.7 first', async () => {
      const category = newCategory('快兑');
      const make = (pointsPrice: number, overrides: Record<string, unknown> = {}) => createItem(api, { category, pointsPrice, stock: 5, ...overrides });
      const m = await createMember(api);
      await fund(api, m.id, 1_710_000, 0);
      const limited = await make(710_000, { perMemberLimit: 1 });
      await redeemOk(api, m.token, { itemId: limited.id });
      // Balance 1,000,000: the window is 300,000..1,000,000 and the target 700,000.
      const target = await make(700_000);
      const below = await make(650_000);
      const above = await make(760_000);
      const all = await make(1_000_000);
      const floor = await make(300_000);
      await make(299_999);
      await make(1_000_001);
      await make(700_000, { active: false });
      await make(690_000, { stock: 0 });
      await make(705_000, { availableFrom: at(5) });
      await make(695_000, { availableUntil: at(0) });

      const ten = (await api.ok(QUICK, { first: 10 }, m.token)).quickRedeemOptions;
      expect(ten.balance).toBe(1_000_000);
      expect(ten.expiryWarning).toBeNull();
      expect(ten.options).toEqual([
        { item: { id: target.id, sku: target.sku, pointsPrice: 700_000 }, canRedeem: true, remainingAfter: 300_000 },
        { item: { id: limited.id, sku: limited.sku, pointsPrice: 710_000 }, canRedeem: false, remainingAfter: 290_000 },
        { item: { id: below.id, sku: below.sku, pointsPrice: 650_000 }, canRedeem: true, remainingAfter: 350_000 },
        { item: { id: above.id, sku: above.sku, pointsPrice: 760_000 }, canRedeem: true, remainingAfter: 240_000 },
        { item: { id: all.id, sku: all.sku, pointsPrice: 1_000_000 }, canRedeem: true, remainingAfter: 0 },
        { item: { id: floor.id, sku: floor.sku, pointsPrice: 300_000 }, canRedeem: true, remainingAfter: 700_000 },
      ]);
      // The default is 3.
      const three = (await api.ok(`{ quickRedeemOptions { balance options { item { id } } } }`, {}, m.token)).quickRedeemOptions;
      expect(three.options.map((o: any) => o.item.id)).toEqual([target.id, limited.id, below.id]);
      expect((await api.ok(QUICK, { first: 0 }, m.token)).quickRedeemOptions.options).toEqual([]);

      // What canRedeem promises, redeem keeps.
      expect(await redeemCode(api, m.token, { itemId: limited.id })).toBe('LIMIT_EXCEEDED');

      // Frozen: shown, but not redeemable.
      await freeze(m.id);
      const frozen = (await api.ok(QUICK, { first: 10 }, m.token)).quickRedeemOptions;
      expect(frozen.options).toHaveLength(6);
      expect(frozen.options.every((o: any) => o.canRedeem === false)).toBe(true);
      await unfreeze(m.id);

      // The options follow the balance.
      await redeemOk(api, m.token, { itemId: floor.id });
      const after = (await api.ok(QUICK, { first: 10 }, m.token)).quickRedeemOptions;
      expect(after.balance).toBe(700_000);
      // 700,000: the window is 210,000..700,000 and the target 490,000.
      expect(after.options.map((o: any) => o.item.pointsPrice)).toEqual([650_000, 300_000, 299_999, 700_000]);
      expect(after.options.map((o: any) => o.remainingAfter)).toEqual([50_000, 400_000, 400_001, 0]);

      // Members only; no points, no options.
      expect(await api.code(QUICK, { first: 3 }, tokens.admin())).toBe('FORBIDDEN');
      const broke = await createMember(api);
      expect((await api.ok(QUICK, { first: 3 }, broke.token)).quickRedeemOptions).toEqual({ balance: 0, expiryWarning: null, options: [] });
    });

    it('warns about points expiring within 7 days, in Chinese by default and in English for English-speaking members', async () => {
      const m = await createMember(api);
      await fund(api, m.id, 120, 5);
      await fund(api, m.id, 30, 3);
      await fund(api, m.id, 20, 7);
      await fund(api, m.id, 40, 8);
      await fund(api, m.id, 500, 0);
      const quick = async () => (await api.ok(QUICK, { first: 3 }, m.token)).quickRedeemOptions;
      expect(await quick()).toMatchObject({ balance: 710, expiryWarning: '您有170积分将于3天后过期,快来兑换吧!' });

      await sql(`update member set language = 'en' where id = ?`, [m.id]);
      expect((await quick()).expiryWarning).toBe('170 points expire in 3 days. Redeem them now!');
      api.clock.advance(2.5 * DAY);
      expect((await quick()).expiryWarning).toBe('210 points expire in 1 day. Redeem them now!');
      await sql(`update member set language = 'zh-CN' where id = ?`, [m.id]);
      expect((await quick()).expiryWarning).toBe('您有210积分将于1天后过期,快来兑换吧!');

      // Nothing expiring within a week: no warning.
      const calm = await createMember(api);
      await fund(api, calm.id, 1000, 30);
      expect((await api.ok(QUICK, { first: 3 }, calm.token)).quickRedeemOptions.expiryWarning).toBeNull();
    });

    it('counts only spendable points once a lot has passed its date', async () => {
      const m = await createMember(api);
      await fund(api, m.id, 1000, 0);
      await fund(api, m.id, 1000, 1);
      expect((await api.ok(QUICK, { first: 3 }, m.token)).quickRedeemOptions).toMatchObject({ balance: 2000, expiryWarning: '您有1000积分将于1天后过期,快来兑换吧!' });
      api.clock.advanceDays(2);
      // No expiry job has run; the lot is still in the cached balance but cannot be spent.
      const quick = (await api.ok(QUICK, { first: 20 }, m.token)).quickRedeemOptions;
      expect(quick).toMatchObject({ balance: 1000, expiryWarning: null });
      expect(quick.options.every((o: any) => o.remainingAfter >= 0 && o.item.pointsPrice <= 1000 && o.item.pointsPrice >= 300)).toBe(true);
    });
  });

  describe('member views and notifications', () => {
    it("records a REDEMPTION notification per redemption, lists them newest first and marks only the member's own read", async () => {
      const a = await memberWith(api, 10_000);
      const b = await memberWith(api, 10_000);
      const items = [await createItem(api, { name: '咖啡券' }), await createItem(api, { name: '电影票', type: 'PHYSICAL' }), await createItem(api, { name: '话费充值' })];
      const redemptions: any[] = [];
      for (const item of items) {
        redemptions.push((await redeemOk(api, a.token, { itemId: item.id, shippingAddress: item.type === 'PHYSICAL' ? ADDRESS : undefined })).redemption);
        api.clock.advance(MINUTE);
      }
      const theirs = (await redeemOk(api, b.token, { itemId: items[0].id })).redemption;
      expect(await redeemCode(api, a.token, { itemId: items[0].id, quantity: 0 })).toBe('BAD_USER_INPUT');

      const NOTES = `query($first: Int, $after: String, $unread: Boolean) { notifications(first: $first, after: $after, unreadOnly: $unread) { pageInfo { hasNextPage endCursor } edges { cursor node { id kind title body data createdAt readAt } } } }`;
      const page1 = (await api.ok(NOTES, { first: 2 }, a.token)).notifications;
      expect(page1.pageInfo.hasNextPage).toBe(true);
      const page2 = (await api.ok(NOTES, { first: 2, after: page1.pageInfo.endCursor }, a.token)).notifications;
      expect(page2.pageInfo.hasNextPage).toBe(false);
      const notes = [...page1.edges, ...page2.edges].map((e: any) => e.node);
      expect(notes.map((n: any) => n.data.redemptionId)).toEqual(redemptions.map((r) => r.id).reverse());
      expect(notes[0]).toMatchObject({ kind: 'REDEMPTION', title: '兑换成功', body: expect.stringContaining('话费充值'), readAt: null, data: { itemId: items[2].id, quantity: 1, points: 100 } });
      expect(notes[1].body).toContain('发货');

      const MARK = `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`;
      const [bNote] = (await api.ok(NOTES, { first: 5 }, b.token)).notifications.edges.map((e: any) => e.node);
      expect(bNote.data.redemptionId).toBe(theirs.id);
      const marked = await api.ok(MARK, { ids: [notes[0].id, notes[1].id, bNote.id, 'garbage', '00000000-0000-4000-8000-000000000000'] }, a.token);
      expect(marked.markNotificationsRead).toBe(2);
      expect((await api.ok(MARK, { ids: [notes[0].id, notes[1].id] }, a.token)).markNotificationsRead).toBe(0);
      expect((await api.ok(MARK, { ids: [] }, a.token)).markNotificationsRead).toBe(0);

      const unread = (await api.ok(NOTES, { first: 10, unread: true }, a.token)).notifications.edges.map((e: any) => e.node.id);
      expect(unread).toEqual([notes[2].id]);
      const read = (await api.ok(NOTES, { first: 10 }, a.token)).notifications.edges.map((e: any) => e.node);
      expect(read.filter((n: any) => n.readAt).map((n: any) => n.readAt)).toEqual([api.clock.now().toISOString(), api.clock.now().toISOString()]);
      // b's notification was not touched by a.
      expect((await api.ok(NOTES, { first: 10, unread: true }, b.token)).notifications.edges).toHaveLength(1);
      expect((await api.ok(MARK, { ids: [notes[2].id] }, b.token)).markNotificationsRead).toBe(0);

      expect(await api.code(NOTES, { first: 1 }, tokens.admin())).toBe('FORBIDDEN');
      expect(await api.code(MARK, { ids: [notes[2].id] }, tokens.admin())).toBe('FORBIDDEN');
      expect(await api.code(NOTES, { first: 1, after: 'garbage' }, a.token)).toBe('BAD_USER_INPUT');
    });

    it("lists a member's redemptions newest first, page by page, to the member and to admins only", async () => {
      const m = await memberWith(api, 10_000);
      const item = await createItem(api, { stock: 20 });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await redeemOk(api, m.token, { itemId: item.id, quantity: i + 1 })).redemption.id);
        if (i < 3) api.clock.advance(MINUTE);
      }
      // Two in the same instant (ids[3] and ids[4]) still page without loss or repetition.
      ids.push((await redeemOk(api, m.token, { itemId: item.id })).redemption.id);
      api.clock.advance(31 * MINUTE);
      ids.push((await redeemOk(api, m.token, { itemId: item.id })).redemption.id);
      const PAGE = `query($id: ID!, $after: String) { member(id: $id) { redemptions(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { ${REDEMPTION_FIELDS} } } } } }`;
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = (await api.ok(PAGE, { id: m.id, after }, m.token)).member.redemptions;
        seen.push(...page.edges.map((e: any) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(6);
      expect(seen[0]).toBe(ids[5]);
      expect(new Set(seen.slice(1, 3))).toEqual(new Set([ids[3], ids[4]]));
      expect(seen.slice(3)).toEqual([ids[2], ids[1], ids[0]]);
      expect((await api.ok(PAGE, { id: m.id }, tokens.admin())).member.redemptions.edges).toHaveLength(2);
      const other = await createMember(api);
      expect(await api.code(PAGE, { id: m.id }, other.token)).toBe('FORBIDDEN');
    });
  });
});
