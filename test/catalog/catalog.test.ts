import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { ADDRESS, DAY, ITEM_FIELDS, countQueries, createItem, createItemRaw, fund, itemById, itemInput, memberWith, newCategory, newSku, redeemOk, updateItemRaw } from './support';

const LIST = `query($filter: CatalogFilter, $first: Int, $after: String) {
  catalog(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${ITEM_FIELDS} recentRedemptions redeemable } }
  }
}`;

describe('catalog', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const at = (days: number) => new Date(api.clock.now().getTime() + days * DAY).toISOString();
  const list = async (filter: Record<string, unknown> | null, options: { first?: number; after?: string; token?: string } = {}) =>
    (await api.ok(LIST, { filter, first: options.first ?? 100, after: options.after }, options.token ?? tokens.admin())).catalog;
  const skus = (connection: any) => connection.edges.map((e: any) => e.node.sku);

  /** Every item a viewer can see, through all the pages. */
  async function everything(token: string, filter: Record<string, unknown> | null = null) {
    const nodes: any[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await list(filter, { first: 100, after, token });
      nodes.push(...page.edges.map((e: any) => e.node));
      if (!page.pageInfo.hasNextPage) return nodes;
      after = page.pageInfo.endCursor;
    }
  }

  describe('admin CRUD', () => {
    it('creates an item with every field and reads it back', async () => {
      const input = itemInput({
        name: '  小米手环 8  ',
        description: '运动健康,50 米防水',
        category: '数码',
        tags: ['热门', '新品', '热门'],
        type: 'PHYSICAL',
        pointsPrice: 4990,
        cashPrice: '29.90',
        stock: 50,
        perMemberLimit: 2,
        availableFrom: at(-1),
        availableUntil: at(30),
        imageUrl: 'https://img.example.com/band8.png',
      });
      const created = (await createItemRaw(api, input)).data.createCatalogItem;
      expect(created).toEqual({
        id: expect.any(String),
        sku: input.sku,
        name: '小米手环 8',
        description: '运动健康,50 米防水',
        category: '数码',
        tags: ['热门', '新品'],
        type: 'PHYSICAL',
        pointsPrice: 4990,
        cashPrice: '29.90',
        stock: 50,
        perMemberLimit: 2,
        availableFrom: at(-1),
        availableUntil: at(30),
        imageUrl: 'https://img.example.com/band8.png',
        active: true,
      });
      expect(await itemById(api, created.id)).toEqual({ ...created, recentRedemptions: 0, redeemable: false });
      // Defaults: description "", tags [], active true; an unknown or malformed id reads null.
      const bare = await createItem(api, { description: undefined, tags: undefined });
      expect(bare).toMatchObject({ description: '', tags: [], active: true, cashPrice: null, perMemberLimit: null, availableFrom: null, imageUrl: null });
      expect(await itemById(api, '00000000-0000-4000-8000-000000000000')).toBeNull();
      expect(await itemById(api, 'not-an-id')).toBeNull();
    });

    it('updates an item as a whole, restocks it, and names what it cannot find', async () => {
      const item = await createItem(api, { stock: 5 });
      const update = await updateItemRaw(api, item.id, itemInput({ sku: item.sku, name: '视频会员季卡', pointsPrice: 280, stock: 9, tags: ['影音'], active: false }));
      expect(update.errors).toBeUndefined();
      expect(update.data.updateCatalogItem).toMatchObject({ id: item.id, sku: item.sku, name: '视频会员季卡', pointsPrice: 280, stock: 9, tags: ['影音'], active: false });
      expect(await itemById(api, item.id)).toMatchObject({ name: '视频会员季卡', pointsPrice: 280, stock: 9, active: false });

      const restocked = await api.ok(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 6) { id stock name } }`, { id: item.id });
      expect(restocked.restockCatalogItem).toEqual({ id: item.id, stock: 15, name: '视频会员季卡' });
      expect((await itemById(api, item.id)).stock).toBe(15);

      for (const quantity of [0, -3]) {
        const res = await api.gql(`mutation($id: ID!, $q: Int!) { restockCatalogItem(id: $id, quantity: $q) { stock } }`, { id: item.id, q: quantity }, tokens.admin());
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'quantity' });
      }
      // Stock has the same ceiling as on create (100,000,000), not the int column's overflow.
      const big = await createItem(api, { stock: 99_999_990 });
      expect((await api.ok(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 10) { stock } }`, { id: big.id })).restockCatalogItem.stock).toBe(100_000_000);
      for (const quantity of [1, 100_000_000, 2_000_000_000]) {
        const res = await api.gql(`mutation($id: ID!, $q: Int!) { restockCatalogItem(id: $id, quantity: $q) { stock } }`, { id: big.id, q: quantity }, tokens.admin());
        expect(res.errors?.[0].extensions, JSON.stringify(res.errors)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'quantity' });
      }
      expect((await itemById(api, big.id)).stock).toBe(100_000_000);
      expect((await createItemRaw(api, itemInput({ stock: 100_000_001 }))).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stock' });

      const missing = '00000000-0000-4000-8000-000000000000';
      expect(await api.code(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 1) { stock } }`, { id: missing })).toBe('NOT_FOUND');
      expect(await api.code(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 1) { stock } }`, { id: 'nope' })).toBe('NOT_FOUND');
      expect((await updateItemRaw(api, missing, itemInput())).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect((await updateItemRaw(api, 'nope', itemInput())).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect((await itemById(api, item.id)).stock).toBe(15);
    });

    const invalid: [string, Record<string, unknown>, string][] = [
      ['an empty sku', { sku: '' }, 'sku'],
      ['a sku with spaces', { sku: 'A B' }, 'sku'],
      ['a blank name', { name: '   ' }, 'name'],
      ['a 101-character name', { name: '好'.repeat(101) }, 'name'],
      ['a 2001-character description', { description: 'x'.repeat(2001) }, 'description'],
      ['a blank category', { category: ' ' }, 'category'],
      ['an empty tag', { tags: ['ok', ''] }, 'tags'],
      ['a negative points price', { pointsPrice: -1 }, 'pointsPrice'],
      ['a free item (no points, no cash)', { pointsPrice: 0 }, 'pointsPrice'],
      ['a negative cash price', { cashPrice: '-0.01' }, 'cashPrice'],
      ['a cash price with 3 decimals', { cashPrice: '1.234' }, 'cashPrice'],
      ['negative stock', { stock: -1 }, 'stock'],
      ['a per-member limit of 0', { perMemberLimit: 0 }, 'perMemberLimit'],
      ['a window that ends before it starts', { availableFrom: '2026-05-02T00:00:00.000Z', availableUntil: '2026-05-01T00:00:00.000Z' }, 'availableUntil'],
      ['a window that ends when it starts', { availableFrom: '2026-05-01T00:00:00.000Z', availableUntil: '2026-05-01T00:00:00.000Z' }, 'availableUntil'],
      ['a non-http image url', { imageUrl: 'javascript:alert(1)' }, 'imageUrl'],
      ['a config that is not an object', { config: [1, 2] }, 'config'],
      ['a coupon without config', { type: 'COUPON' }, 'config.value'],
      ['a coupon worth 0', { type: 'COUPON', config: { value: '0', validDays: 30 } }, 'config.value'],
      ['a coupon worth a word', { type: 'COUPON', config: { value: 'twenty', validDays: 30 } }, 'config.value'],
      ['a coupon worth 3 decimals', { type: 'COUPON', config: { value: '9.999', validDays: 30 } }, 'config.value'],
      ['a coupon without validDays', { type: 'COUPON', config: { value: '20.00' } }, 'config.validDays'],
      ['a coupon valid 0 days', { type: 'COUPON', config: { value: '20.00', validDays: 0 } }, 'config.validDays'],
      ['a coupon valid 1.5 days', { type: 'COUPON', config: { value: '20.00', validDays: 1.5 } }, 'config.validDays'],
      ['a VIP item without config', { type: 'VIP' }, 'config.level'],
      ['a VIP item of level 0', { type: 'VIP', config: { level: 0, days: 30 } }, 'config.level'],
      ['a VIP item without days', { type: 'VIP', config: { level: 1 } }, 'config.days'],
      ['a VIP item of -30 days', { type: 'VIP', config: { level: 1, days: -30 } }, 'config.days'],
    ];

    it.each(invalid)('refuses %s, naming the field, on create and on update', async (_what, overrides, field) => {
      const created = await createItemRaw(api, itemInput(overrides));
      expect(created.data).toBeNull();
      expect(created.errors?.[0].extensions, JSON.stringify(created.errors)).toMatchObject({ code: 'BAD_USER_INPUT', field });

      const item = await createItem(api);
      const updated = await updateItemRaw(api, item.id, itemInput({ sku: item.sku, ...overrides }));
      expect(updated.errors?.[0].extensions, JSON.stringify(updated.errors)).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await itemById(api, item.id)).toMatchObject({ name: item.name, pointsPrice: item.pointsPrice, stock: item.stock, type: item.type });
    });

    it('accepts the type-specific configs the contract describes', async () => {
      const coupon = await createItemRaw(api, itemInput({ type: 'COUPON', config: { value: '20.00', validDays: 30 } }));
      expect(coupon.errors).toBeUndefined();
      const numeric = await createItemRaw(api, itemInput({ type: 'COUPON', config: { value: 5, validDays: 7 } }));
      expect(numeric.errors).toBeUndefined();
      const vip = await createItemRaw(api, itemInput({ type: 'VIP', config: { level: 1, days: 30 } }));
      expect(vip.errors).toBeUndefined();
      const cashOnly = await createItemRaw(api, itemInput({ pointsPrice: 0, cashPrice: '9.90' }));
      expect(cashOnly.errors).toBeUndefined();
      const zeroStock = await createItemRaw(api, itemInput({ stock: 0 }));
      expect(zeroStock.data.createCatalogItem.stock).toBe(0);
    });

    it('keeps SKUs unique: CONFLICT on create and on update', async () => {
      const sku = newSku('DUP');
      const first = await createItem(api, { sku });
      const again = await createItemRaw(api, itemInput({ sku }));
      expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'sku' });
      const padded = await createItemRaw(api, itemInput({ sku: `  ${sku} ` }));
      expect(padded.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'sku' });

      const other = await createItem(api);
      const taken = await updateItemRaw(api, other.id, itemInput({ sku, name: '改名' }));
      expect(taken.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'sku' });
      expect(await itemById(api, other.id)).toMatchObject({ sku: other.sku, name: other.name });
      // Keeping its own SKU is no conflict.
      const same = await updateItemRaw(api, first.id, itemInput({ sku, name: '同一 SKU' }));
      expect(same.errors).toBeUndefined();
      expect(same.data.updateCatalogItem).toMatchObject({ sku, name: '同一 SKU' });
    });

    it('lets only admins change the catalog', async () => {
      const item = await createItem(api);
      const member = await createMember(api);
      for (const token of [member.token, tokens.partner()]) {
        expect((await createItemRaw(api, itemInput(), token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
        expect((await updateItemRaw(api, item.id, itemInput({ sku: item.sku }), token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
        expect(await api.code(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 1) { stock } }`, { id: item.id }, token)).toBe('FORBIDDEN');
      }
      expect((await createItemRaw(api, itemInput(), null)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(await api.code(`{ catalog { totalCount } }`, {}, null)).toBe('UNAUTHENTICATED');
      expect(await api.code(`query($id: ID!) { catalogItem(id: $id) { id } }`, { id: item.id }, null)).toBe('UNAUTHENTICATED');
      expect(await itemById(api, item.id)).toMatchObject({ stock: item.stock, name: item.name });
      // Everyone signed in may browse.
      for (const token of [member.token, tokens.admin()]) {
        expect((await api.ok(`query($id: ID!) { catalogItem(id: $id) { id } }`, { id: item.id }, token)).catalogItem).toEqual({ id: item.id });
      }
    });
  });

  describe('browsing', () => {
    const category = newCategory('浏览');
    let items: Record<string, any> = {};

    beforeAll(async () => {
      const specs: Record<string, Record<string, unknown>> = {
        band: { name: '小米手环 8', type: 'PHYSICAL', pointsPrice: 4990, tags: ['运动', '热门'], description: '心率血氧监测' },
        mug: { name: '星巴克马克杯', type: 'PHYSICAL', pointsPrice: 1200, tags: ['家居'] },
        coupon20: { name: '满100减20 优惠券', type: 'COUPON', pointsPrice: 300, config: { value: '20.00', validDays: 30 }, tags: ['优惠'] },
        coupon50: { name: '满200减50 优惠券', type: 'COUPON', pointsPrice: 800, config: { value: '50.00', validDays: 30 }, tags: ['优惠', '热门'] },
        vip: { name: 'VIP 月卡', type: 'VIP', pointsPrice: 1500, config: { level: 1, days: 30 } },
        video: { name: '视频会员月卡', type: 'VIRTUAL', pointsPrice: 1200, tags: ['影音'] },
        percent: { name: '50% off 咖啡', type: 'VIRTUAL', pointsPrice: 90, description: '_underscore_' },
      };
      items = {};
      for (const [key, spec] of Object.entries(specs)) items[key] = await createItem(api, { category, stock: 20, ...spec });
    });

    it('filters by category, type and points range, each with its totalCount', async () => {
      const all = await list({ category });
      expect(all.totalCount).toBe(7);
      // Cheapest first, ties broken by id.
      const byPrice = Object.values(items).sort((a, b) => a.pointsPrice - b.pointsPrice || (a.id < b.id ? -1 : 1));
      expect(skus(all)).toEqual(byPrice.map((i) => i.sku));

      const physical = await list({ category, type: 'PHYSICAL' });
      expect(new Set(skus(physical))).toEqual(new Set([items.band.sku, items.mug.sku]));
      expect(physical.totalCount).toBe(2);
      const coupons = await list({ category, type: 'COUPON' });
      expect(skus(coupons)).toEqual([items.coupon20.sku, items.coupon50.sku]);
      expect((await list({ category, type: 'VIP' })).totalCount).toBe(1);

      const mid = await list({ category, minPoints: 800, maxPoints: 1500 });
      expect(mid.totalCount).toBe(4);
      expect(mid.edges.every((e: any) => e.node.pointsPrice >= 800 && e.node.pointsPrice <= 1500)).toBe(true);
      expect((await list({ category, minPoints: 1500 })).totalCount).toBe(2);
      expect((await list({ category, maxPoints: 300 })).totalCount).toBe(2);
      expect((await list({ category, minPoints: 5000 })).totalCount).toBe(0);
      expect((await list({ category: `${category}-none` })).edges).toEqual([]);
    });

    it('applies each filter alone over the whole catalog', async () => {
      const every = await everything(tokens.admin());
      expect((await list(null, { first: 1 })).totalCount).toBe(every.length);
      const cases: [Record<string, unknown>, (i: any) => boolean][] = [
        [{ category }, (i) => i.category === category],
        [{ type: 'COUPON' }, (i) => i.type === 'COUPON'],
        [{ type: 'VIP' }, (i) => i.type === 'VIP'],
        [{ minPoints: 1000 }, (i) => i.pointsPrice >= 1000],
        [{ maxPoints: 500 }, (i) => i.pointsPrice <= 500],
      ];
      for (const [filter, predicate] of cases) {
        const found = await everything(tokens.admin(), filter);
        expect(
          found.map((i) => i.id),
          JSON.stringify(filter),
        ).toEqual(every.filter(predicate).map((i) => i.id));
        expect((await list(filter, { first: 1 })).totalCount).toBe(found.length);
      }
    });

    it('searches names, descriptions and tags', async () => {
      expect(skus(await list({ category, search: '优惠券' }))).toEqual([items.coupon20.sku, items.coupon50.sku]);
      expect(skus(await list({ category, search: '手环' }))).toEqual([items.band.sku]);
      expect(skus(await list({ category, search: '  星巴克  ' }))).toEqual([items.mug.sku]);
      expect(skus(await list({ category, search: 'vip' }))).toEqual([items.vip.sku]);
      expect(skus(await list({ category, search: '血氧' }))).toEqual([items.band.sku]);
      // A tag matches as a whole.
      const hot = await list({ category, search: '热门' });
      expect(new Set(skus(hot))).toEqual(new Set([items.band.sku, items.coupon50.sku]));
      expect(hot.totalCount).toBe(2);
      expect(skus(await list({ category, search: '影音' }))).toEqual([items.video.sku]);
      // LIKE wildcards are text, not patterns.
      expect(skus(await list({ category, search: '50%' }))).toEqual([items.percent.sku]);
      expect(skus(await list({ category, search: '%' }))).toEqual([items.percent.sku]);
      expect(skus(await list({ category, search: '_' }))).toEqual([items.percent.sku]);
      expect((await list({ category, search: '不存在的商品' })).totalCount).toBe(0);
      // Combined with other filters.
      expect(skus(await list({ category, search: '热门', type: 'PHYSICAL' }))).toEqual([items.band.sku]);
      expect(skus(await list({ category, search: '优惠', maxPoints: 500 }))).toEqual([items.coupon20.sku]);
    });

    it('pages through cursors with a stable order and the same totalCount', async () => {
      const all = await list({ category });
      const seen: string[] = [];
      let after: string | undefined;
      const pages: number[] = [];
      for (;;) {
        const page = await list({ category }, { first: 3, after });
        expect(page.totalCount).toBe(7);
        pages.push(page.edges.length);
        seen.push(...skus(page));
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(pages).toEqual([3, 3, 1]);
      expect(seen).toEqual(skus(all));

      // Equal prices (mug and video cost 1200) do not lose or repeat an item across pages.
      const at1200 = await list({ category, minPoints: 1200, maxPoints: 1200 }, { first: 1 });
      const next = await list({ category, minPoints: 1200, maxPoints: 1200 }, { first: 1, after: at1200.pageInfo.endCursor });
      expect(new Set([...skus(at1200), ...skus(next)])).toEqual(new Set([items.mug.sku, items.video.sku]));
      expect(next.pageInfo.hasNextPage).toBe(false);

      const empty = await list({ category }, { first: 0 });
      expect(empty).toMatchObject({ totalCount: 7, edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
      const last = await list({ category }, { first: 3, after: all.pageInfo.endCursor });
      expect(last).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });

      for (const bad of ['garbage', Buffer.from('[1]').toString('base64url'), Buffer.from('["x","y"]').toString('base64url')]) {
        const res = await api.gql(LIST, { filter: { category }, first: 3, after: bad }, tokens.admin());
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
      const negative = await api.gql(LIST, { filter: { category }, first: -1 }, tokens.admin());
      expect(negative.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      // first is capped at 100.
      expect((await list(null, { first: 1000 })).edges.length).toBeLessThanOrEqual(100);
    });

    it('does not show inactive items to members', async () => {
      const hidden = await createItem(api, { category, name: '下架商品', active: false, pointsPrice: 10 });
      const member = await memberWith(api, 10_000);
      const forMember = await list({ category }, { token: member.token });
      expect(skus(forMember)).not.toContain(hidden.sku);
      expect(forMember.totalCount).toBe(7);
      expect((await list({ category, search: '下架' }, { token: member.token })).totalCount).toBe(0);
      expect((await api.ok(`query($id: ID!) { catalogItem(id: $id) { id } }`, { id: hidden.id }, member.token)).catalogItem).toBeNull();
      expect(await everything(member.token)).not.toContainEqual(expect.objectContaining({ active: false }));

      const forAdmin = await list({ category });
      expect(skus(forAdmin)).toContain(hidden.sku);
      expect(forAdmin.totalCount).toBe(8);
      expect(await itemById(api, hidden.id)).toMatchObject({ active: false, redeemable: false });

      // Reactivated, members see it again.
      await updateItemRaw(api, hidden.id, itemInput({ sku: hidden.sku, category, name: '下架商品', pointsPrice: 10, active: true }));
      expect(skus(await list({ category }, { token: member.token }))).toContain(hidden.sku);
      await updateItemRaw(api, hidden.id, itemInput({ sku: hidden.sku, category, name: '下架商品', pointsPrice: 10, active: false }));
    });
  });

  describe('redeemable and redeemableOnly', () => {
    it('excludes what the member cannot afford, what is out of stock, outside its window, over its limit, and everything once frozen', async () => {
      const category = newCategory('可兑');
      const member = await memberWith(api, 1000);
      const make = (name: string, overrides: Record<string, unknown>) => createItem(api, { category, name, pointsPrice: 100, stock: 5, ...overrides });
      const fine = await make('可兑换', {});
      const exact = await make('刚好够', { pointsPrice: 800 });
      const pricey = await make('太贵', { pointsPrice: 801 });
      const soldOut = await make('售罄', { stock: 0 });
      const notYet = await make('未开始', { availableFrom: at(1) });
      const started = await make('刚开始', { availableFrom: at(0) });
      const ended = await make('已结束', { availableUntil: at(0) });
      const ending = await make('即将结束', { availableFrom: at(-10), availableUntil: at(1) });
      const inactive = await make('已下架', { active: false });
      const limitReached = await make('限兑一次', { perMemberLimit: 1 });
      const limitLeft = await make('限兑两次', { perMemberLimit: 2 });
      await redeemOk(api, member.token, { itemId: limitReached.id });
      await redeemOk(api, member.token, { itemId: limitLeft.id });
      // Balance now 800.

      const expected = [fine, limitLeft, exact, started, ending].map((i) => i.sku).sort();
      const only = await list({ category, redeemableOnly: true }, { token: member.token });
      expect(skus(only).sort()).toEqual(expected);
      expect(only.totalCount).toBe(expected.length);
      expect(only.edges.every((e: any) => e.node.redeemable)).toBe(true);

      // The field agrees with the filter, item by item.
      const shown = await list({ category }, { token: member.token });
      const redeemable = Object.fromEntries(shown.edges.map((e: any) => [e.node.sku, e.node.redeemable]));
      expect(redeemable).toEqual({
        [fine.sku]: true,
        [exact.sku]: true,
        [pricey.sku]: false,
        [soldOut.sku]: false,
        [notYet.sku]: false,
        [started.sku]: true,
        [ended.sku]: false,
        [ending.sku]: true,
        [limitReached.sku]: false,
        [limitLeft.sku]: true,
      });
      expect(redeemable).not.toHaveProperty(inactive.sku);
      // Pagination of the filtered list.
      const page1 = await list({ category, redeemableOnly: true }, { token: member.token, first: 2 });
      const page2 = await list({ category, redeemableOnly: true }, { token: member.token, first: 10, after: page1.pageInfo.endCursor });
      expect([...skus(page1), ...skus(page2)]).toEqual(skus(only));
      expect(page2.totalCount).toBe(expected.length);

      // The clock moves: the window opens for one item and closes for another.
      api.clock.advanceDays(2);
      const later = await list({ category, redeemableOnly: true }, { token: member.token });
      expect(skus(later).sort()).toEqual([fine, limitLeft, exact, started, notYet].map((i) => i.sku).sort());

      // Restocked, the sold-out item is redeemable again.
      await api.ok(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 1) { stock } }`, { id: soldOut.id });
      expect((await itemById(api, soldOut.id, member.token)).redeemable).toBe(true);

      // Admins and partners are not members: nothing is redeemable for them.
      expect((await list({ category, redeemableOnly: true })).totalCount).toBe(0);
      expect((await list({ category, redeemableOnly: true }, { token: tokens.admin() })).edges).toEqual([]);
      expect((await list({ category })).edges.every((e: any) => e.node.redeemable === false)).toBe(true);

      // Frozen: nothing.
      await api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "风控") { status } }`, { id: member.id });
      const frozen = await list({ category, redeemableOnly: true }, { token: member.token });
      expect(frozen).toMatchObject({ totalCount: 0, edges: [] });
      expect((await list({ category }, { token: member.token })).edges.some((e: any) => e.node.redeemable)).toBe(false);
      await api.ok(`mutation($id: ID!) { unfreezeMember(memberId: $id) { status } }`, { id: member.id });
      expect((await list({ category, redeemableOnly: true }, { token: member.token })).totalCount).toBe(expected.length + 1);
    });

    it('counts only spendable points: a lot whose time has passed does not make an item redeemable', async () => {
      const category = newCategory('过期');
      const member = await createMember(api);
      await fund(api, member.id, 500, 3);
      const item = await createItem(api, { category, pointsPrice: 400 });
      expect((await itemById(api, item.id, member.token)).redeemable).toBe(true);
      expect((await list({ category, redeemableOnly: true }, { token: member.token })).totalCount).toBe(1);

      api.clock.advanceDays(4);
      // No expiry job has run: the member's cached balance still holds the lot.
      const me = await api.ok(`{ me { balance } }`, {}, member.token);
      expect(me.me.balance).toBe(0);
      expect((await itemById(api, item.id, member.token)).redeemable).toBe(false);
      expect((await list({ category, redeemableOnly: true }, { token: member.token })).totalCount).toBe(0);
    });

    it('counts recent redemptions over 7 days, without cancelled ones', async () => {
      const item = await createItem(api, { type: 'PHYSICAL', stock: 20 });
      const a = await memberWith(api, 1000);
      const b = await memberWith(api, 1000);
      const first = await redeemOk(api, a.token, { itemId: item.id, shippingAddress: ADDRESS });
      api.clock.advanceDays(3);
      await redeemOk(api, b.token, { itemId: item.id, quantity: 3, shippingAddress: ADDRESS });
      const cancelled = await redeemOk(api, b.token, { itemId: item.id, shippingAddress: ADDRESS });
      await api.ok(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "测试") { status } }`, { id: cancelled.redemption.id });
      expect(await itemById(api, item.id)).toMatchObject({ recentRedemptions: 2, stock: 16 });
      api.clock.advanceDays(4);
      // The first one is now 7 days old: outside the window.
      expect(first.redemption.createdAt).toBe(new Date(api.clock.now().getTime() - 7 * DAY).toISOString());
      expect((await itemById(api, item.id)).recentRedemptions).toBe(1);
    });
  });

  describe('bounded queries', () => {
    it('costs the same number of SQL statements for a page of 100 items as for 10', async () => {
      const category = newCategory('批量');
      const member = await memberWith(api, 100_000);
      const created: any[] = [];
      for (let start = 0; start < 100; start += 10) {
        created.push(
          ...(await Promise.all(
            Array.from({ length: 10 }, (_, k) => {
              const n = start + k;
              return createItem(api, {
                category,
                name: `批量商品 ${n}`,
                pointsPrice: 10 + n,
                stock: 50,
                perMemberLimit: n % 3 === 0 ? 2 : null,
                availableUntil: n % 7 === 0 ? at(-1) : null,
              });
            }),
          )),
        );
      }
      // Some redemptions, so the loaders have something to count.
      for (const item of created.filter((_, n) => n % 3 === 0 && n % 7 !== 0).slice(0, 4)) await redeemOk(api, member.token, { itemId: item.id });

      const query = `query($filter: CatalogFilter, $first: Int) { catalog(filter: $filter, first: $first) { totalCount edges { node { id stock recentRedemptions redeemable } } } }`;
      const measure = async (first: number, token: string, filter: Record<string, unknown> = { category }) => {
        const { result, queries } = await countQueries(api, () => api.ok(query, { filter, first }, token));
        expect(result.catalog.edges).toHaveLength(Math.min(first, result.catalog.totalCount));
        return { count: queries.length, queries, result };
      };

      const asMember10 = await measure(10, member.token);
      const asMember100 = await measure(100, member.token);
      expect(asMember100.result.catalog.edges).toHaveLength(100);
      expect(asMember100.result.catalog.edges.filter((e: any) => e.node.recentRedemptions === 1)).toHaveLength(4);
      expect(asMember100.result.catalog.edges.some((e: any) => e.node.redeemable)).toBe(true);
      expect(asMember100.result.catalog.edges.some((e: any) => !e.node.redeemable)).toBe(true);
      console.info(`catalog queries as a member: ${asMember10.count} for 10 items, ${asMember100.count} for 100 items\n  ${asMember100.queries.join('\n  ')}`);
      expect(asMember100.count).toBe(asMember10.count);
      expect(asMember100.count).toBeLessThanOrEqual(6);

      const asAdmin10 = await measure(10, tokens.admin());
      const asAdmin100 = await measure(100, tokens.admin());
      console.info(`catalog queries as an admin: ${asAdmin10.count} for 10 items, ${asAdmin100.count} for 100 items`);
      expect(asAdmin100.count).toBe(asAdmin10.count);
      expect(asAdmin100.count).toBeLessThanOrEqual(4);

      const only10 = await measure(10, member.token, { category, redeemableOnly: true });
      const only100 = await measure(100, member.token, { category, redeemableOnly: true });
      console.info(`catalog(redeemableOnly) queries as a member: ${only10.count} for 10 items, ${only100.count} for ${only100.result.catalog.edges.length} items`);
      expect(only100.result.catalog.edges.length).toBeGreaterThan(50);
      expect(only100.count).toBe(only10.count);
      expect(only100.result.catalog.edges.every((e: any) => e.node.redeemable)).toBe(true);
    });
  });
});
