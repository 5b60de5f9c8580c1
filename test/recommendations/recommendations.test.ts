import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { ITEM_FIELDS, countQueries, createItem, fund, memberWith, newCategory, redeemOk, updateItemRaw, itemInput } from '../catalog/support';

const RECS = `query($first: Int) { recommendations(first: $first) { score reasonCode reason item { id name category pointsPrice stock } } }`;

interface Rec {
  score: number;
  reasonCode: string;
  reason: string;
  item: { id: string; name: string; category: string; pointsPrice: number; stock: number };
}

describe('recommendations', async () => {
  const api = await startApp();
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => api.app.orm.em.fork().execute<T[]>(query, params);
  const recs = async (token: string, first = 5): Promise<Rec[]> => (await api.ok(RECS, { first }, token)).recommendations;
  const cachedList = async (memberId: string) => api.app.redis.command.exists(`recs:member:${memberId}`);
  /** Co-redemption counts are written in the redemption's own transaction: every redemption is counted once. */
  const recorded = async (redemptions: number) => {
    expect((await sql<{ n: number }>('select coalesce(sum(redemptions), 0)::int as n from rec_item_daily'))[0].n).toBe(redemptions);
  };
  let redemptions = 0;
  const redeemAs = async (token: string, itemId: string) => {
    redemptions++;
    return redeemOk(api, token, { itemId });
  };

  const popular: { id: string }[] = [];

  it('gives a member with no history the most redeemed items of the week, saying so in Chinese', async () => {
    for (let i = 0; i < 4; i++) popular.push(await createItem(api, { name: `热门${i}`, category: newCategory('热门'), pointsPrice: 100, stock: 100 }));
    // Item i is redeemed by 3 - i members.
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3 - i; k++) await redeemAs((await memberWith(api, 500)).token, popular[i].id);
    }
    await recorded(redemptions);
    const member = await memberWith(api, 1000);
    const list = await recs(member.token);
    expect(list.slice(0, 3).map((r) => r.item.id)).toEqual([popular[0].id, popular[1].id, popular[2].id]);
    expect(list[0]).toMatchObject({ reasonCode: 'POPULAR', reason: '近7天热门兑换' });
    expect(list[0].score).toBeGreaterThan(list[1].score);
    // The same data gives the same list.
    expect(await recs(member.token)).toEqual(list);
  });

  const coffee = newCategory('咖啡');
  const coffeeItems: { id: string; name: string }[] = [];

  it('puts coffee-like items first for a member who redeemed coffee, with the item that explains them', async () => {
    for (const name of ['拿铁', '美式', '摩卡', '澳白']) {
      coffeeItems.push(await createItem(api, { name, category: coffee, tags: ['咖啡', '热饮'], pointsPrice: 120, stock: 100 }));
    }
    await createItem(api, { name: '蓝牙耳机', category: newCategory('数码'), tags: ['耳机'], pointsPrice: 120, stock: 100 });
    // Another member redeemed 拿铁 then 摩卡: members who redeemed 拿铁 also redeemed 摩卡.
    const other = await memberWith(api, 1000);
    await redeemAs(other.token, coffeeItems[0].id);
    await redeemAs(other.token, coffeeItems[2].id);
    const member = await memberWith(api, 1000);
    await redeemAs(member.token, coffeeItems[0].id);
    await redeemAs(member.token, coffeeItems[1].id);
    await recorded(redemptions);

    const list = await recs(member.token);
    expect(list[0].item.category).toBe(coffee);
    expect(list[1].item.category).toBe(coffee);
    expect(list[0]).toMatchObject({ item: { name: '摩卡' }, reasonCode: 'POPULAR_WITH_SIMILAR_MEMBERS', reason: '兑换过「拿铁」的会员也兑换了它' });
    expect(list[1]).toMatchObject({ item: { name: '澳白' }, reasonCode: 'SIMILAR_TO_HISTORY' });
    expect(list[1].reason).toMatch(/^与您兑换过的「(拿铁|美式)」相似$/);
    // The popular items of the week come after what the member likes.
    expect(list.slice(0, 2).map((r) => r.item.id)).not.toContain(popular[0].id);
  });

  it('never leads with an item the balance does not cover, and never offers one out of stock', async () => {
    const tea = newCategory('茶饮');
    // Once per member: the member cannot have it again, so nothing similar is affordable.
    const first = await createItem(api, { name: '乌龙茶', category: tea, tags: ['茶', '冷饮'], pointsPrice: 50, stock: 100, perMemberLimit: 1 });
    const soon = await createItem(api, { name: '茶礼盒', category: tea, tags: ['茶', '冷饮'], pointsPrice: 140, stock: 100 });
    const soldOut = await createItem(api, { name: '抹茶拿铁', category: tea, tags: ['茶', '冷饮'], pointsPrice: 90, stock: 1 });
    await redeemAs((await memberWith(api, 100)).token, soldOut.id);
    const member = await memberWith(api, 150);
    await redeemAs(member.token, first.id);
    await recorded(redemptions);

    const list = await recs(member.token, 20);
    const ids = list.map((r) => r.item.id);
    expect(ids).not.toContain(soldOut.id);
    // 茶礼盒 (140 of 100 points) is the most similar item, offered as "soon", but not first.
    expect(ids).toContain(soon.id);
    expect(ids[0]).not.toBe(soon.id);
    expect(list[0].item.pointsPrice).toBeLessThanOrEqual(100);
    expect(list.every((r) => r.item.pointsPrice <= 150 && r.item.stock > 0)).toBe(true);
    const soonRec = list.find((r) => r.item.id === soon.id)!;
    expect(soonRec.score).toBeGreaterThan(list[0].score);

    // A balance change that moves affordability drops the cached list: now it leads.
    await fund(api, member.id, 100);
    expect(await cachedList(member.id)).toBe(0);
    expect((await recs(member.token, 20))[0].item.id).toBe(soon.id);
    await expectReconciled(api);
  });

  it('nudges towards items that use the points expiring within 30 days, with its reason code', async () => {
    const item = await createItem(api, { name: '电影票', category: newCategory('娱乐'), pointsPrice: 250, stock: 10 });
    const member = await memberWith(api, 300, 10);
    const list = await recs(member.token, 20);
    const nudged = list.find((r) => r.item.id === item.id);
    expect(nudged).toMatchObject({ reasonCode: 'USES_EXPIRING_POINTS', reason: '可用掉您10天内将过期的300积分' });
    // Without expiring points the same item has no such reason.
    const steady = await memberWith(api, 300);
    expect((await recs(steady.token, 20)).some((r) => r.reasonCode === 'USES_EXPIRING_POINTS')).toBe(false);
    await sql(`update member set language = 'en' where id = ?`, [member.id]);
    await api.app.services.recommendations.memberChanged(member.id);
    expect((await recs(member.token, 20)).find((r) => r.item.id === item.id)?.reason).toBe('Uses your 300 points that expire in 10 days');
  });

  it('serves a repeat from the cache, and drops it on the member redeeming, a stock-out and a catalog edit', async () => {
    const member = await memberWith(api, 1000);
    await redeemAs(member.token, coffeeItems[3].id);
    await recorded(redemptions);
    const { result: before, queries: computed } = await countQueries(api, () => recs(member.token));
    const { result: again, queries } = await countQueries(api, () => recs(member.token));
    expect(again).toEqual(before);
    // A hit is one query: it re-checks the member and the listed items and returns the items' rows.
    expect(queries).toHaveLength(1);
    // A fresh list is at least two: the member with history and neighbours, then the candidates' live check.
    expect(computed.length).toBeGreaterThanOrEqual(2);

    // The member redeems: the list goes at once and the new history shows.
    const limited = await createItem(api, { name: '限量咖啡杯', category: coffee, tags: ['咖啡', '热饮'], pointsPrice: 120, stock: 1, perMemberLimit: 1 });
    expect((await recs(member.token)).map((r) => r.item.id)).toContain(limited.id);
    // Someone else takes the last one: out of stock, out of the list.
    await redeemAs((await memberWith(api, 500)).token, limited.id);
    expect((await recs(member.token)).map((r) => r.item.id)).not.toContain(limited.id);

    const cup = await createItem(api, { name: '咖啡豆', category: coffee, tags: ['咖啡', '热饮'], pointsPrice: 120, stock: 10 });
    expect((await recs(member.token)).map((r) => r.item.id)).toContain(cup.id);
    await redeemAs(member.token, cup.id);
    expect(await cachedList(member.id)).toBe(0);

    // A catalog edit that takes an item out of the coffee family changes the list everywhere.
    const res = await updateItemRaw(api, cup.id, itemInput({ sku: `EDIT-${cup.id.slice(0, 8)}`, name: '咖啡豆', category: newCategory('杂货'), tags: [], pointsPrice: 120, stock: 10 }));
    expect(res.errors).toBeUndefined();
    const version = await api.app.redis.command.get('recs:catalog-version');
    expect(Number(version)).toBeGreaterThan(0);
    const after = await recs(member.token);
    expect(after[0].item.category).toBe(coffee);
    await expectReconciled(api);
  });

  it('counts a co-redeemed pair exactly once when a member redeems two items at the same moment', async () => {
    const category = newCategory('并发');
    const [a, b] = [await createItem(api, { category, stock: 10 }), await createItem(api, { category, stock: 10 })];
    const member = await memberWith(api, 1000);
    redemptions += 2;
    await Promise.all([redeemOk(api, member.token, { itemId: a.id }), redeemOk(api, member.token, { itemId: b.id })]);
    await recorded(redemptions);
    const pairs = await sql<{ item_id: string; other_item_id: string; members: number }>(
      'select item_id, other_item_id, members from rec_co_redemption where item_id in (?, ?) or other_item_id in (?, ?)',
      [a.id, b.id, a.id, b.id],
    );
    expect(pairs.map((p) => [p.item_id, p.other_item_id, p.members]).sort()).toEqual(
      [
        [a.id, b.id, 1],
        [b.id, a.id, 1],
      ].sort(),
    );
    // A second redemption of a counted item adds to its week, not to its pairs or redeemers.
    await redeemAs(member.token, a.id);
    expect((await sql<{ members: number }>('select members from rec_item_redeemers where item_id = ?', [a.id]))[0].members).toBe(1);
    expect((await sql<{ members: number }>('select members from rec_co_redemption where item_id = ? and other_item_id = ?', [a.id, b.id]))[0].members).toBe(1);
    await recorded(redemptions);
    await expectReconciled(api);
  });

  it('shows each listed item exactly as the catalog does, computed and from the cache', async () => {
    // The items come from the recommendations' own statement, not the catalog's loader: every field must still match.
    const category = newCategory('礼品');
    const seen = await createItem(api, { name: '礼品卡', category, tags: ['礼品'], pointsPrice: 100, stock: 10 });
    const rich = await createItem(api, {
      name: '礼品套装',
      category,
      tags: ['礼品', '套装'],
      pointsPrice: 100,
      cashPrice: '12.50',
      stock: 7,
      perMemberLimit: 3,
      availableFrom: '2020-01-01T00:00:00.000Z',
      availableUntil: '2099-01-01T00:00:00.000Z',
      imageUrl: 'https://img.example/gift.png',
    });
    const member = await memberWith(api, 1000);
    await redeemAs(member.token, seen.id);
    const FULL = `{ recommendations(first: 5) { item { ${ITEM_FIELDS} } } }`;
    const computed = (await api.ok(FULL, {}, member.token)).recommendations as { item: { id: string } }[];
    expect(await cachedList(member.id)).toBe(1);
    const { result: cached, queries } = await countQueries(api, async () => (await api.ok(FULL, {}, member.token)).recommendations);
    expect(queries).toHaveLength(1);
    expect(cached).toEqual(computed);
    expect(computed.map((r) => r.item.id)).toContain(rich.id);
    for (const { item } of computed) {
      expect(item).toEqual((await api.ok(`query($id: ID!) { catalogItem(id: $id) { ${ITEM_FIELDS} } }`, { id: item.id }, member.token)).catalogItem);
    }
    // The nullable columns are filled here, so each conversion (decimal, dates) is compared.
    expect(computed.find((r) => r.item.id === rich.id)?.item).toMatchObject({ stock: 7, perMemberLimit: 3, availableUntil: '2099-01-01T00:00:00.000Z', imageUrl: 'https://img.example/gift.png' });
    expect(computed.find((r) => r.item.id === rich.id)?.item).not.toMatchObject({ cashPrice: null });
  });

  it('refuses a bad first and anyone but a member', async () => {
    const member = await memberWith(api, 100);
    const res = await api.gql(RECS, { first: 21 }, member.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(await recs(member.token, 0)).toEqual([]);
    expect(await api.code(RECS, { first: 5 }, tokens.admin())).toBe('FORBIDDEN');
  });
});
