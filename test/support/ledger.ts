import { afterAll, afterEach, expect } from 'vitest';
import pg from 'pg';
import { reconcile } from '../../src/ledger/ledger.reconcile';
import { startApp, type TestApp } from './app';
import { tokens } from './tokens';

export const ENTRY_FIELDS = 'id memberId type status delta balanceAfter reference source description expiresAt createdAt';

/**
 * A ledger test file's app, a SQL client on its database (for what the API does not show: lots,
 * allocations, the expiry watermark) and the ledger reconciled after every test, whatever the test did.
 * Call it in the describe body: the hooks belong to that suite.
 */
export async function startLedgerApp(options?: Parameters<typeof startApp>[0]): Promise<{ api: TestApp; db: pg.Client }> {
  const api = await startApp(options);
  const db = new pg.Client({ connectionString: api.databaseUrl });
  await db.connect();
  afterAll(() => db.end());
  afterEach(async () => {
    await expectReconciled(api);
  });
  return { api, db };
}

let orderSequence = 0;
export const newOrderId = () => `ORD-${process.pid}-${++orderSequence}-${Math.random().toString(36).slice(2, 8)}`;

export async function earn(api: TestApp, memberId: string, amount: string, options: { orderId?: string; category?: string; occurredAt?: string } = {}) {
  const res = await api.gql(
    `mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points status duplicate entry { ${ENTRY_FIELDS} } member { balance lifetimeEarned totalSpend tier { level } } } }`,
    { input: { memberId, orderId: options.orderId ?? newOrderId(), amount, category: options.category, occurredAt: options.occurredAt } },
    tokens.admin(),
  );
  return res;
}

export async function adjust(api: TestApp, memberId: string, delta: number, options: { key?: string; validDays?: number } = {}) {
  return api.gql(
    `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { ${ENTRY_FIELDS} } }`,
    { input: { memberId, delta, reason: 'test', idempotencyKey: options.key ?? newOrderId(), validDays: options.validDays } },
    tokens.admin(),
  );
}

export async function balanceOf(api: TestApp, memberId: string): Promise<number> {
  const data = await api.ok(`query($id: ID!) { member(id: $id) { balance } }`, { id: memberId });
  return data.member.balance;
}

/** The ledger's invariants hold for every member of this file's database. */
export async function expectReconciled(api: TestApp) {
  expect(await reconcile(api.app.orm.em.fork())).toEqual([]);
}
