import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { partnerCall } from '../support/partner';
import { ConfirmRedemptionPaymentDocument } from '../../schema/generated/graphql';
import { demoCatalog } from '../../src/demo/catalog';
import { seedDemo } from '../../src/demo/seed';
import { DAY, fund, redeemOk } from './support';

describe('demo catalog', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  it('is seeded into an empty database through the catalog service, once', async () => {
    // The demo's windows are relative to the program's clock when it is seeded (here, the real time).
    api.clock.set(new Date());
    const items = demoCatalog(api.clock.now());
    expect(items.length).toBeGreaterThanOrEqual(30);
    expect(new Set(items.map((i) => i.sku)).size).toBe(items.length);

    const seeded = await seedDemo(api.app.orm, api.app.services);
    expect(seeded).toMatchObject({ seeded: true, memberIds: expect.any(Array) });
    expect(seeded.memberIds).toHaveLength(5);

    const LIST = `{ catalog(first: 100) { totalCount edges { node { sku name category type pointsPrice cashPrice stock perMemberLimit active redeemable availableFrom } } } }`;
    const admin = (await api.ok(LIST)).catalog;
    expect(admin.totalCount).toBe(items.length);
    const nodes = admin.edges.map((e: any) => e.node);
    expect(new Set(nodes.map((n: any) => n.type))).toEqual(new Set(['PHYSICAL', 'VIRTUAL', 'COUPON', 'VIP']));
    expect(new Set(nodes.map((n: any) => n.category))).toEqual(new Set(['数码', '家居', '美食', '出行', '会员权益', '优惠券', '公益']));
    expect(nodes.filter((n: any) => n.cashPrice !== null).length).toBeGreaterThanOrEqual(3);
    expect(nodes.filter((n: any) => n.perMemberLimit !== null).length).toBeGreaterThanOrEqual(3);
    expect(nodes.every((n: any) => /[\u4e00-\u9fa5]/.test(n.name))).toBe(true);
    const [{ n: configured }] = await api.app.orm.em.fork().execute(`select count(*)::int as n from catalog_item where type in ('COUPON', 'VIP') and config is null`);
    expect(configured).toBe(0);

    // A demo member browses, and redeems a VIP month and a coupon.
    const memberId = seeded.memberIds[0];
    const token = tokens.member(memberId);
    const member = (await api.ok(LIST, {}, token)).catalog;
    expect(member.totalCount).toBe(items.filter((i) => i.active !== false).length);
    // Demo members come with some history (orders, a check-in, tasks): spend on top of it.
    const before = (await api.ok(`{ me { balance } }`, {}, token)).me.balance;
    await fund(api, memberId, 10_000);
    const bySku = Object.fromEntries((await api.ok(`{ catalog(first: 100) { edges { node { id sku redeemable } } } }`, {}, token)).catalog.edges.map((e: any) => [e.node.sku, e.node]));
    expect(bySku['DEMO-DIGI-007'].redeemable).toBe(false);
    expect(bySku['DEMO-VIP-006'].redeemable).toBe(true);
    await redeemOk(api, token, { itemId: bySku['DEMO-VIP-001'].id });
    const coupon = await redeemOk(api, token, { itemId: bySku['DEMO-CPN-001'].id });
    expect(coupon.redemption.coupon).toMatchObject({ value: '20.00', status: 'ACTIVE', expiresAt: new Date(api.clock.now().getTime() + 30 * DAY).toISOString() });
    const me = (await api.ok(`{ me { balance vip { level expiresAt } } }`, {}, token)).me;
    expect(me).toEqual({ balance: before + 10_000 - 2000 - 300, vip: { level: 1, expiresAt: new Date(api.clock.now().getTime() + 30 * DAY).toISOString() } });

    // Seeding again changes nothing.
    const again = await seedDemo(api.app.orm, api.app.services);
    expect(again.seeded).toBe(false);
    expect(new Set(again.memberIds)).toEqual(new Set(seeded.memberIds));
    expect((await api.ok(`{ catalog { totalCount } }`)).catalog.totalCount).toBe(items.length);
  });

  it('the README payment flow: the demo cash items wait for payment, then deliver once', async () => {
    const { memberIds } = await seedDemo(api.app.orm, api.app.services);
    const memberId = memberIds[1];
    const token = tokens.member(memberId);
    await fund(api, memberId, 30_000);
    const bySku = Object.fromEntries((await api.ok(`{ catalog(first: 100) { edges { node { id sku stock } } } }`, {}, token)).catalog.edges.map((e: any) => [e.node.sku, e.node]));
    const vipBefore = (await api.ok(`{ me { vip { level } } }`, {}, token)).me.vip;
    expect(vipBefore).toBeNull();

    const vip = (await redeemOk(api, token, { itemId: bySku['DEMO-VIP-003'].id })).redemption;
    expect(vip).toMatchObject({ status: 'PENDING_PAYMENT', pointsSpent: 18_000, cashDue: '99.00' });
    const home = (await redeemOk(api, token, { itemId: bySku['DEMO-HOME-004'].id, shippingAddress: { name: '小红', line1: '上海市徐汇区漕溪北路 88 号' } })).redemption;
    expect(home).toMatchObject({ status: 'PENDING_PAYMENT', pointsSpent: 6680, cashDue: '59.00' });
    expect((await api.ok(`{ me { vip { level } } }`, {}, token)).me.vip).toBeNull();

    const CONFIRM = `mutation($id: ID!, $ref: String!, $amount: Decimal!) { confirmRedemptionPayment(id: $id, paymentReference: $ref, amount: $amount) { status paymentReference } }`;
    // The payment system confirms through the partner door, as the README's curl does.
    const byPartner = await partnerCall(api, ConfirmRedemptionPaymentDocument, { id: vip.id, paymentReference: 'wx-pay-0001', amount: '99.00' }, tokens.partner('acme'));
    expect(byPartner.errors).toBeUndefined();
    expect(byPartner.data?.confirmRedemptionPayment).toMatchObject({ status: 'COMPLETED', paymentReference: 'wx-pay-0001' });
    expect((await api.ok(CONFIRM, { id: home.id, ref: 'wx-pay-0002', amount: '59.00' }, tokens.admin())).confirmRedemptionPayment.status).toBe('PENDING_SHIPMENT');
    expect((await api.ok(`{ me { vip { level expiresAt } } }`, {}, token)).me.vip).toEqual({ level: 2, expiresAt: new Date(api.clock.now().getTime() + 365 * DAY).toISOString() });
    const stockOf = async (sku: string) => (await api.ok(`query($id: ID!) { catalogItem(id: $id) { stock } }`, { id: bySku[sku].id })).catalogItem.stock;
    expect(await stockOf('DEMO-VIP-003')).toBe(bySku['DEMO-VIP-003'].stock - 1);
    expect(await stockOf('DEMO-HOME-004')).toBe(bySku['DEMO-HOME-004'].stock - 1);
  });
});
