import { afterAll, afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startApp, type GraphQLResponse, type TestApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { freePort, OwnRedis } from '../support/own-redis';
import { tokens } from '../support/tokens';
import { PERIODS } from '../../src/leaderboard/leaderboard.rules';
import { countQueries, createItem, fund, itemById, itemInput, memberWith, newKey, redeem, updateItemRaw } from './support';

/**
 * Flash sales (issue 14): items flagged `hot` are admitted by the Redis gate
 * (src/catalog/flash-sale.gate.ts) before their redemption transaction. Through the real API,
 * real PostgreSQL and Redis: no unit oversold, no point lost, refusals without a single SQL
 * statement, the same error codes as without the gate, and PostgreSQL as the truth the gate is
 * rebuilt from.
 */

const codesOf = (results: GraphQLResponse[]) =>
  results.reduce<Record<string, number>>((counts, r) => {
    const code = r.errors ? (r.errors[0].extensions?.code ?? 'UNKNOWN') : 'OK';
    counts[code] = (counts[code] ?? 0) + 1;
    return counts;
  }, {});

const HOT_ITEM = `query($id: ID!) { catalogItem(id: $id) { id stock hot } }`;

describe('flash-sale gate', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const sql = <T = any>(query: string, params: unknown[] = []) => api.app.orm.em.fork().execute<T[]>(query, params);
  const pgStock = async (itemId: string) => (await sql<{ stock: number }>('select stock from catalog_item where id = ?', [itemId]))[0].stock;
  /** What the gate holds for an item (null: no counters). */
  const gateOf = async (app: TestApp, itemId: string) => {
    const stock = await app.app.redis.command.hget(`{flash:${itemId}}:item`, 'stock');
    return stock == null ? null : Number(stock);
  };
  const hotItem = (overrides: Record<string, unknown> = {}) => createItem(api, { name: '秒杀 耳机', pointsPrice: 100, stock: 5, hot: true, ...overrides });

  it('an admin flags an item hot on create, keeps the flag on an update that omits it, and turns it off; the gate follows', async () => {
    const item = await hotItem({ stock: 7 });
    expect((await api.ok(HOT_ITEM, { id: item.id })).catalogItem).toEqual({ id: item.id, stock: 7, hot: true });
    expect(await gateOf(api, item.id)).toBe(7);

    // The contract's update is a full replace; an admin tool that does not know `hot` leaves it as it is.
    const withoutHot = itemInput({ sku: item.sku, stock: 9 });
    expect((await updateItemRaw(api, item.id, withoutHot)).data.updateCatalogItem.stock).toBe(9);
    expect((await api.ok(HOT_ITEM, { id: item.id })).catalogItem).toEqual({ id: item.id, stock: 9, hot: true });
    expect(await gateOf(api, item.id)).toBe(9);

    await updateItemRaw(api, item.id, { ...withoutHot, hot: false });
    expect((await api.ok(HOT_ITEM, { id: item.id })).catalogItem.hot).toBe(false);
    expect(await gateOf(api, item.id)).toBeNull();
    expect(api.app.services.flashGate.guards(item.id)).toBe(false);

    // Not flagged: not hot, not guarded.
    const plain = await createItem(api);
    expect((await api.ok(HOT_ITEM, { id: plain.id })).catalogItem.hot).toBe(false);
    expect(api.app.services.flashGate.guards(plain.id)).toBe(false);
  });

  it('sells 5 units to exactly 5 of 60 members redeeming at once; every loser is refused without a transaction and keeps its points', async () => {
    const members = await Promise.all(Array.from({ length: 60 }, () => memberWith(api, 100)));
    const item = await hotItem();
    const results = await Promise.all(members.map((m) => redeem(api, m.token, { itemId: item.id })));
    expect(codesOf(results)).toEqual({ OK: 5, OUT_OF_STOCK: 55 });
    expect(await pgStock(item.id)).toBe(0);
    expect(await gateOf(api, item.id)).toBe(0);

    const winners = new Set(members.filter((_, i) => !results[i].errors).map((m) => m.id));
    const balances = new Map((await sql<{ id: string; balance: number }>('select id, balance from member where id in (?)', [members.map((m) => m.id)])).map((r) => [r.id, r.balance]));
    for (const m of members) expect(balances.get(m.id), m.id).toBe(winners.has(m.id) ? 0 : 100);
    expect(await sql('select member_id from redemption where item_id = ?', [item.id])).toHaveLength(5);

    // Sold out: the next requests are refused by the gate alone, with the code PostgreSQL would give.
    const late = members.slice(0, 20).filter((m) => !winners.has(m.id));
    const { result: refused, queries } = await countQueries(api, () => Promise.all(late.map((m) => redeem(api, m.token, { itemId: item.id }))));
    expect(codesOf(refused)).toEqual({ OUT_OF_STOCK: late.length });
    expect(queries, 'a refused request sends no SQL (so opens no transaction)').toEqual([]);
  });

  it('the statement counter sees an admitted redemption (so zero above means zero)', async () => {
    const m = await memberWith(api, 100);
    const item = await hotItem({ stock: 1 });
    const { result, queries } = await countQueries(api, () => redeem(api, m.token, { itemId: item.id }));
    expect(result.errors).toBeUndefined();
    expect(queries.length).toBeGreaterThan(3);
  });

  it('refuses a member over the per-member limit without a transaction, also when it fires many requests at once', async () => {
    const m = await memberWith(api, 1000);
    const item = await hotItem({ stock: 10, perMemberLimit: 2 });
    const burst = await Promise.all(Array.from({ length: 8 }, () => redeem(api, m.token, { itemId: item.id })));
    expect(codesOf(burst)).toEqual({ OK: 2, LIMIT_EXCEEDED: 6 });
    const { result, queries } = await countQueries(api, () => redeem(api, m.token, { itemId: item.id }));
    expect(result.errors?.[0].extensions?.code).toBe('LIMIT_EXCEEDED');
    expect(result.errors?.[0].message).toBe('At most 2 per member (2 already redeemed)');
    expect(queries).toEqual([]);
    expect((await sql<{ balance: number }>('select balance from member where id = ?', [m.id]))[0].balance).toBe(800);
    expect(await pgStock(item.id)).toBe(8);
    expect(await gateOf(api, item.id)).toBe(8);
    // Another member is not held back by that one's limit.
    const other = await memberWith(api, 100);
    expect((await redeem(api, other.token, { itemId: item.id })).errors).toBeUndefined();
  });

  it('a winner whose transaction fails gives its admission back: the unit goes to the next member', async () => {
    const poor = await memberWith(api, 50);
    const rich = await memberWith(api, 100);
    const item = await hotItem({ stock: 1 });
    const failed = await redeem(api, poor.token, { itemId: item.id });
    expect(failed.errors?.[0].extensions?.code).toBe('INSUFFICIENT_POINTS');
    expect(await gateOf(api, item.id)).toBe(1);
    expect((await redeem(api, rich.token, { itemId: item.id })).errors).toBeUndefined();
    expect(await gateOf(api, item.id)).toBe(0);
    expect(await pgStock(item.id)).toBe(0);
    // The per-member count went back too: the poor member, funded, is admitted by its limit (and refused for stock).
    await fund(api, poor.id, 100);
    expect((await redeem(api, poor.token, { itemId: item.id })).errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
  });

  it('a winner retrying with its idempotency key after the sell-out gets its redemption back, not OUT_OF_STOCK', async () => {
    const m = await memberWith(api, 100);
    const item = await hotItem({ stock: 1 });
    const key = newKey();
    const first = await redeem(api, m.token, { itemId: item.id, idempotencyKey: key });
    const again = await redeem(api, m.token, { itemId: item.id, idempotencyKey: key });
    expect(again.errors).toBeUndefined();
    expect(again.data.redeem.redemption.id).toBe(first.data.redeem.redemption.id);
    expect(await gateOf(api, item.id)).toBe(0);
  });

  it('a cancelled redemption and a restock give units back to the gate', async () => {
    const [a, b, c] = await Promise.all([memberWith(api, 100), memberWith(api, 100), memberWith(api, 100)]);
    const item = await hotItem({ stock: 1 });
    const won = await redeem(api, a.token, { itemId: item.id });
    expect((await redeem(api, b.token, { itemId: item.id })).errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
    await api.ok(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "不要了") { status } }`, { id: won.data.redeem.redemption.id });
    expect(await gateOf(api, item.id)).toBe(1);
    expect((await redeem(api, b.token, { itemId: item.id })).errors).toBeUndefined();
    await api.ok(`mutation($id: ID!) { restockCatalogItem(id: $id, quantity: 1) { stock } }`, { id: item.id });
    expect(await gateOf(api, item.id)).toBe(1);
    expect((await redeem(api, c.token, { itemId: item.id })).errors).toBeUndefined();
  });

  it('leaves the sale window to PostgreSQL: before it opens the member sees ITEM_UNAVAILABLE, as without the gate', async () => {
    const m = await memberWith(api, 100);
    const opens = new Date(api.clock.now().getTime() + 3_600_000);
    const item = await hotItem({ stock: 0, availableFrom: opens.toISOString() });
    expect((await redeem(api, m.token, { itemId: item.id })).errors?.[0].extensions?.code).toBe('ITEM_UNAVAILABLE');
  });

  it('never oversells and never loses a point, whatever the stock, limit, balances and crowd (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          stock: fc.integer({ min: 0, max: 6 }),
          limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
          // Balances in units of the price: 0 (refused for points after admission) to 3.
          wallets: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
          tries: fc.integer({ min: 1, max: 3 }),
        }),
        async ({ stock, limit, wallets, tries }) => {
          const members = await Promise.all(wallets.map((units) => memberWith(api, units * 100)));
          const item = await hotItem({ stock, perMemberLimit: limit });
          const requests = members.flatMap((m) => Array.from({ length: tries }, () => m));
          const results = await Promise.all(requests.map((m) => redeem(api, m.token, { itemId: item.id })));
          const won = new Map<string, number>();
          results.forEach((r, i) => {
            if (!r.errors) won.set(requests[i].id, (won.get(requests[i].id) ?? 0) + 1);
            else expect(['OUT_OF_STOCK', 'LIMIT_EXCEEDED', 'INSUFFICIENT_POINTS']).toContain(r.errors[0].extensions?.code);
          });
          const sold = [...won.values()].reduce((a, b) => a + b, 0);
          expect(sold).toBeLessThanOrEqual(stock);
          expect(await pgStock(item.id)).toBe(stock - sold);
          // Settled: the gate holds exactly what PostgreSQL holds (every failed winner gave back).
          expect(await gateOf(api, item.id)).toBe(stock - sold);
          const balances = new Map((await sql<{ id: string; balance: number }>('select id, balance from member where id in (?)', [members.map((m) => m.id)])).map((r) => [r.id, r.balance]));
          members.forEach((m, i) => {
            const units = won.get(m.id) ?? 0;
            if (limit != null) expect(units).toBeLessThanOrEqual(limit);
            expect(balances.get(m.id)).toBe((wallets[i] - units) * 100);
          });
        },
      ),
      { numRuns: 12 },
    );
  });

  it('runs at most FLASH_SALE_WINNERS_AT_ONCE admitted transactions of one item at once per instance; the rest wait their turn and all succeed', async () => {
    // A pool twice the gate's width, so only the gate can hold the winners back (and not 40
    // connections: PostgreSQL's max_connections is shared with the test file running beside this one).
    const WINNERS_AT_ONCE = 6;
    const wide = await startApp({ sharing: api, env: { DATABASE_POOL_MAX: String(2 * WINNERS_AT_ONCE), FLASH_SALE_WINNERS_AT_ONCE: String(WINNERS_AT_ONCE) } });
    try {
      const members = await Promise.all(Array.from({ length: 30 }, () => memberWith(api, 100)));
      const item = await hotItem({ stock: 30 });
      await expect.poll(() => wide.app.services.flashGate.guards(item.id), { timeout: 5000 }).toBe(true);
      const { result, queries } = await countQueries(wide, () => Promise.all(members.map((m) => redeem(wide, m.token, { itemId: item.id }))));
      expect(codesOf(result)).toEqual({ OK: 30 });
      // Transactions open at once, from the statements in the order they completed.
      let open = 0;
      let most = 0;
      for (const q of queries) {
        if (/^\s*begin\b/i.test(q)) most = Math.max(most, ++open);
        if (/^\s*(commit|rollback)\b/i.test(q)) open -= 1;
      }
      expect(queries.filter((q) => /^\s*begin\b/i.test(q))).toHaveLength(30);
      expect(most).toBeGreaterThan(1);
      expect(most).toBeLessThanOrEqual(WINNERS_AT_ONCE);
    } finally {
      await wide.stop();
    }
  });

  describe('across instances', async () => {
    const other = await startApp({ sharing: api });
    afterAll(async () => {
      await other.stop();
    });

    it('two instances sharing Redis sell 4 units to exactly 4 members, and both refuse the rest without SQL', async () => {
      const members = await Promise.all(Array.from({ length: 30 }, () => memberWith(api, 100)));
      const item = await hotItem({ stock: 4 });
      // The flag set on one instance reaches the other through Redis pub/sub.
      await expect.poll(() => other.app.services.flashGate.guards(item.id), { timeout: 5000 }).toBe(true);
      const results = await Promise.all(members.map((m, i) => redeem(i % 2 ? other : api, m.token, { itemId: item.id })));
      expect(codesOf(results)).toEqual({ OK: 4, OUT_OF_STOCK: 26 });
      expect(await pgStock(item.id)).toBe(0);
      const { result, queries } = await countQueries(other, () => redeem(other, members[0].token, { itemId: item.id }));
      expect(result.errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
      expect(queries).toEqual([]);
    });
  });

  it('rebuilds from PostgreSQL when Redis lost its counters: PostgreSQL answers meanwhile, then the gate refuses again', async () => {
    const members = await Promise.all(Array.from({ length: 4 }, () => memberWith(api, 100)));
    const item = await hotItem({ stock: 2 });
    for (const m of members.slice(0, 2)) expect((await redeem(api, m.token, { itemId: item.id })).errors).toBeUndefined();
    const redis = api.app.redis.command;
    await redis.del(`{flash:${item.id}}:item`, `{flash:${item.id}}:members`, `{flash:${item.id}}:keys`);

    // Counters gone: this request goes to PostgreSQL (which refuses it) and starts a rebuild.
    const { result, queries } = await countQueries(api, () => redeem(api, members[2].token, { itemId: item.id }));
    expect(result.errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
    expect(queries.length).toBeGreaterThan(0);
    await api.app.services.flashGate.rebuild();
    expect(await gateOf(api, item.id)).toBe(0);
    // An operator sees why the gate was rebuilt.
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(Number(/^loyalty_flash_gate_rebuilds\{reason="missing"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    // The winners' keys and counts came back too: a winner's retry is answered by PostgreSQL with its redemption.
    expect(await redis.hget(`{flash:${item.id}}:members`, members[0].id)).toBe('1');
    const again = await countQueries(api, () => redeem(api, members[3].token, { itemId: item.id }));
    expect(again.result.errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
    expect(again.queries).toEqual([]);
  });
});

describe('flash-sale gate with its own Redis, stopped and restarted', async () => {
  const own = new OwnRedis(await freePort());
  await own.start();
  const api = await startApp({ env: { REDIS_URL: own.url } });
  afterAll(async () => {
    await api.stop();
    await own.kill();
  });

  it('steps aside while Redis is down (PostgreSQL alone decides, nothing oversold) and is rebuilt when Redis comes back empty', async () => {
    const members = await Promise.all(Array.from({ length: 6 }, () => memberWith(api, 100)));
    const item = await createItem(api, { name: '秒杀 键盘', pointsPrice: 100, stock: 3, hot: true });
    expect((await redeem(api, members[0].token, { itemId: item.id })).errors).toBeUndefined();

    await own.kill();
    const down = await Promise.all(members.slice(1, 5).map((m) => redeem(api, m.token, { itemId: item.id })));
    expect(codesOf(down)).toEqual({ OK: 2, OUT_OF_STOCK: 2 });

    await own.start();
    // Back, and empty: the app reconnects and rebuilds the counters from PostgreSQL.
    const probe = api.app.redis.command;
    await expect.poll(async () => probe.hget(`{flash:${item.id}}:item`, 'stock').catch(() => null), { timeout: 10_000 }).toBe('0');
    // The leaderboards are rebuilt on the same reconnect, from PostgreSQL too: wait until every board
    // is back, or on a loaded machine that rebuild's query lands among the redemption's below.
    const boards = api.app.services.leaderboard;
    await expect.poll(async () => (await Promise.all(PERIODS.map((kind) => boards.exists(boards.periodNow(kind))))).every(Boolean), { timeout: 10_000 }).toBe(true);
    const { result, queries } = await countQueries(api, () => redeem(api, members[5].token, { itemId: item.id }));
    expect(result.errors?.[0].extensions?.code).toBe('OUT_OF_STOCK');
    expect(queries).toEqual([]);
    expect(await itemById(api, item.id, tokens.admin())).toMatchObject({ stock: 0 });
    await expectReconciled(api);
  });
});
