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
    const rev = await api.gql(`mutation { reverseEarn(input: { orderId: "${orderId}", reason: "退货" }) { pointsReversed shortfall member { balance } entry { delta type } } }`, {}, tokens.admin());
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

  it('refuses to rewrite history in the database itself', async () => {
    const m = await createMember(api);
    const entry = (await earn(api, m.id, '10.00')).data.earnPoints.entry;
    const em = api.app.orm.em.fork();
    await expect(em.execute('update ledger_entry set delta = 999 where id = ?', [entry.id])).rejects.toThrow(/append-only/);
    await expect(em.execute('delete from ledger_entry where id = ?', [entry.id])).rejects.toThrow(/append-only/);
    await expect(em.execute('update member set balance = -1 where id = ?', [m.id])).rejects.toThrow(/member_points_check/);
    await expect(em.execute('update points_lot set remaining = amount + 1 where member_id = ?', [m.id])).rejects.toThrow(/points_lot_remaining_check/);
    await expectReconciled(api);
  });
});
