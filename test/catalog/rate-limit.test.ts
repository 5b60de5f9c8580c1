import { describe, expect, it } from 'vitest';
import { startApp, wsExecute } from '../support/app';
import { tokens } from '../support/tokens';
import { expectReconciled } from '../support/ledger';
import { ADDRESS, createItem, memberWith, MINUTE, redeemCode, redeemOk } from './support';

/**
 * The redemption rate limit (5 per 30 minutes) holds against abuse without being a way to lock a
 * member out: only redemptions that happened or are under way count.
 */
describe('redemption rate limit', async () => {
  const api = await startApp();

  it('does not count refused attempts, however many', async () => {
    const m = await memberWith(api, 50);
    const dear = await createItem(api, { pointsPrice: 500, stock: 10 });
    const cheap = await createItem(api, { pointsPrice: 10, stock: 10 });
    for (let i = 0; i < 8; i++) expect(await redeemCode(api, m.token, { itemId: dear.id })).toBe('INSUFFICIENT_POINTS');
    for (let i = 0; i < 5; i++) await redeemOk(api, m.token, { itemId: cheap.id });
    expect(await redeemCode(api, m.token, { itemId: cheap.id })).toBe('RATE_LIMITED');
    await expectReconciled(api);
  });

  it('counts pending redemptions and not cancelled ones, over HTTP and WebSocket', async () => {
    const m = await memberWith(api, 1000);
    const physical = await createItem(api, { type: 'PHYSICAL', pointsPrice: 10, stock: 20 });
    const pending = [];
    for (let i = 0; i < 5; i++) {
      pending.push((await redeemOk(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS })).redemption);
      api.clock.advance(MINUTE);
    }
    expect(pending.every((r) => r.status === 'PENDING_SHIPMENT')).toBe(true);
    const client = api.ws(m.token);
    const REDEEM = 'mutation($i: RedeemInput!) { redeem(input: $i) { redemption { id } } }';
    const viaWs = (key: string) => wsExecute(client, REDEEM, { i: { itemId: physical.id, idempotencyKey: key, shippingAddress: ADDRESS } });
    expect((await viaWs('ws-1')).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    // Two are cancelled (the member's own, while pending): two places come back, and no more.
    for (const r of pending.slice(0, 2)) {
      await api.ok('mutation($id: ID!) { cancelRedemption(id: $id, reason: "不要了") { status } }', { id: r.id }, m.token);
    }
    expect((await viaWs('ws-2')).errors).toBeUndefined();
    await redeemOk(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS });
    expect(await redeemCode(api, m.token, { itemId: physical.id, shippingAddress: ADDRESS })).toBe('RATE_LIMITED');
    expect((await viaWs('ws-3')).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    await client.dispose();

    // An admin's view agrees: 5 counted in the window, 2 cancelled beside them.
    const statuses = (await api.ok('query($id: ID!) { member(id: $id) { redemptions(first: 20) { edges { node { status } } } } }', { id: m.id }, tokens.admin())).member.redemptions.edges.map(
      (e: { node: { status: string } }) => e.node.status,
    );
    expect(statuses.filter((s: string) => s === 'CANCELLED')).toHaveLength(2);
    expect(statuses.filter((s: string) => s !== 'CANCELLED')).toHaveLength(5);
    await expectReconciled(api);
  });
});
