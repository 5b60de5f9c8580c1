import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startApp, wsExecute, type TestApp, untilSubscribed } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { untilBoard } from '../support/boards';
import { collect, type Collector } from '../support/ws';

/**
 * Live boards, balances and stats over graphql-ws, across two instances that share the
 * database, Redis namespace and clock: subscribers sit on instance B, postings go through A.
 * Every test moves the clock to a week of its own, so its WEEKLY board holds only its members.
 */

const COALESCE_MS = 500;
const STATS_INTERVAL_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const LEADERBOARD_CHANGED = `subscription($period: LeaderboardPeriod, $first: Int) {
  leaderboardChanged(period: $period, first: $first) { period totalMembers entries { rank score member { id nickname tierLevel } } }
}`;
const BALANCE_CHANGED = 'subscription { balanceChanged { memberId balance delta entry { type delta } } }';
const STATS_UPDATED = 'subscription { programStatsUpdated { members activeMembers30d outstandingPoints pointsIssued30d redemptionRate at } }';

interface BoardValue {
  period: string;
  totalMembers: number;
  entries: { rank: number; score: number; member: { id: string; nickname: string; tierLevel: number } }[];
}

/** Waits until a member's balance channel is subscribed in Redis, so nothing published after is missed. */
async function balanceFeed(api: TestApp, member: CreatedMember): Promise<Collector<any>> {
  const feed = collect<any>(api.ws(member.token), BALANCE_CHANGED, {}, 'balanceChanged');
  await untilSubscribed(api, `BALANCE:${member.id}`);
  return feed;
}

async function earnOk(api: TestApp, memberId: string, amount: string) {
  const res = await earn(api, memberId, amount);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.earnPoints;
}

async function weeklyBoard(api: TestApp, first: number) {
  return (await api.ok(`query($first: Int) { leaderboard(period: WEEKLY, first: $first) { totalMembers entries { rank score member { id nickname tierLevel } } } }`, { first })).leaderboard as Omit<
    BoardValue,
    'period'
  >;
}

/** Opens a raw graphql-transport-ws socket and resolves with its close code and the time it took. */
function rawSocket(api: TestApp, onOpen: (socket: WebSocket) => void = () => {}): Promise<{ code: number; reason: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = new WebSocket(api.wsUrl, 'graphql-transport-ws');
    socket.on('open', () => onOpen(socket));
    socket.on('error', reject);
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString(), ms: Date.now() - started }));
  });
}

describe('realtime: leaderboards, balances and stats over graphql-ws', async () => {
  const env = { LEADERBOARD_COALESCE_MS: String(COALESCE_MS), STATS_INTERVAL_MS: String(STATS_INTERVAL_MS) };
  const api = await startApp({ env });
  const apiB = await startApp({ sharing: api, env });

  it('leaderboardChanged and balanceChanged subscribed on instance B receive an earning posted through instance A', async () => {
    api.clock.set('2026-03-09T02:00:00Z');
    const m = await createMember(api, { nickname: '跨实例' });
    const board = collect<BoardValue>(apiB.ws(m.token), LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 5 }, 'leaderboardChanged');
    expect(await board.nth(1)).toEqual({ period: 'WEEKLY', totalMembers: 0, entries: [] });
    const balance = await balanceFeed(apiB, m);

    const started = Date.now();
    await earnOk(api, m.id, '120');
    expect(await balance.nth(1, 3000)).toMatchObject({ memberId: m.id, balance: 120, delta: 120, entry: { type: 'PURCHASE', delta: 120 } });
    expect(await board.nth(2, 5000)).toEqual({
      period: 'WEEKLY',
      totalMembers: 1,
      entries: [{ rank: 1, score: 120, member: { id: m.id, nickname: '跨实例', tierLevel: 1 } }],
    });
    // Coalesced: the push waits out the window, but not much longer.
    expect(board.receivedAt[1] - started).toBeGreaterThanOrEqual(COALESCE_MS - 50);
    expect(board.receivedAt[1] - started).toBeLessThan(COALESCE_MS + 4000);
    expect([...board.errors, ...balance.errors]).toEqual([]);
    board.dispose();
    balance.dispose();
    await expectReconciled(api);
  });

  it('coalesces a burst: 20 quick earnings give a few pushes, the last one equal to the final board', async () => {
    api.clock.set('2026-03-16T02:00:00Z');
    const members = await Promise.all(Array.from({ length: 10 }, () => createMember(api)));
    const watcher = members[0];
    const board = collect<BoardValue>(apiB.ws(watcher.token), LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 20 }, 'leaderboardChanged');
    expect((await board.nth(1)).entries).toEqual([]);

    const burstStarted = Date.now();
    await Promise.all(members.flatMap((m, i) => [earnOk(api, m.id, String(10 + i)), earnOk(api, m.id, String(100 + 7 * i))]));
    const burstMs = Date.now() - burstStarted;
    // Wait for the push that shows all ten members' points.
    const total = (value: BoardValue) => value.entries.reduce((sum, e) => sum + e.score, 0);
    let final = 2;
    while (total(await board.nth(final, 8000)) < 1460) final++;
    const current = await weeklyBoard(api, 20);
    // Sentinel: an 11th member's earning is pushed after anything the burst still had coming.
    const late = await createMember(api);
    await earnOk(api, late.id, '5000');
    let sentinel = final + 1;
    while (!(await board.nth(sentinel, 8000)).entries.some((e) => e.member.id === late.id)) sentinel++;
    expect(sentinel, 'a push after the final board, before the sentinel').toBe(final + 1);
    const pushes = board.events.slice(1, final);
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    // At most one push per coalescing window while the burst lasts (it takes well under a second
    // on an idle machine: 1 or 2 pushes), never one per earning.
    expect(pushes.length).toBeLessThanOrEqual(Math.max(4, Math.ceil(burstMs / COALESCE_MS) + 2));
    expect(pushes.length).toBeLessThan(10);
    const last = pushes.at(-1)!;
    expect(last.totalMembers).toBe(10);
    expect(last.entries.map((e) => [e.rank, e.score, e.member.id])).toEqual(current.entries.map((e) => [e.rank, e.score, e.member.id]));
    // Member i earned (10 + i) + (100 + 7i) = 110 + 8i.
    expect(last.entries.map((e) => e.score)).toEqual(Array.from({ length: 10 }, (_, i) => 182 - 8 * i));
    expect(board.errors).toEqual([]);
    board.dispose();
    await expectReconciled(api);
  });

  it('pushes only when the top `first` changed: an earning outside the top sends nothing', async () => {
    api.clock.set('2026-03-23T02:00:00Z');
    const [p1, p2, p3] = await Promise.all([1, 2, 3, 4].map((i) => createMember(api, { nickname: `P${i}` })));
    await earnOk(api, p1.id, '1000');
    await earnOk(api, p2.id, '900');
    await earnOk(api, p3.id, '100');
    await untilBoard(apiB, 'WEEKLY', (board) => board.totalMembers >= 3);
    const top2 = collect<BoardValue>(apiB.ws(p1.token), LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 2 }, 'leaderboardChanged');
    const top3 = collect<BoardValue>(apiB.ws(p2.token), LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 3 }, 'leaderboardChanged');
    expect((await top2.nth(1)).entries.map((e) => [e.member.nickname, e.score])).toEqual([
      ['P1', 1000],
      ['P2', 900],
    ]);
    expect((await top3.nth(1)).entries.map((e) => e.score)).toEqual([1000, 900, 100]);

    // P3 (3rd) earns: the top 3 changed, the top 2 did not.
    await earnOk(api, p3.id, '10');
    expect((await top3.nth(2, 5000)).entries.map((e) => e.score)).toEqual([1000, 900, 110]);

    // P3 overtakes everyone: both change. This push is also top2's sentinel: computed after the
    // one top3 just received, it is read second only if that computation sent top2 nothing.
    await earnOk(api, p3.id, '2000');
    expect((await top2.nth(2, 5000)).entries.map((e) => [e.rank, e.member.nickname, e.score])).toEqual([
      [1, 'P3', 2110],
      [2, 'P1', 1000],
    ]);
    expect((await top3.nth(3, 5000)).entries.map((e) => e.score)).toEqual([2110, 1000, 900]);
    expect([...top2.errors, ...top3.errors]).toEqual([]);
    top2.dispose();
    top3.dispose();
    await expectReconciled(api);
  });

  it('pushes nothing when a new member enters below the top `first`', async () => {
    api.clock.set('2026-03-30T02:00:00Z');
    const [q1, q2, q3] = await Promise.all([1, 2, 3].map((i) => createMember(api, { nickname: `Q${i}` })));
    await earnOk(api, q1.id, '500');
    await earnOk(api, q2.id, '400');
    await untilBoard(apiB, 'WEEKLY', (board) => board.totalMembers >= 2);
    const top2 = collect<BoardValue>(apiB.ws(q1.token), LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 2 }, 'leaderboardChanged');
    // A witness of the whole board, on the same instance: its push shows the computation ran.
    const witness = collect<BoardValue>(apiB.ws(q2.token), LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 10 }, 'leaderboardChanged');
    expect((await top2.nth(1)).totalMembers).toBe(2);
    expect((await witness.nth(1)).totalMembers).toBe(2);
    await earnOk(api, q3.id, '10');
    expect((await witness.nth(2)).totalMembers).toBe(3);
    // Sentinel: Q1's earning changes the top 2 in a later computation; read second only if the one
    // that saw Q3 enter sent top2 nothing.
    await earnOk(api, q1.id, '1');
    expect((await top2.nth(2)).entries.map((e) => [e.member.nickname, e.score])).toEqual([
      ['Q1', 501],
      ['Q2', 400],
    ]);
    expect((await weeklyBoard(api, 10)).totalMembers).toBe(3);
    expect([...top2.errors, ...witness.errors]).toEqual([]);
    top2.dispose();
    witness.dispose();
    await expectReconciled(api);
  });

  it("isolation: a member's balanceChanged carries only their own events", async () => {
    const x = await createMember(api);
    const y = await createMember(api);
    const xs = await balanceFeed(apiB, x);
    const ys = await balanceFeed(apiB, y);
    // Each earning is the other stream's sentinel: both are published on instance A's one publishing
    // connection, in order, so an event that leaked into the wrong stream would be read first there.
    await earnOk(api, y.id, '30');
    expect(await ys.nth(1, 3000)).toMatchObject({ memberId: y.id, delta: 30 });
    await earnOk(api, x.id, '40');
    expect(await xs.nth(1, 3000)).toMatchObject({ memberId: x.id, delta: 40 });
    await earnOk(api, y.id, '5');
    expect(await ys.nth(2, 3000)).toMatchObject({ memberId: y.id, delta: 5 });
    expect(xs.events.slice(0, 1).map((e) => e.memberId)).toEqual([x.id]);
    expect(ys.events.slice(0, 2).map((e) => e.memberId)).toEqual([y.id, y.id]);
    // There is no way to name another member's stream.
    const res = await wsExecute(apiB.ws(x.token), `subscription($id: ID!) { balanceChanged(memberId: $id) { memberId } }`, { id: y.id });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
    xs.dispose();
    ys.dispose();
    await expectReconciled(api);
  });

  it('programStatsUpdated: admins get stats on subscribing and after the ledger moves, at most once per STATS_INTERVAL_MS; members and partners get FORBIDDEN', async () => {
    const m = await createMember(api);
    const stats = collect<any>(apiB.ws(tokens.admin()), STATS_UPDATED, {}, 'programStatsUpdated');
    const first = await stats.nth(1);
    expect(first).toMatchObject({ members: expect.any(Number), outstandingPoints: expect.any(String), at: api.clock.now().toISOString() });
    const query = (await api.ok(`{ programStats { members outstandingPoints pointsIssued30d } }`)).programStats;
    expect(query).toMatchObject({ members: first.members, outstandingPoints: first.outstandingPoints });

    // The ledger moves for ~2.5 s, one earning every ~100 ms.
    const started = Date.now();
    let points = 0;
    while (Date.now() - started < 2500) {
      points += (await earnOk(api, m.id, '7')).points;
      api.clock.advance(3_600_000); // no hourly earning limit in the way
      await sleep(100);
    }
    const movedFor = Date.now() - started;
    const expected = BigInt(first.outstandingPoints) + BigInt(points);
    // Woken by the push that shows every earning (a bound, not a sleep); it must be the last one.
    await stats.until((e) => BigInt(e.outstandingPoints) === expected, STATS_INTERVAL_MS + 5000);
    expect(stats.events.at(-1)!.outstandingPoints).toBe(String(expected));
    const pushes = stats.events.slice(1);
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    expect(pushes.length).toBeLessThanOrEqual(Math.ceil(movedFor / STATS_INTERVAL_MS) + 2);
    // Recomputations start at least STATS_INTERVAL_MS apart; arrivals jitter by the computation's time.
    for (let i = 2; i < stats.events.length; i++) expect(stats.receivedAt[i] - stats.receivedAt[i - 1]).toBeGreaterThan(STATS_INTERVAL_MS * 0.5);
    expect(stats.errors).toEqual([]);
    stats.dispose();

    for (const token of [m.token]) {
      const res = await Promise.race([wsExecute(apiB.ws(token), STATS_UPDATED), sleep(5000).then(() => ({ timeout: true }) as any)]);
      expect(res.timeout).toBeUndefined();
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await api.code(`{ programStats { members } }`, {}, m.token)).toBe('FORBIDDEN');
    await expectReconciled(api);
  });

  describe('socket hygiene', async () => {
    const hy = await startApp({ env: { WS_INIT_TIMEOUT_MS: '300' } });

    it('a socket that never sends connection_init is closed with 4408 after WS_INIT_TIMEOUT_MS', async () => {
      const closed = await rawSocket(hy);
      expect(closed.code).toBe(4408);
      expect(closed.ms).toBeGreaterThanOrEqual(250);
      expect(closed.ms).toBeLessThan(5000);
    });

    it('connection_init without a token, or with a bad one, is closed with 4403', async () => {
      const none = await rawSocket(hy, (s) => s.send(JSON.stringify({ type: 'connection_init' })));
      expect(none.code).toBe(4403);
      const empty = await rawSocket(hy, (s) => s.send(JSON.stringify({ type: 'connection_init', payload: {} })));
      expect(empty.code).toBe(4403);
      const bad = await rawSocket(hy, (s) => s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-jwt' } })));
      expect(bad.code).toBe(4403);
      const expired = tokens.raw({ role: 'admin', sub: 'a', exp: Math.floor(Date.now() / 1000) - 60 }, undefined, { issuer: 'loyalty-bff', audience: 'loyalty-api' });
      const late = await rawSocket(hy, (s) => s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${expired}` } })));
      expect(late.code).toBe(4403);
    });

    it('20 subscriptions on one socket work; the 21st is refused with LIMIT_EXCEEDED until one completes', async () => {
      const m = await createMember(hy);
      const client = hy.ws(m.token);
      const feeds = Array.from({ length: 20 }, (_, i) => collect<BoardValue>(client, LEADERBOARD_CHANGED, { period: i % 2 ? 'WEEKLY' : 'ALL_TIME', first: 1 + i }, 'leaderboardChanged'));
      await Promise.all(feeds.map((f) => f.nth(1)));
      const refused = collect<BoardValue>(client, LEADERBOARD_CHANGED, { period: 'MONTHLY', first: 3 }, 'leaderboardChanged');
      // Woken by the refusal itself (the subscription's error), not by polling for it.
      expect(JSON.stringify(await refused.failure())).toContain('LIMIT_EXCEEDED');
      expect(refused.events).toEqual([]);
      // The socket stays up and the 20 stay live; completing one frees a place.
      feeds[0].dispose();
      // The completion reaches the server on its own schedule: retry until the place is free.
      let next: Collector<BoardValue> | undefined;
      await vi.waitFor(
        async () => {
          next?.dispose();
          next = collect<BoardValue>(client, LEADERBOARD_CHANGED, { period: 'MONTHLY', first: 3 }, 'leaderboardChanged');
          expect((await next.nth(1)).period).toBe('MONTHLY');
        },
        { timeout: 5000, interval: 20 },
      );
      next = next!;
      expect(feeds.slice(1).flatMap((f) => f.errors)).toEqual([]);
      next.dispose();
      feeds.forEach((f) => f.dispose());
    });

    it('the depth and cost limits apply to subscriptions; bad arguments are BAD_USER_INPUT; the socket survives', async () => {
      const m = await createMember(hy);
      const client = hy.ws(m.token);
      // 30 levels deep: refused by the depth limit (10) before anything runs.
      let selection = 'id';
      for (let i = 0; i < 28; i++) selection = `member { ${selection} }`;
      const deep = await wsExecute(client, `subscription { leaderboardChanged { ${selection} } }`);
      expect(deep.data ?? null).toBeNull();
      expect(deep.errors, JSON.stringify(deep.errors)).toContainEqual(
        expect.objectContaining({ message: expect.stringMatching(/depth limit of 10 exceeded, found 30/), extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' } }),
      );
      const tooMany = await wsExecute(client, LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 101 });
      expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const none = await wsExecute(client, LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 0 });
      expect(none.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const ok = collect<BoardValue>(client, LEADERBOARD_CHANGED, { period: 'WEEKLY', first: 100 }, 'leaderboardChanged');
      expect((await ok.nth(1)).period).toBe('WEEKLY');
      ok.dispose();
    });
  });
});
