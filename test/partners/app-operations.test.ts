import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { print, type DocumentNode } from 'graphql';
import { startApp, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { AdminDashboardDocument, CheckInDocument, HomeDocument, LeaderboardDocument, NotificationsDocument, TaskWallDocument } from '../../schema/generated/graphql';

let api: TestApp;
let second: TestApp;

beforeAll(async () => {
  api = await startApp();
  second = await startApp({ sharing: api });
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function post(on: TestApp, body: Record<string, unknown>, token: string) {
  const res = await fetch(`${on.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

describe('automatic persisted queries on /graphql (first-party clients)', () => {
  it('a hash registered on one instance is known on another, through Redis', async () => {
    const m = await createMember(api);
    const query = print(HomeDocument);
    const hash = sha256(query);
    const persistedQuery = { version: 1, sha256Hash: hash };
    // Unknown everywhere first: the client is told to send the query.
    expect((await post(second, { extensions: { persistedQuery } }, m.token)).errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(api, { query, extensions: { persistedQuery } }, m.token);
    expect(registered.data.me.id).toBe(m.id);
    const byHash = await post(second, { extensions: { persistedQuery } }, m.token);
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data.me).toMatchObject({ id: m.id, balance: 0, tier: { level: 1 } });
    // Kept under this deployment's prefix, with a TTL.
    const ttl = await api.app.redis.command.ttl(`apq:${hash}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(api.app.config.apqTtlSeconds);
    // A hash that does not match the query is refused.
    expect((await post(api, { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('other') } } }, m.token)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('the member app and admin console operations (generated typed documents)', () => {
  const run = async (document: DocumentNode, token: string, variables: Record<string, unknown> = {}) => api.ok(print(document), variables, token);

  it('home, check-in, task wall, leaderboard with my rank, notifications', async () => {
    const m = await createMember(api);
    await earn(api, m.id, '1200.00');
    const home = await run(HomeDocument, m.token);
    expect(home.me).toMatchObject({ id: m.id, balance: 1200, tier: { level: 2 }, expiringPoints: { points: 0 } });
    expect((await run(CheckInDocument, m.token)).checkIn).toMatchObject({ pointsAwarded: 5, streak: 1, balance: 1205 });
    expect(Array.isArray((await run(TaskWallDocument, m.token)).tasks)).toBe(true);
    const board = await run(LeaderboardDocument, m.token, { period: 'ALL_TIME', first: 5 });
    expect(board.myRank).toMatchObject({ rank: expect.any(Number), score: expect.any(Number) });
    const notes = await run(NotificationsDocument, m.token);
    expect(notes.notifications.edges.map((e: { node: { kind: string } }) => e.node.kind)).toContain('TIER_CHANGE');
    await expectReconciled(api);
  });

  it('the admin dashboard', async () => {
    const dashboard = await run(AdminDashboardDocument, tokens.admin());
    expect(dashboard.programStats.members).toBeGreaterThan(0);
    expect(dashboard.leaderboard.entries.length).toBeGreaterThan(0);
  });
});
