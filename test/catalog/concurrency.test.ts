import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { balance, createItem, itemById, memberWith, newKey, redeem } from './support';

const codesOf = (results: { errors?: { extensions?: { code?: string } }[] }[]) =>
  results.reduce<Record<string, number>>((counts, r) => {
    const code = r.errors ? (r.errors[0].extensions?.code ?? 'UNKNOWN') : 'OK';
    counts[code] = (counts[code] ?? 0) + 1;
    return counts;
  }, {});

describe('concurrent redemptions', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const sql = (query: string, params: unknown[] = []) => api.app.orm.em.fork().execute(query, params);
  const redemptionsOf = async (itemId: string) => (await sql(`select member_id, quantity, status from redemption where item_id = ?`, [itemId])) as { member_id: string; quantity: number; status: string }[];

  it('sells a stock of 7 to exactly 7 of 30 members redeeming at once', async () => {
    const members = await Promise.all(Array.from({ length: 30 }, () => memberWith(api, 100)));
    const item = await createItem(api, { name: '限量周边', type: 'PHYSICAL', pointsPrice: 100, stock: 7 });
    const results = await Promise.all(members.map((m) => redeem(api, m.token, { itemId: item.id, shippingAddress: { line1: '上海市' } })));
    expect(codesOf(results)).toEqual({ OK: 7, OUT_OF_STOCK: 23 });
    expect(await itemById(api, item.id)).toMatchObject({ stock: 0, recentRedemptions: 7 });

    const winners = new Set(members.filter((_, i) => !results[i].errors).map((m) => m.id));
    const rows = await redemptionsOf(item.id);
    expect(new Set(rows.map((r) => r.member_id))).toEqual(winners);
    for (const m of members) expect(await balance(api, m.id)).toBe(winners.has(m.id) ? 0 : 100);
  });

  it('lets one member with points for 3 win exactly 3 of 20 concurrent redeems', async () => {
    const m = await memberWith(api, 300);
    const item = await createItem(api, { pointsPrice: 100, stock: 100 });
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(api, m.token, { itemId: item.id })));
    expect(codesOf(results)).toEqual({ OK: 3, INSUFFICIENT_POINTS: 17 });
    expect(await balance(api, m.id)).toBe(0);
    expect(await itemById(api, item.id)).toMatchObject({ stock: 97, recentRedemptions: 3 });
    expect(await redemptionsOf(item.id)).toHaveLength(3);
    const [{ n }] = await sql(`select count(*)::int as n from notification where member_id = ?`, [m.id]);
    expect(n).toBe(3);
  });

  it('with the rate limit raised, lets the balance alone decide: 8 of 20', async () => {
    await sql(`update program_settings set redeem_limit_per_30min = 100`);
    try {
      const m = await memberWith(api, 800);
      const item = await createItem(api, { pointsPrice: 100, stock: 100 });
      const results = await Promise.all(Array.from({ length: 20 }, () => redeem(api, m.token, { itemId: item.id })));
      expect(codesOf(results)).toEqual({ OK: 8, INSUFFICIENT_POINTS: 12 });
      expect(await balance(api, m.id)).toBe(0);
      expect((await itemById(api, item.id)).stock).toBe(92);
    } finally {
      await sql(`update program_settings set redeem_limit_per_30min = 5`);
    }
  });

  it('keeps the rate limit under concurrency: 5 of 20 when the points would cover all', async () => {
    const m = await memberWith(api, 10_000);
    const item = await createItem(api, { pointsPrice: 100, stock: 100 });
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(api, m.token, { itemId: item.id })));
    expect(codesOf(results)).toEqual({ OK: 5, RATE_LIMITED: 15 });
    expect(await balance(api, m.id)).toBe(9500);
  });

  it('keeps the per-member limit under concurrency', async () => {
    const m = await memberWith(api, 10_000);
    const item = await createItem(api, { pointsPrice: 100, stock: 100, perMemberLimit: 2 });
    const results = await Promise.all(Array.from({ length: 5 }, () => redeem(api, m.token, { itemId: item.id })));
    expect(codesOf(results)).toEqual({ OK: 2, LIMIT_EXCEEDED: 3 });
    expect((await itemById(api, item.id)).stock).toBe(98);
  });

  it('makes one redemption of 10 concurrent redeems with the same key', async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { type: 'COUPON', pointsPrice: 100, stock: 50, config: { value: '10.00', validDays: 30 } });
    const key = newKey();
    const results = await Promise.all(Array.from({ length: 10 }, () => redeem(api, m.token, { itemId: item.id, quantity: 2, idempotencyKey: key })));
    expect(codesOf(results)).toEqual({ OK: 10 });
    const ids = new Set(results.map((r) => r.data.redeem.redemption.id));
    expect(ids.size).toBe(1);
    const codes = new Set(results.flatMap((r) => r.data.redeem.redemption.coupons.map((c: any) => c.code)));
    expect(codes.size).toBe(2);
    expect(await redemptionsOf(item.id)).toHaveLength(1);
    expect(await balance(api, m.id)).toBe(800);
    expect((await itemById(api, item.id)).stock).toBe(48);
    const [{ n }] = await sql(`select count(*)::int as n from coupon where member_id = ?`, [m.id]);
    expect(n).toBe(2);
    const [{ notes }] = await sql(`select count(*)::int as notes from notification where member_id = ?`, [m.id]);
    expect(notes).toBe(1);
  });

  it('refunds once when a redemption is cancelled 5 times at once', async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { type: 'PHYSICAL', pointsPrice: 300, stock: 5 });
    const r = await redeem(api, m.token, { itemId: item.id, shippingAddress: { line1: '杭州市西湖区' } });
    const id = r.data.redeem.redemption.id;
    const CANCEL = `mutation($id: ID!) { cancelRedemption(id: $id, reason: "重复点击") { status } }`;
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => api.gql(CANCEL, { id }, tokens.admin())),
      ...Array.from({ length: 2 }, () => api.gql(CANCEL, { id }, m.token)),
    ]);
    expect(results.map((x) => x.errors ?? x.data.cancelRedemption.status)).toEqual(Array(5).fill('CANCELLED'));
    expect(await balance(api, m.id)).toBe(1000);
    expect((await itemById(api, item.id)).stock).toBe(5);
    const [{ refunds }] = await sql(`select count(*)::int as refunds from ledger_entry where member_id = ? and type = 'REFUND'`, [m.id]);
    expect(refunds).toBe(1);
  });

  it('keeps stock exact when restocks and redemptions interleave', async () => {
    const members = await Promise.all(Array.from({ length: 12 }, () => memberWith(api, 100)));
    const item = await createItem(api, { pointsPrice: 100, stock: 4 });
    const RESTOCK = `mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 2) { stock } }`;
    const [redeems, restocks] = await Promise.all([
      Promise.all(members.map((m) => redeem(api, m.token, { itemId: item.id }))),
      Promise.all(Array.from({ length: 3 }, () => api.gql(RESTOCK, { id: item.id }, tokens.admin()))),
    ]);
    expect(restocks.every((r) => !r.errors)).toBe(true);
    const codes = codesOf(redeems);
    expect(codes.OK).toBeGreaterThanOrEqual(4);
    expect(codes.OK + (codes.OUT_OF_STOCK ?? 0)).toBe(12);
    expect((await itemById(api, item.id)).stock).toBe(4 + 6 - codes.OK);
    expect(await redemptionsOf(item.id)).toHaveLength(codes.OK);
  });
});
