import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled, newOrderId } from '../support/ledger';
import { tokens } from '../support/tokens';

describe('ledger smoke', async () => {
  const api = await startApp();

  it('earns, spends, reverses and expires', async () => {
    const m = await createMember(api);
    const e1 = await earn(api, m.id, '99.50');
    expect(e1.errors).toBeUndefined();
    expect(e1.data.earnPoints).toMatchObject({ points: 100, status: 'POSTED', duplicate: false, member: { balance: 100 } });
    const spend = await adjust(api, m.id, -30);
    expect(spend.errors).toBeUndefined();
    expect(spend.data.adjustPoints).toMatchObject({ delta: -30, balanceAfter: 70 });
    const orderId = newOrderId();
    await earn(api, m.id, '50.00', { orderId });
    const rev = await api.gql(`mutation { reverseEarn(input: { orderId: "${orderId}", reason: "退货" }) { pointsReversed shortfall member { balance } entry { delta type } } }`, {}, tokens.partner());
    expect(rev.errors).toBeUndefined();
    expect(rev.data.reverseEarn).toMatchObject({ pointsReversed: 50, shortfall: 0, member: { balance: 70 } });
    api.clock.advanceDays(400);
    const jobs = await api.app.jobs.runOnce();
    expect(jobs.expiry).toMatchObject({ members: 1, points: 70 });
    const data = await api.ok(`query($id: ID!) { member(id: $id) { balance ledger(first: 10) { edges { node { type delta balanceAfter } } } } }`, { id: m.id });
    expect(data.member.balance).toBe(0);
    expect(data.member.ledger.edges.map((e: any) => e.node.type)).toEqual(['EXPIRY', 'REVERSAL', 'PURCHASE', 'ADJUSTMENT', 'PURCHASE']);
    await expectReconciled(api);
  });
});
