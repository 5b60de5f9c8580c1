import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startApp } from '../support/app';
import { createDatabaseFromTemplate, dropDatabase } from '../support/db';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { createItem, redeemOk } from '../catalog/support';
import { loadConfig } from '../../src/platform/config';
import { tokens } from '../support/tokens';

const STATS = '{ programStats { members pointsIssued30d } }';
const CATALOG = `query($category: String) { catalog(filter: { category: $category }, first: 50) { totalCount edges { node { id sku } } } }`;
const ME = '{ me { balance } }';
const ALL_TIME = { kind: 'ALL_TIME' as const, key: 'ALL_TIME', start: null, end: null };

/**
 * A "replica" that lags: a second database, a copy of the migrated template, that this test feeds
 * by hand (table by table, copied from the primary) whenever it wants the replica to catch up.
 * The app is pointed at it with DATABASE_READ_URLS.
 */
describe('read replicas (DATABASE_READ_URLS): only lag-tolerant reads go there', async () => {
  const replicaName = `loyalty_r_${process.pid}_${randomBytes(3).toString('hex')}`;
  const replicaUrl = await createDatabaseFromTemplate(replicaName);
  const api = await startApp({ env: { DATABASE_READ_URLS: replicaUrl } });
  const replica = new pg.Client({ connectionString: replicaUrl });
  await replica.connect();
  afterAll(async () => {
    await replica.end();
    await api.stop();
    await dropDatabase(replicaName);
  });

  /** The replica catches up on these tables: their rows replaced by the primary's. */
  async function feed(...tables: string[]) {
    for (const table of tables) {
      const rows = await api.app.orm.em.fork().execute(`select coalesce(json_agg(t), '[]') as rows from ${table} t`);
      await replica.query(`delete from ${table}`);
      await replica.query(`insert into ${table} select * from json_populate_recordset(null::${table}, $1::json)`, [JSON.stringify(rows[0].rows)]);
    }
  }

  /** The replica catches up on append-only tables: the primary's rows it lacks are added. */
  async function feedNew(...tables: string[]) {
    for (const table of tables) {
      const rows = await api.app.orm.em.fork().execute(`select coalesce(json_agg(t), '[]') as rows from ${table} t`);
      await replica.query(`insert into ${table} select * from json_populate_recordset(null::${table}, $1::json) on conflict do nothing`, [JSON.stringify(rows[0].rows)]);
    }
  }

  /** Which pool (write = primary, read = a replica) each statement of `run` used. */
  async function connectionsOf(run: () => Promise<unknown>): Promise<Set<string>> {
    const logger = api.app.orm.config.getLogger() as unknown as { logQuery: (context: { query: string; connection?: { type?: string } }) => void };
    const used = new Set<string>();
    const original = logger.logQuery;
    logger.logQuery = function (this: unknown, context) {
      used.add(context.connection?.type ?? 'unknown');
      return original.call(this, context);
    };
    try {
      await run();
    } finally {
      logger.logQuery = original;
    }
    return used;
  }

  it('parses the list and refuses a URL that is not postgres', () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_READ_URLS: ' postgres://a/x , postgresql://b/y ' });
    expect(config.databaseReadUrls).toEqual(['postgres://a/x', 'postgresql://b/y']);
    expect(loadConfig({ NODE_ENV: 'test' }).databaseReadUrls).toEqual([]);
    expect(() => loadConfig({ NODE_ENV: 'test', DATABASE_READ_URLS: 'postgres://a/x,redis://b' })).toThrow(/DATABASE_READ_URLS/);
  });

  it('money paths and read-your-own-write stay on the primary while the replica lags; lag-tolerant reads lag until it catches up', async () => {
    const m = await createMember(api);
    const category = `replica-${randomBytes(2).toString('hex')}`;
    const item = await createItem(api, { category, pointsPrice: 50, stock: 3 });

    // Money paths: every statement on the primary, and the member sees its own write at once.
    const moneyPools = await connectionsOf(async () => {
      expect((await earn(api, m.id, '80.00')).errors).toBeUndefined();
      expect((await api.ok(ME, {}, m.token)).me.balance).toBe(80);
      await redeemOk(api, m.token, { itemId: item.id });
      expect((await api.ok(ME, {}, m.token)).me.balance).toBe(30);
      // The item by id (a detail page, the redemption's own read) is current.
      expect((await api.ok(`query($id: ID!) { catalogItem(id: $id) { stock } }`, { id: item.id })).catalogItem.stock).toBe(2);
    });
    expect([...moneyPools]).toEqual(['write']);

    // Lag-tolerant reads come from the replica, which has seen none of it yet.
    const lagging = await connectionsOf(async () => {
      expect((await api.ok(CATALOG, { category })).catalog.totalCount).toBe(0);
      expect((await api.ok(STATS)).programStats).toEqual({ members: 0, pointsIssued30d: '0' });
    });
    expect(lagging.has('read')).toBe(true);
    // A leaderboard rebuild reads the primary (rebuildStale compares it with the primary's ledger).
    expect(await api.app.services.leaderboardRebuild.scoresFromLedger(ALL_TIME)).toEqual(new Map([[m.id, 80]]));

    // The replica catches up.
    await feed('member', 'catalog_item', 'ledger_entry');
    const caught = (await api.ok(CATALOG, { category })).catalog;
    expect(caught).toMatchObject({ totalCount: 1, edges: [{ node: { id: item.id } }] });
    expect((await api.ok(STATS)).programStats).toEqual({ members: 1, pointsIssued30d: '80' });
    await expectReconciled(api);
  });

  it("ledger history pages: a query may read a lagging replica, a mutation's payload reads the primary", async () => {
    const m = await createMember(api);
    const LEDGER = 'edges { node { delta type } }';

    // A mutation's payload shows the entry it just posted (read-your-own-write), all on the primary.
    let orderId = '';
    const inMutation = await connectionsOf(async () => {
      const res = await api.gql(
        `mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points member { ledger(first: 5) { ${LEDGER} } } } }`,
        { input: { memberId: m.id, orderId: (orderId = `replica-order-${randomBytes(3).toString('hex')}`), amount: '30.00' } },
        tokens.admin(),
      );
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data.earnPoints.member.ledger.edges).toEqual([{ node: { delta: 30, type: 'PURCHASE' } }]);
      const refunded = await api.ok(`mutation($input: ReverseEarnInput!) { reverseEarn(input: $input) { member { ledger(first: 5) { ${LEDGER} } } } }`, {
        input: { orderId, amount: '10.00', reason: 'one item returned' },
      });
      expect(refunded.reverseEarn.member.ledger.edges).toEqual([{ node: { delta: -10, type: 'REVERSAL' } }, { node: { delta: 30, type: 'PURCHASE' } }]);
    });
    expect([...inMutation]).toEqual(['write']);

    // The same page under a query comes from the replica, which has not seen either entry yet.
    const HISTORY = `{ me { balance ledger(first: 5) { ${LEDGER} } } }`;
    const inQuery = await connectionsOf(async () => {
      const page = (await api.ok(HISTORY, {}, m.token)).me;
      // The balance is the member's own money: always current (primary).
      expect(page).toEqual({ balance: 20, ledger: { edges: [] } });
    });
    expect(inQuery).toEqual(new Set(['write', 'read']));

    // Once the replica catches up, the query's page shows both.
    await feedNew('member', 'ledger_entry');
    expect((await api.ok(HISTORY, {}, m.token)).me.ledger.edges).toEqual([{ node: { delta: -10, type: 'REVERSAL' } }, { node: { delta: 30, type: 'PURCHASE' } }]);
    await expectReconciled(api);
  });

  it('the redeemable-only catalog depends on the viewer’s own balance, so it reads the primary', async () => {
    const m = await createMember(api);
    const category = `replica-${randomBytes(2).toString('hex')}`;
    await createItem(api, { category, pointsPrice: 40, stock: 3 });
    await feed('catalog_item');
    expect((await earn(api, m.id, '50.00')).errors).toBeUndefined();
    const page = await api.ok(`query($c: String) { catalog(filter: { category: $c, redeemableOnly: true }) { totalCount } }`, { c: category }, m.token);
    expect(page.catalog.totalCount).toBe(1);
  });
});
