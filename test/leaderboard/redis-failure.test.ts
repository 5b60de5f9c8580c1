import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp, untilSubscribed } from '../support/app';
import { untilBoard } from '../support/boards';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { freePort, OwnRedis } from '../support/own-redis';
import { collect } from '../support/ws';

/**
 * Redis stopped and restarted under a running instance. The machine's shared Redis serves the
 * other test files, so this file runs its own redis-server (no persistence: it comes back empty,
 * as after a failover to a fresh node) on a free port.
 */

const BALANCE_CHANGED = 'subscription { balanceChanged { memberId balance delta entry { type delta } } }';
const LEADERBOARD_CHANGED = 'subscription { leaderboardChanged(period: ALL_TIME, first: 10) { totalMembers entries { rank score member { id } } } }';
const LEADERBOARD = `query($period: LeaderboardPeriod) { leaderboard(period: $period, first: 10) { totalMembers entries { rank score member { id } } } }`;

/** Runs a request and returns its result with how long it took. */
async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

async function boardScores(api: TestApp, period = 'ALL_TIME'): Promise<Record<string, number>> {
  const res = await api.gql(LEADERBOARD, { period }, tokens.admin());
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return Object.fromEntries(res.data.leaderboard.entries.map((e: { score: number; member: { id: string } }) => [e.member.id, e.score]));
}

/**
 * Resolves once the app's Redis command connection is `ready` again, or has dropped (`down`):
 * woken by the connection's own event ('ready', 'close'), or at once if its status already says so.
 */
async function redisConnection(api: TestApp, state: 'ready' | 'down', ms = 10_000) {
  const connection = api.app.redis.command;
  const event = state === 'ready' ? 'ready' : 'close';
  let listener: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      listener = () => resolve();
      connection.once(event, listener);
      if ((connection.status === 'ready') === (state === 'ready')) resolve();
      timer = setTimeout(() => reject(new Error(`Redis connection not ${state} within ${ms} ms (status ${connection.status})`)), ms);
    });
  } finally {
    if (listener) connection.off(event, listener);
    clearTimeout(timer);
  }
}

const waitReady = (api: TestApp) => redisConnection(api, 'ready');

let redis: OwnRedis | null = null;
let api: TestApp | null = null;

afterAll(async () => {
  // Stop the app while its Redis is up (a clean QUIT), then this file's redis-server.
  if (redis && !redis.running) await redis.start().catch(() => undefined);
  await api?.stop();
  await redis?.kill();
});

describe('Redis stopped and restarted under a running instance', async () => {
  const own = new OwnRedis(await freePort());
  redis = own;
  await own.start();
  api = await startApp({ env: { REDIS_URL: own.url, LEADERBOARD_COALESCE_MS: '100' } });
  const app = api;

  it('keeps answering what does not need Redis, fails leaderboard reads fast, and resumes subscriptions and boards when Redis is back', async () => {
    const a = await createMember(app, { nickname: 'A' });
    const b = await createMember(app, { nickname: 'B' });
    expect((await earn(app, a.id, '100')).errors).toBeUndefined();
    await untilBoard(app, 'ALL_TIME', (pushed) => pushed.entries.some((e) => e.member.id === a.id));
    expect(await boardScores(app)).toEqual({ [a.id]: 100 });

    // Opened before the outage, never reconnected.
    const balance = collect(app.ws(a.token), BALANCE_CHANGED, {}, 'balanceChanged');
    await untilSubscribed(app, `BALANCE:${a.id}`, 10_000);
    const board = collect(app.ws(b.token), LEADERBOARD_CHANGED, {}, 'leaderboardChanged');
    await board.until((e) => e.totalMembers === 1);

    await own.kill();
    await redisConnection(app, 'down');

    // Queries on PostgreSQL keep working.
    const me = await timed(() => app.gql(`{ me { id balance } }`, {}, a.token));
    expect(me.result.errors).toBeUndefined();
    expect(me.result.data.me).toEqual({ id: a.id, balance: 100 });
    expect(me.ms).toBeLessThan(2000);
    const member = await timed(() => app.ok(`query($id: ID!) { member(id: $id) { id nickname balance } }`, { id: b.id }));
    expect(member.result.member).toEqual({ id: b.id, nickname: 'B', balance: 0 });
    expect(member.ms).toBeLessThan(2000);
    const stats = await app.ok(`{ programStats { members } }`);
    expect(stats.programStats.members).toBeGreaterThanOrEqual(2);

    // Earning is PostgreSQL's business: publishing and the boards failing must not fail it.
    const during = await timed(() => earn(app, b.id, '200'));
    expect(during.result.errors).toBeUndefined();
    expect(during.result.data.earnPoints).toMatchObject({ status: 'POSTED', points: 200, member: { balance: 200 } });
    expect(during.ms).toBeLessThan(3000);
    expect((await earn(app, a.id, '50')).errors).toBeUndefined();

    // Leaderboard reads need Redis: they fail fast with SERVICE_UNAVAILABLE.
    for (const query of [`{ leaderboard(period: WEEKLY) { totalMembers } }`, `{ leaderboard { totalMembers } }`]) {
      const res = await timed(() => app.gql(query, {}, tokens.admin()));
      expect(res.result.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.ms).toBeLessThan(2000);
    }
    const rank = await timed(() => app.gql(`{ myRank { rank } }`, {}, a.token));
    expect(rank.result.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(rank.ms).toBeLessThan(2000);

    const ready = await timed(() => fetch(`${app.url}/readyz`));
    expect(ready.result.status).toBe(503);
    expect(((await ready.result.json()) as { checks: unknown }).checks).toMatchObject({ postgres: 'ok', redis: expect.not.stringMatching(/^ok$/) });
    expect(ready.ms).toBeLessThan(2000);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

    // A member who subscribes while Redis is down is served once it is back.
    const lateBalance = collect(app.ws(b.token), BALANCE_CHANGED, {}, 'balanceChanged');

    // Redis comes back, empty (no persistence).
    await own.start();
    await waitReady(app);
    // The boards catch up from the ledger, the outage's earnings included, and each rebuilt board
    // is pushed to its subscribers at once: the socket opened before the outage sees it with no new posting.
    const rebuilt = await board.until((e) => e.entries.length === 2);
    expect(rebuilt.entries.map((x: { rank: number; score: number; member: { id: string } }) => [x.rank, x.member.id, x.score])).toEqual([
      [1, b.id, 200],
      [2, a.id, 150],
    ]);
    for (const period of ['ALL_TIME', 'MONTHLY', 'WEEKLY'] as const) {
      await untilBoard(app, period, async () => isDeepStrictEqual(await boardScores(app, period), { [a.id]: 150, [b.id]: 200 }));
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

    // The subscriptions opened before the outage resume without reconnecting.
    await untilSubscribed(app, `BALANCE:${a.id}`, 10_000);
    await untilSubscribed(app, `BALANCE:${b.id}`, 10_000);
    expect((await earn(app, a.id, '25')).errors).toBeUndefined();
    expect(await balance.until((e) => e.delta === 25)).toMatchObject({ memberId: a.id, balance: 175, entry: { type: 'PURCHASE', delta: 25 } });
    // What was published while Redis was down is lost (the ledger has it), never replayed out of order;
    // the first event is the balance when the subscription opened (delta 0, issue 15).
    expect(balance.events.map((e) => e.delta)).toEqual([0, 25]);
    expect(balance.events[0]).toMatchObject({ memberId: a.id, balance: 100, delta: 0 });
    const caughtUp = await board.until((e) => e.entries.some((x: { score: number; member: { id: string } }) => x.member.id === a.id && x.score === 175));
    expect(caughtUp.entries.map((x: { rank: number; score: number; member: { id: string } }) => [x.rank, x.member.id, x.score])).toEqual([
      [1, b.id, 200],
      [2, a.id, 175],
    ]);
    expect((await earn(app, b.id, '5')).errors).toBeUndefined();
    expect(await lateBalance.until((e) => e.delta === 5)).toMatchObject({ memberId: b.id, balance: 205 });
    expect([...balance.errors, ...board.errors, ...lateBalance.errors]).toEqual([]);
    await expectReconciled(app);
  });

  it('boards are rebuilt when Redis comes back empty, even if nothing was posted during the outage', async () => {
    await waitReady(app);
    const c = await createMember(app, { nickname: 'C' });
    expect((await earn(app, c.id, '300')).errors).toBeUndefined();
    await untilBoard(app, 'ALL_TIME', (pushed) => pushed.entries.some((e) => e.member.id === c.id));
    expect((await boardScores(app))[c.id]).toBe(300);
    const before = await boardScores(app);

    await own.kill();
    await redisConnection(app, 'down');
    await own.start();
    await waitReady(app);

    // Each board is rebuilt in turn, and pushed to its subscribers once it is.
    await untilBoard(app, 'ALL_TIME', async () => isDeepStrictEqual(await boardScores(app), before));
    for (const period of ['MONTHLY', 'WEEKLY'] as const) await untilBoard(app, period, async () => (await boardScores(app, period))[c.id] === 300);
    await expectReconciled(app);
  });
});
