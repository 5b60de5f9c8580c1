import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
  const redemptionsOf = async (itemId: string) =>
    (await sql(`select member_id, quantity, status from redemption where item_id = ?`, [itemId])) as { member_id: string; quantity: number; status: string }[];

  const ROUNDS = [1, 2, 3];
  const balancesOf = async (ids: string[]) => new Map(((await sql(`select id, balance from member where id in (?)`, [ids])) as { id: string; balance: number }[]).map((r) => [r.id, r.balance]));
  const entriesOf = async (memberId: string, type: string) => ((await sql(`select count(*)::int as n from ledger_entry where member_id = ? and type = ?`, [memberId, type])) as { n: number }[])[0].n;

  it.each(ROUNDS)('sells a stock of 10 to exactly 10 of 100 members redeeming at once (round %i)', async () => {
    const members = await Promise.all(Array.from({ length: 100 }, () => memberWith(api, 100)));
    const item = await createItem(api, { name: '限量周边', type: 'PHYSICAL', pointsPrice: 100, stock: 10 });
    const results = await Promise.all(members.map((m) => redeem(api, m.token, { itemId: item.id, shippingAddress: { line1: '上海市' } })));
    expect(codesOf(results)).toEqual({ OK: 10, OUT_OF_STOCK: 90 });
    expect(await itemById(api, item.id)).toMatchObject({ stock: 0, recentRedemptions: 10 });

    const winners = new Set(members.filter((_, i) => !results[i].errors).map((m) => m.id));
    expect(winners.size).toBe(10);
    const rows = await redemptionsOf(item.id);
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((r) => r.member_id))).toEqual(winners);
    const balances = await balancesOf(members.map((m) => m.id));
    for (const m of members) expect(balances.get(m.id), m.id).toBe(winners.has(m.id) ? 0 : 100);
    const entries = (await sql(`select member_id, count(*)::int as n from ledger_entry where type = 'REDEMPTION' and member_id in (?) group by member_id`, [members.map((m) => m.id)])) as {
      member_id: string;
      n: number;
    }[];
    expect(new Map(entries.map((e) => [e.member_id, e.n]))).toEqual(new Map([...winners].map((id) => [id, 1])));
  });

  describe('with the redemption rate limit raised to 100', () => {
    let limit: number;
    beforeAll(async () => {
      [{ redeem_limit_per_30min: limit }] = await sql(`select redeem_limit_per_30min from program_settings where id = 1`);
      await sql(`update program_settings set redeem_limit_per_30min = 100 where id = 1`);
    });
    afterAll(async () => {
      await sql(`update program_settings set redeem_limit_per_30min = ? where id = 1`, [limit]);
    });

    it.each(ROUNDS)('lets one member with points for 5 win exactly 5 of 20 concurrent redeems (round %i)', async () => {
      const m = await memberWith(api, 500);
      const item = await createItem(api, { pointsPrice: 100, stock: 100 });
      const results = await Promise.all(Array.from({ length: 20 }, () => redeem(api, m.token, { itemId: item.id })));
      expect(codesOf(results)).toEqual({ OK: 5, INSUFFICIENT_POINTS: 15 });
      expect(await balance(api, m.id)).toBe(0);
      expect(await itemById(api, item.id)).toMatchObject({ stock: 95, recentRedemptions: 5 });
      expect(await redemptionsOf(item.id)).toHaveLength(5);
      expect(await entriesOf(m.id, 'REDEMPTION')).toBe(5);
      const [{ n }] = await sql(`select count(*)::int as n from notification where member_id = ?`, [m.id]);
      expect(n).toBe(5);
    });
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

  it.each(ROUNDS)('makes one redemption of 20 concurrent redeems with the same key (round %i)', async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { type: 'COUPON', pointsPrice: 100, stock: 50, config: { value: '10.00', validDays: 30 } });
    const key = newKey();
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(api, m.token, { itemId: item.id, quantity: 2, idempotencyKey: key })));
    expect(codesOf(results)).toEqual({ OK: 20 });
    const ids = new Set(results.map((r) => r.data.redeem.redemption.id));
    expect(ids.size).toBe(1);
    const codes = new Set(results.flatMap((r) => r.data.redeem.redemption.coupons.map((c: any) => c.code)));
    expect(codes.size).toBe(2);
    expect(await redemptionsOf(item.id)).toHaveLength(1);
    expect(await balance(api, m.id)).toBe(800);
    expect((await itemById(api, item.id)).stock).toBe(48);
    expect(await entriesOf(m.id, 'REDEMPTION')).toBe(1);
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
    const results = await Promise.all([...Array.from({ length: 3 }, () => api.gql(CANCEL, { id }, tokens.admin())), ...Array.from({ length: 2 }, () => api.gql(CANCEL, { id }, m.token))]);
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
