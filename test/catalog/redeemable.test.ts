import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app';
import { adjust, balanceOf } from '../support/ledger';
import { tokens } from '../support/tokens';
import { availableToMember, isRedeemable } from '../../src/catalog/catalog.rules';
import { AVAILABLE_TO_MEMBER_SQL, REDEEMABLE_SQL, redeemableParams } from '../../src/catalog/catalog.sql';
import { DAY, createItem, fund, memberWith, newCategory, redeemOk, updateItemRaw } from './support';
import { createMember } from '../support/factories';
import { MemberStatus } from '../../src/members';

/**
 * One definition of "redeemable" (house rules, issue 16): isRedeemable (catalog.rules.ts) decides
 * CatalogItem.redeemable, REDEEMABLE_SQL decides catalog(filter: {redeemableOnly}). Each row is
 * set up through the API on a real database, then decided four ways that must all agree with the
 * row: the rule on the row's values, the SQL on the database's rows, and both through the API
 * (the field and the filter).
 */

interface Row {
  name: string;
  item?: { active?: boolean; stock?: number; pointsPrice?: number; perMemberLimit?: number | null; fromMs?: number | null; untilMs?: number | null };
  /** The member's spendable balance when asked. */
  balance: number;
  /** Points in a lot already past its date (the expiry job has not posted it): in Member.balance's cache, not spendable. */
  expired?: number;
  frozen?: boolean;
  /** Units redeemed before, each redemption `[quantity, cancelled]`. */
  used?: [number, boolean][];
  expected: boolean;
}

const PRICE = 100;
const ROWS: Row[] = [
  { name: 'active, in stock, balance exactly the price', balance: 100, expected: true },
  { name: 'one point short', balance: 99, expected: false },
  { name: 'inactive', item: { active: false }, balance: 500, expected: false },
  { name: 'out of stock', item: { stock: 0 }, balance: 500, expected: false },
  { name: 'one left', item: { stock: 1 }, balance: 500, expected: true },
  { name: 'window opens now (from is inclusive)', item: { fromMs: 0 }, balance: 500, expected: true },
  { name: 'window opens in a moment', item: { fromMs: 1 }, balance: 500, expected: false },
  { name: 'window closes now (until is exclusive)', item: { untilMs: 0 }, balance: 500, expected: false },
  { name: 'window closes in a moment', item: { fromMs: -DAY, untilMs: 1 }, balance: 500, expected: true },
  { name: 'under the per-member limit', item: { perMemberLimit: 2 }, used: [[1, false]], balance: 500, expected: true },
  {
    name: 'at the per-member limit',
    item: { perMemberLimit: 2 },
    used: [
      [1, false],
      [1, false],
    ],
    balance: 500,
    expected: false,
  },
  { name: 'one unit redeemed with quantity at the limit', item: { perMemberLimit: 3 }, used: [[3, false]], balance: 500, expected: false },
  {
    name: 'a cancelled redemption does not count',
    item: { perMemberLimit: 2 },
    used: [
      [1, false],
      [1, true],
    ],
    balance: 500,
    expected: true,
  },
  { name: 'frozen member', balance: 500, frozen: true, expected: false },
  { name: 'expired points are not spendable', balance: 90, expired: 60, expected: false },
  { name: 'enough left beside expired points', balance: 100, expired: 60, expected: true },
  { name: 'cash-only item with no points', item: { pointsPrice: 0 }, balance: 0, expected: true },
];

const CATALOG = `query($filter: CatalogFilter) { catalog(filter: $filter, first: 50) { edges { node { id redeemable } } } }`;
const ITEM = `query($id: ID!) { catalogItem(id: $id) { id redeemable } }`;

describe('redeemable: the rule and the SQL agree', () => {
  let api: TestApp;
  let db: pg.Client;
  beforeAll(async () => {
    api = await startApp();
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
  });

  it.each(ROWS)('$name → $expected', async (row) => {
    const category = newCategory('可兑');
    const pointsPrice = row.item?.pointsPrice ?? PRICE;
    const perMemberLimit = row.item?.perMemberLimit ?? null;
    const base = { category, name: row.name.slice(0, 100), pointsPrice, ...(pointsPrice === 0 ? { cashPrice: '9.90' } : {}) };
    const item = await createItem(api, { ...base, stock: 100, perMemberLimit });
    const member = row.used ? await memberWith(api, PRICE * 10) : await createMember(api);

    // Earlier redemptions, while the item is still on sale.
    for (const [quantity, cancelled] of row.used ?? []) {
      const { redemption } = await redeemOk(api, member.token, { itemId: item.id, quantity });
      if (cancelled) await api.ok(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "test") { id } }`, { id: redemption.id }, tokens.admin());
    }
    // The spendable balance the row asks for, then points that expire before the question.
    const delta = row.balance - (await balanceOf(api, member.id));
    if (delta !== 0) expect((await adjust(api, member.id, delta)).errors).toBeUndefined();
    if (row.expired) {
      await fund(api, member.id, row.expired, 1);
      api.clock.advance(2 * DAY);
    }
    if (row.frozen) await api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "test") { id } }`, { id: member.id }, tokens.admin());

    // The item as the row describes it, its window relative to the moment of the question.
    const now = api.clock.now();
    const at = (ms: number | null | undefined) => (ms == null ? null : new Date(now.getTime() + ms));
    const state = {
      active: row.item?.active ?? true,
      stock: row.item?.stock ?? 10,
      pointsPrice,
      perMemberLimit,
      availableFrom: at(row.item?.fromMs),
      availableUntil: at(row.item?.untilMs),
    };
    const updated = await updateItemRaw(api, item.id, {
      sku: item.sku,
      type: item.type,
      ...base,
      ...state,
      availableFrom: state.availableFrom?.toISOString() ?? null,
      availableUntil: state.availableUntil?.toISOString() ?? null,
    });
    expect(updated.errors, JSON.stringify(updated.errors)).toBeUndefined();

    // 1. The rule, on the row's own values.
    const used = (row.used ?? []).filter(([, cancelled]) => !cancelled).reduce((sum, [quantity]) => sum + quantity, 0);
    const rule = isRedeemable(state, { status: row.frozen ? MemberStatus.FROZEN : MemberStatus.ACTIVE, balance: row.balance }, used, now);
    // 2. The SQL, on the database's rows (as a WHERE reads it: unknown, e.g. no active member, is not true).
    const { rows } = await db.query(
      `select coalesce((${AVAILABLE_TO_MEMBER_SQL}), false) as available, coalesce((${REDEEMABLE_SQL}), false) as redeemable
       from catalog_item ci where ci.id = $1`.replace(/\?/g, (_, offset: number, text: string) => `$${text.slice(0, offset).split('?').length + 1}`),
      [item.id, now, now, member.id, ...redeemableParams(now, member.id)],
    );
    expect({ rule, sql: rows[0].redeemable }).toEqual({ rule: row.expected, sql: row.expected });
    expect(rows[0].available).toBe(availableToMember(state, used, now));

    // 3 and 4. Through the API: the field (the resolver, with loaders) and the filter (the service's SQL).
    if (!row.frozen) {
      const field = (await api.ok(ITEM, { id: item.id }, member.token)).catalogItem?.redeemable ?? false;
      const listed = (await api.ok(CATALOG, { filter: { category, redeemableOnly: true } }, member.token)).catalog.edges.map((e: any) => e.node.id);
      expect({ field, listed: listed.includes(item.id) }).toEqual({ field: row.expected, listed: row.expected });
    }
  });
});
