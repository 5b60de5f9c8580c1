import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

const ITEM = 'id sku name type pointsPrice cashPrice stock active recentRedemptions redeemable';

describe('catalog smoke', async () => {
  const api = await startApp();

  async function createItem(input: Record<string, unknown>) {
    const data = await api.ok(`mutation($input: CatalogItemInput!) { createCatalogItem(input: $input) { ${ITEM} } }`, {
      input: { sku: `SKU-${Math.random().toString(36).slice(2, 10)}`, name: '星巴克中杯券', category: '餐饮', type: 'VIRTUAL', pointsPrice: 100, stock: 10, ...input },
    });
    return data.createCatalogItem;
  }

  it('redeems, lists, cancels', async () => {
    const m = await createMember(api);
    await adjust(api, m.id, 1000);
    const coupon = await createItem({ type: 'COUPON', pointsPrice: 300, cashPrice: '9.90', config: { value: '20.00', validDays: 30 } });
    const physical = await createItem({ type: 'PHYSICAL', pointsPrice: 200, stock: 1 });
    const r1 = await api.gql(
      `mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints member { balance } redemption { id status pointsSpent cashDue quantity coupon { code value status expiresAt } item { sku } } } }`,
      { input: { itemId: coupon.id, quantity: 2, idempotencyKey: 'k1' } },
      m.token,
    );
    expect(r1.errors).toBeUndefined();
    // Points + cash: held until the payment system confirms the cash part.
    expect(r1.data.redeem).toMatchObject({ remainingPoints: 400, member: { balance: 400 }, redemption: { status: 'PENDING_PAYMENT', pointsSpent: 600, cashDue: '19.80', quantity: 2, coupon: null } });
    const paid = await api.ok(
      `mutation($id: ID!) { confirmRedemptionPayment(id: $id, paymentReference: "pay-smoke-1", amount: "19.80") { status paymentReference coupon { value status } } }`,
      { id: r1.data.redeem.redemption.id },
      tokens.admin(),
    );
    expect(paid.confirmRedemptionPayment).toMatchObject({ status: 'COMPLETED', paymentReference: 'pay-smoke-1', coupon: { value: '20.00', status: 'ACTIVE' } });
    const again = await api.gql(
      `mutation($input: RedeemInput!) { redeem(input: $input) { redemption { id } remainingPoints } }`,
      { input: { itemId: coupon.id, quantity: 2, idempotencyKey: 'k1' } },
      m.token,
    );
    expect(again.data.redeem.redemption.id).toBe(r1.data.redeem.redemption.id);
    const noAddress = await api.gql(`mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints } }`, { input: { itemId: physical.id, idempotencyKey: 'k2' } }, m.token);
    expect(noAddress.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const shipped = await api.gql(
      `mutation($input: RedeemInput!) { redeem(input: $input) { redemption { id status } } }`,
      { input: { itemId: physical.id, idempotencyKey: 'k3', shippingAddress: { line1: '上海市徐汇区' } } },
      m.token,
    );
    expect(shipped.data.redeem.redemption.status).toBe('PENDING_SHIPMENT');
    const out = await api.gql(
      `mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints } }`,
      { input: { itemId: physical.id, idempotencyKey: 'k4', shippingAddress: { line1: 'x' } } },
      m.token,
    );
    expect(out.errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
    const cancel = await api.gql(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "不想要了") { status } }`, { id: shipped.data.redeem.redemption.id }, m.token);
    expect(cancel.data.cancelRedemption.status).toBe('CANCELLED');
    const me = await api.ok(
      `{ me { balance coupons { status } redemptions(first: 5) { edges { node { status item { name } } } } } catalog(first: 10) { totalCount edges { node { ${ITEM} } } } quickRedeemOptions { balance options { item { pointsPrice } canRedeem remainingAfter } expiryWarning } notifications(first: 5) { edges { node { kind title body } } } }`,
      {},
      m.token,
    );
    expect(me.me.balance).toBe(400);
    expect(me.me.coupons).toHaveLength(2);
    expect(me.catalog.edges.map((e: any) => e.node.stock)).toEqual([1, 8]);
    expect(me.quickRedeemOptions.options).toEqual([
      { item: { pointsPrice: 300 }, canRedeem: true, remainingAfter: 100 },
      { item: { pointsPrice: 200 }, canRedeem: true, remainingAfter: 200 },
    ]);
    // 待支付, then 兑换成功 on payment, then 兑换成功 for the physical item.
    expect(me.notifications.edges).toHaveLength(3);
    await expectReconciled(api);
    const admin = await api.ok(`{ catalog(first: 10) { edges { node { recentRedemptions redeemable } } } }`, {}, tokens.admin());
    expect(admin.catalog.edges.map((e: any) => e.node.recentRedemptions)).toEqual([0, 1]);
  });
});
