import { afterEach, describe, expect, it, vi } from 'vitest';
import { startApp, wsExecute, type GraphQLResponse } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { adjust } from '../support/ledger';
import { tokens } from '../support/tokens';
import { createItem } from '../catalog/support';

/**
 * Nested lists for many members: the cost limit refuses the expensive shape, and what it allows is
 * cheap, because Member.ledger, redemptions and coupons are loaded for all members at once.
 * Statements are counted at the ORM's connection (pass-through: every query still runs).
 */
describe('Member.ledger, redemptions and coupons for many members', async () => {
  const api = await startApp();
  const admin = tokens.admin();
  const MEMBERS = 8;
  const members: CreatedMember[] = [];
  const couponItem = await createItem(api, { type: 'COUPON', name: '满100减20', pointsPrice: 10, stock: 1000, config: { value: '20.00', validDays: 30 } });
  for (let i = 0; i < MEMBERS; i++) {
    const m = await createMember(api, { nickname: `批量${i}` });
    await adjust(api, m.id, 100 + i);
    await adjust(api, m.id, 5);
    for (let n = 0; n < (i % 3) + 1; n++) {
      await api.ok('mutation($i: RedeemInput!) { redeem(input: $i) { redemption { id } } }', { i: { itemId: couponItem.id, idempotencyKey: `batch-${i}-${n}` } }, m.token);
    }
    members.push(m);
  }

  /** The SQL text of every statement run while `during` runs. */
  async function statements<T>(during: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
    const connection = api.app.orm.em.getConnection();
    const spy = vi.spyOn(connection, 'execute');
    try {
      const result = await during();
      const sql = spy.mock.calls.map(([query]) => (typeof query === 'string' ? query : (query as { toSQL(): { sql: string } }).toSQL().sql));
      return { result, sql };
    } finally {
      spy.mockRestore();
    }
  }
  const touching = (sql: string[], table: RegExp) => sql.filter((s) => table.test(s)).length;
  afterEach(() => vi.restoreAllMocks());

  const PAGE = `{ members(first: 10) { edges { node { id
      ledger(first: 3) { edges { node { id delta } } pageInfo { hasNextPage } }
      redemptions(first: 2) { edges { node { id member { id } } } pageInfo { hasNextPage } }
      coupons { code } vip { level } } } } }`;

  it('runs one statement per field for the whole page, not one per member, and gives each member its own rows', async () => {
    const { result, sql } = await statements(() => api.gql(PAGE, {}, admin));
    expect(result.errors).toBeUndefined();
    const nodes = result.data.members.edges.map((e: { node: any }) => e.node).filter((n: { id: string }) => members.some((m) => m.id === n.id));
    expect(nodes).toHaveLength(MEMBERS);
    expect(touching(sql, /\bledger_entry\b/)).toBe(1);
    expect(touching(sql, /\bfrom "?redemption"?\s+r\b/)).toBe(1);
    expect(touching(sql, /\bfrom "?coupon"?/)).toBe(1);
    expect(touching(sql, /\bfrom "?member_vip"?/)).toBe(1);

    // The same as asking for each member alone.
    for (const m of members) {
      const alone = (
        await api.ok(
          `query($id: ID!) { member(id: $id) { id ledger(first: 3) { edges { node { id delta } } pageInfo { hasNextPage } } redemptions(first: 2) { edges { node { id member { id } } } pageInfo { hasNextPage } } coupons { code } vip { level } } }`,
          { id: m.id },
          admin,
        )
      ).member;
      expect(nodes.find((n: { id: string }) => n.id === m.id)).toEqual(alone);
      expect(alone.ledger.edges.length).toBe(3);
      for (const edge of alone.redemptions.edges) expect(edge.node.member.id).toBe(m.id);
    }
  });

  it('runs one statement per distinct arguments, and pages on with the cursor', async () => {
    const { result, sql } = await statements(() =>
      api.gql(`{ members(first: 20) { edges { node { id a: ledger(first: 1) { edges { cursor node { id } } } b: ledger(first: 2) { edges { node { id } } } } } } }`, {}, admin),
    );
    expect(result.errors).toBeUndefined();
    expect(touching(sql, /\bledger_entry\b/)).toBe(2);
    const m = members[0];
    const first = (await api.ok(`query($id: ID!) { member(id: $id) { ledger(first: 1) { edges { cursor node { id } } } } }`, { id: m.id }, admin)).member.ledger.edges[0];
    const next = (await api.ok(`query($id: ID!, $after: String) { member(id: $id) { ledger(first: 5, after: $after) { edges { node { id } } } } }`, { id: m.id, after: first.cursor }, admin)).member
      .ledger.edges;
    expect(next.map((e: { node: { id: string } }) => e.node.id)).not.toContain(first.node.id);
    expect(next.length).toBeGreaterThan(0);
    // A bad cursor is the client's error, for that field only.
    const bad = await api.gql(`query($id: ID!) { member(id: $id) { id ledger(after: "nope") { edges { node { id } } } } }`, { id: m.id }, admin);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses 100 members × 100 ledger entries by cost, over HTTP and WebSocket, before running anything', async () => {
    const expensive = '{ members(first: 100) { edges { node { id ledger(first: 100) { edges { node { id } } } } } } }';
    const check = (res: GraphQLResponse) => {
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
      expect(res.errors?.[0]?.message).toMatch(/Cost limit of \d+ exceeded/);
      expect(res.data ?? null).toBeNull();
    };
    const { result, sql } = await statements(() => api.gql(expensive, {}, admin));
    check(result);
    expect(sql).toEqual([]);
    const client = api.ws(admin);
    check(await wsExecute(client, expensive));
    await client.dispose();
    // The allowed shape above passes the same limit.
    expect((await api.gql(PAGE, {}, admin)).errors).toBeUndefined();
  });
});
