import { describe, expect, it, vi } from 'vitest';
import { startApp, type TestApp } from '../support/app';
import { untilBoard } from '../support/boards';
import { createMember, type CreatedMember } from '../support/factories';
import { adjust, earn, expectReconciled, newOrderId } from '../support/ledger';
import { tokens } from '../support/tokens';
import { boardKey } from '../../src/leaderboard/leaderboard.rules';
import { periodAt, type Period, type PeriodKind } from '../../src/platform/time';
import { prng } from '../../src/platform/random';

/**
 * Leaderboards through the real API: boards in Redis sorted sets per period (local weeks and
 * months, Asia/Shanghai), PostgreSQL as the truth. Every test moves the shared ManualClock to a
 * week of its own, so the WEEKLY board of that week holds only the test's own members; the
 * clock only ever moves forward through the file.
 */

const TZ = 'Asia/Shanghai';
const DAY_MS = 86_400_000;

const LEADERBOARD = `query($period: LeaderboardPeriod, $first: Int) {
  leaderboard(period: $period, first: $first) { period totalMembers updatedAt entries { rank score member { id nickname tierLevel } } }
}`;
const MY_RANK = `query($period: LeaderboardPeriod) { myRank(period: $period) { period rank score topPercent pointsToNextRank } }`;

interface Entry {
  rank: number;
  score: number;
  member: { id: string; nickname: string; tierLevel: number };
}
interface Board {
  period: PeriodKind;
  totalMembers: number;
  updatedAt: string;
  entries: Entry[];
}

async function board(api: TestApp, period: PeriodKind, first = 100, token: string = tokens.admin()): Promise<Board> {
  return (await api.ok(LEADERBOARD, { period, first }, token)).leaderboard;
}

async function myRank(api: TestApp, member: CreatedMember, period: PeriodKind) {
  return (await api.ok(MY_RANK, { period }, member.token)).myRank as { period: string; rank: number; score: number; topPercent: number; pointsToNextRank: number | null } | null;
}

/** For what no push of the feed announces (past periods' boards, a rebuild at start): polled. */
const polled = (check: () => Promise<void>, timeout = 5000) => vi.waitFor(check, { timeout, interval: 50 });

async function earnOk(api: TestApp, memberId: string, amount: string, orderId = newOrderId()): Promise<string> {
  const res = await earn(api, memberId, amount, { orderId });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.data.earnPoints.status).toBe('POSTED');
  return orderId;
}

async function reverse(api: TestApp, orderId: string, amount?: string) {
  return api.gql(
    `mutation($input: ReverseEarnInput!) { reverseEarn(input: $input) { pointsReversed shortfall entry { type delta } member { balance } } }`,
    { input: { orderId, reason: 'refund', amount } },
    tokens.admin(),
  );
}

/** Competition ranking ("1224"): rank = 1 + members with a strictly higher score; scores never increase down the board. */
function expectCompetitionRanks(entries: Entry[]) {
  entries.forEach((entry, i) => {
    if (i > 0) expect(entry.score).toBeLessThanOrEqual(entries[i - 1].score);
    expect(entry.rank).toBe(i > 0 && entry.score === entries[i - 1].score ? entries[i - 1].rank : i + 1);
  });
}

/** A board key's content, sorted by member, as [member, score] pairs. */
async function boardContent(api: TestApp, key: string): Promise<[string, number][]> {
  const flat = await api.app.redis.command.zrange(key, 0, -1, 'WITHSCORES');
  const pairs: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], Number(flat[i + 1])]);
  return pairs.sort(([a], [b]) => a.localeCompare(b));
}

const sortedPairs = (scores: Map<string, number>): [string, number][] => [...scores.entries()].sort(([a], [b]) => a.localeCompare(b));

describe('leaderboard boards', async () => {
  const api = await startApp({ env: { LEADERBOARD_COALESCE_MS: '100' } });

  /**
   * Boards are updated after commit, not before the mutation answers: runs `check` (assertions
   * through the API) when the feed first shows `period`'s board and again after each of its pushes
   * (untilBoard), until it passes. If none does, its last failure is the error.
   */
  const settled = async (period: PeriodKind, check: () => Promise<void>) => {
    let failure: unknown = null;
    const passes = async () => {
      try {
        await check();
        return true;
      } catch (error) {
        failure = error;
        return false;
      }
    };
    await untilBoard(api, period, passes).catch((timedOut: unknown) => {
      throw failure ?? timedOut;
    });
  };

  it('orders members by score with competition ranks, totalMembers, nickname and tier through the loader', async () => {
    // Monday 2026-04-06 10:00 local: a week no other test touches.
    api.clock.set('2026-04-06T02:00:00Z');
    const a = await createMember(api, { nickname: '甲' });
    const b = await createMember(api, { nickname: '乙' });
    const c = await createMember(api, { nickname: '丙' });
    const d = await createMember(api, { nickname: '丁' });
    const e = await createMember(api, { nickname: '戊' });
    const idle = await createMember(api, { nickname: '己' });
    await earnOk(api, a.id, '5000'); // 5000 points at level 1, then 金卡会员 (level 3)
    await earnOk(api, b.id, '1200'); // 1200, then level 2
    await earnOk(api, c.id, '1200');
    await earnOk(api, d.id, '300');
    await earnOk(api, e.id, '300');

    await settled('WEEKLY', async () => expect((await board(api, 'WEEKLY')).totalMembers).toBe(5));
    const weekly = await board(api, 'WEEKLY', 10);
    expect(weekly.period).toBe('WEEKLY');
    expect(weekly.totalMembers).toBe(5);
    expect(weekly.entries.map((x) => [x.rank, x.score, x.member.tierLevel])).toEqual([
      [1, 5000, 3],
      [2, 1200, 2],
      [2, 1200, 2],
      [4, 300, 1],
      [4, 300, 1],
    ]);
    expect(weekly.entries[0].member).toEqual({ id: a.id, nickname: '甲', tierLevel: 3 });
    expect(new Set(weekly.entries.slice(1, 3).map((x) => x.member.nickname))).toEqual(new Set(['乙', '丙']));
    expect(new Set(weekly.entries.slice(3).map((x) => x.member.id))).toEqual(new Set([d.id, e.id]));
    expect(weekly.entries.map((x) => x.member.id)).not.toContain(idle.id);
    expect(new Date(weekly.updatedAt).getTime()).toBe(api.clock.now().getTime());

    // `first` cuts the board (even inside a tie) but totalMembers counts every ranked member.
    const top3 = await board(api, 'WEEKLY', 3);
    expect(top3.entries.map((x) => x.rank)).toEqual([1, 2, 2]);
    expect(top3.totalMembers).toBe(5);
    const top2 = await board(api, 'WEEKLY', 2);
    expect(top2.entries.map((x) => [x.rank, x.score])).toEqual([
      [1, 5000],
      [2, 1200],
    ]);
    expect(top2.totalMembers).toBe(5);

    // Defaults: ALL_TIME, first 10; a member may read the board too.
    const defaults = (await api.ok(`{ leaderboard { period totalMembers entries { rank score member { id } } } }`, {}, d.token)).leaderboard;
    expect(defaults.period).toBe('ALL_TIME');
    expect(defaults.entries.length).toBeLessThanOrEqual(10);
    const allTime = await board(api, 'ALL_TIME', 100);
    expectCompetitionRanks(allTime.entries);
    expectCompetitionRanks((await board(api, 'MONTHLY', 100)).entries);
    const scoreOf = new Map(allTime.entries.map((x) => [x.member.id, x.score]));
    expect([a, b, c, d, e].map((m) => scoreOf.get(m.id))).toEqual([5000, 1200, 1200, 300, 300]);

    expect(await api.code(LEADERBOARD, { period: 'WEEKLY', first: 5 }, null)).toBe('UNAUTHENTICATED');
    await expectReconciled(api);
  });

  it('refuses first outside 1..100 and days outside 1..366 with BAD_USER_INPUT', async () => {
    const m = await createMember(api);
    for (const first of [0, -1, 101, 1000]) {
      expect(await api.code(LEADERBOARD, { period: 'ALL_TIME', first })).toBe('BAD_USER_INPUT');
    }
    expect((await board(api, 'ALL_TIME', 100)).entries.length).toBeLessThanOrEqual(100);
    expect((await board(api, 'WEEKLY', 1)).entries.length).toBeLessThanOrEqual(1);
    for (const days of [0, 367]) {
      expect(await api.code(`query($days: Int) { rankHistory(days: $days) { date rank } }`, { days }, m.token)).toBe('BAD_USER_INPUT');
    }
  });

  it('myRank: rank, score, topPercent, pointsToNextRank (null at rank 1), null when unranked', async () => {
    api.clock.set('2026-04-13T02:00:00Z');
    const [m1, m2, m3, m4, unranked] = await Promise.all([1, 2, 3, 4, 5].map(() => createMember(api)));
    await earnOk(api, m1.id, '800');
    await earnOk(api, m2.id, '500');
    await earnOk(api, m3.id, '500');
    await earnOk(api, m4.id, '100');
    await settled('WEEKLY', async () => expect(await myRank(api, m4, 'WEEKLY')).not.toBeNull());

    expect(await myRank(api, m1, 'WEEKLY')).toEqual({ period: 'WEEKLY', rank: 1, score: 800, topPercent: 25, pointsToNextRank: null });
    expect(await myRank(api, m2, 'WEEKLY')).toEqual({ period: 'WEEKLY', rank: 2, score: 500, topPercent: 50, pointsToNextRank: 300 });
    expect(await myRank(api, m3, 'WEEKLY')).toEqual({ period: 'WEEKLY', rank: 2, score: 500, topPercent: 50, pointsToNextRank: 300 });
    expect(await myRank(api, m4, 'WEEKLY')).toEqual({ period: 'WEEKLY', rank: 4, score: 100, topPercent: 100, pointsToNextRank: 400 });
    expect(await myRank(api, unranked, 'WEEKLY')).toBeNull();
    expect(await myRank(api, unranked, 'ALL_TIME')).toBeNull();
    expect(await myRank(api, unranked, 'MONTHLY')).toBeNull();

    // ALL_TIME (the default period) agrees with the board.
    const mine = (await api.ok(`{ myRank { period rank score topPercent pointsToNextRank } }`, {}, m4.token)).myRank;
    const allTime = await board(api, 'ALL_TIME', 100);
    const row = allTime.entries.find((x) => x.member.id === m4.id)!;
    expect(mine).toMatchObject({ period: 'ALL_TIME', rank: row.rank, score: 100 });
    expect(mine.topPercent).toBeCloseTo(Math.round((row.rank / allTime.totalMembers) * 1000) / 10, 5);
    expect(mine.pointsToNextRank).toBe(Math.min(...allTime.entries.filter((x) => x.score > 100).map((x) => x.score)) - 100);

    // myRank is the signed-in member's own: other roles are refused.
    expect(await api.code(MY_RANK, { period: 'WEEKLY' }, tokens.admin())).toBe('FORBIDDEN');
    await expectReconciled(api);
  });

  it('a reversal lowers a score and a full reversal removes the member; spending and positive adjustments do not move a rank', async () => {
    api.clock.set('2026-04-20T02:00:00Z');
    const r = await createMember(api, { nickname: 'R' });
    const s = await createMember(api, { nickname: 'S' });
    const t = await createMember(api, { nickname: 'T' });
    const r1 = await earnOk(api, r.id, '500');
    const r2 = await earnOk(api, r.id, '200');
    await earnOk(api, s.id, '600');
    await earnOk(api, t.id, '50');
    const weekly = async () => (await board(api, 'WEEKLY')).entries.map((x) => [x.member.nickname, x.rank, x.score]);
    await settled('WEEKLY', async () =>
      expect(await weekly()).toEqual([
        ['R', 1, 700],
        ['S', 2, 600],
        ['T', 3, 50],
      ]),
    );

    // A partial refund takes its share of the order's points off: R falls behind S.
    const partial = await reverse(api, r1, '300');
    expect(partial.errors).toBeUndefined();
    expect(partial.data.reverseEarn).toMatchObject({ pointsReversed: 300, shortfall: 0, entry: { type: 'REVERSAL', delta: -300 } });
    await settled('WEEKLY', async () =>
      expect(await weekly()).toEqual([
        ['S', 1, 600],
        ['R', 2, 400],
        ['T', 3, 50],
      ]),
    );
    expect(await myRank(api, r, 'WEEKLY')).toMatchObject({ rank: 2, score: 400, pointsToNextRank: 200 });
    expect(await myRank(api, r, 'MONTHLY')).toMatchObject({ score: 400 });
    expect(await myRank(api, r, 'ALL_TIME')).toMatchObject({ score: 400 });

    // Spending (a negative adjustment) does not lower S; a positive adjustment does not lift T.
    expect((await adjust(api, s.id, -550)).errors).toBeUndefined();
    expect((await adjust(api, t.id, 1000)).errors).toBeUndefined();
    // Sentinel: U's earning, posted after the adjustments, reaches the boards through the same
    // after-commit path and Redis connection, so a (wrong) update from them would land first.
    const u = await createMember(api, { nickname: 'U' });
    await earnOk(api, u.id, '10');
    await settled('WEEKLY', async () => expect((await weekly()).map((row) => row[0])).toContain('U'));
    expect(await weekly()).toEqual([
      ['S', 1, 600],
      ['R', 2, 400],
      ['T', 3, 50],
      ['U', 4, 10],
    ]);
    expect(await myRank(api, s, 'ALL_TIME')).toMatchObject({ score: 600 });
    expect(await myRank(api, t, 'ALL_TIME')).toMatchObject({ score: 50 });

    // Refunding the rest of both orders takes R to 0: off every board, unranked.
    expect((await reverse(api, r1)).data.reverseEarn.pointsReversed).toBe(200);
    expect((await reverse(api, r2)).data.reverseEarn.pointsReversed).toBe(200);
    await settled('WEEKLY', async () =>
      expect(await weekly()).toEqual([
        ['S', 1, 600],
        ['T', 2, 50],
        ['U', 3, 10],
      ]),
    );
    expect((await board(api, 'WEEKLY')).totalMembers).toBe(3);
    for (const period of ['WEEKLY', 'MONTHLY', 'ALL_TIME'] as const) {
      expect(await myRank(api, r, period)).toBeNull();
      expect((await board(api, period)).entries.map((x) => x.member.id)).not.toContain(r.id);
    }
    await expectReconciled(api);
  });

  it('weekly boards turn over at Monday 00:00 local (Sunday 16:00 UTC); ALL_TIME keeps both; old boards expire after the retention', async () => {
    // Sunday 2026-05-10 23:59 in Shanghai, still week 2026-W19.
    api.clock.set('2026-05-10T15:59:00Z');
    const w = await createMember(api);
    await earnOk(api, w.id, '100');
    await settled('WEEKLY', async () => expect(await myRank(api, w, 'WEEKLY')).toMatchObject({ score: 100 }));
    expect(await api.app.redis.command.zscore('{lb:WEEKLY:2026-W19}', w.id)).toBe('100');
    // The board of a finished period lives LEADERBOARD_RETENTION_DAYS (90) past its end; ALL_TIME never expires.
    const weekEnd = new Date('2026-05-10T16:00:00Z').getTime();
    const ttl = await api.app.redis.command.pttl('{lb:WEEKLY:2026-W19}');
    expect(ttl).toBeGreaterThan(weekEnd + 90 * DAY_MS - api.clock.now().getTime() - 10_000);
    expect(ttl).toBeLessThanOrEqual(weekEnd + 90 * DAY_MS - api.clock.now().getTime());
    expect(await api.app.redis.command.pttl('{lb:ALL_TIME}')).toBe(-1);

    // Monday 00:00 local: UTC is still Sunday, but this is week 2026-W20.
    api.clock.set('2026-05-10T16:00:00Z');
    expect(await myRank(api, w, 'WEEKLY')).toBeNull();
    expect(await myRank(api, w, 'MONTHLY')).toMatchObject({ score: 100 });
    await earnOk(api, w.id, '40');
    await settled('WEEKLY', async () => expect(await myRank(api, w, 'WEEKLY')).toMatchObject({ rank: 1, score: 40 }));
    expect(await myRank(api, w, 'MONTHLY')).toMatchObject({ score: 140 });
    expect(await myRank(api, w, 'ALL_TIME')).toMatchObject({ score: 140 });
    expect(await api.app.redis.command.zscore('{lb:WEEKLY:2026-W19}', w.id)).toBe('100');
    expect(await api.app.redis.command.zscore('{lb:WEEKLY:2026-W20}', w.id)).toBe('40');
    expect((await board(api, 'WEEKLY')).entries.map((x) => [x.member.id, x.score])).toEqual([[w.id, 40]]);
    await expectReconciled(api);
  });

  it('monthly boards turn over at the 1st, 00:00 local; the week goes on; ALL_TIME keeps both', async () => {
    // Tuesday 2026-06-30 23:59 local (week 2026-W27 runs Monday 06-29 to Sunday 07-05).
    api.clock.set('2026-06-30T15:59:00Z');
    const v = await createMember(api);
    await earnOk(api, v.id, '70');
    await settled('MONTHLY', async () => expect(await myRank(api, v, 'MONTHLY')).toMatchObject({ score: 70 }));

    // 2026-07-01 00:00 local = 2026-06-30 16:00 UTC.
    api.clock.set('2026-06-30T16:00:00Z');
    expect(await myRank(api, v, 'MONTHLY')).toBeNull();
    expect(await myRank(api, v, 'WEEKLY')).toMatchObject({ score: 70 });
    await earnOk(api, v.id, '30');
    await settled('MONTHLY', async () => expect(await myRank(api, v, 'MONTHLY')).toMatchObject({ rank: 1, score: 30 }));
    expect(await myRank(api, v, 'WEEKLY')).toMatchObject({ score: 100 });
    expect(await myRank(api, v, 'ALL_TIME')).toMatchObject({ score: 100 });
    expect(await api.app.redis.command.zscore('{lb:MONTHLY:2026-06}', v.id)).toBe('70');
    expect(await api.app.redis.command.zscore('{lb:MONTHLY:2026-07}', v.id)).toBe('30');
    expect(await api.app.redis.command.zscore('{lb:WEEKLY:2026-W27}', v.id)).toBe('100');
    await expectReconciled(api);
  });

  it('REWARD credits (the daily check-in) count like purchases', async () => {
    // Monday 2026-07-13, a week of its own.
    api.clock.set('2026-07-13T02:00:00Z');
    const u = await createMember(api);
    const checkIn = async () => (await api.ok(`mutation { checkIn { pointsAwarded } }`, {}, u.token)).checkIn.pointsAwarded as number;
    const first = await checkIn();
    api.clock.set('2026-07-14T02:00:00Z');
    const second = await checkIn();
    expect(first).toBeGreaterThan(0);
    await settled('WEEKLY', async () => expect(await myRank(api, u, 'WEEKLY')).toMatchObject({ rank: 1, score: first + second }));
    await earnOk(api, u.id, '10');
    await settled('WEEKLY', async () => expect(await myRank(api, u, 'WEEKLY')).toMatchObject({ score: first + second + 10 }));
    await expectReconciled(api);
  });

  it('rankHistory: one point per local day from the daily snapshot job, null before ranked and on days without a snapshot', async () => {
    const HISTORY = `query($period: LeaderboardPeriod, $days: Int) { rankHistory(period: $period, days: $days) { date rank } }`;
    // Monday 2026-08-03 10:00 local.
    api.clock.set('2026-08-03T02:00:00Z');
    const h = await createMember(api);
    const k = await createMember(api);
    await api.app.jobs.runOnce(); // day 1: h has earned nothing
    api.clock.set('2026-08-04T02:00:00Z');
    await earnOk(api, h.id, '100');
    await settled('WEEKLY', async () => expect(await myRank(api, h, 'WEEKLY')).toMatchObject({ rank: 1 }));
    await api.app.jobs.runOnce(); // day 2: first on the week
    const allTimeDay2 = (await myRank(api, h, 'ALL_TIME'))!.rank;
    api.clock.set('2026-08-05T02:00:00Z');
    await earnOk(api, k.id, '300');
    await settled('WEEKLY', async () => expect(await myRank(api, h, 'WEEKLY')).toMatchObject({ rank: 2 }));
    await api.app.jobs.runOnce(); // day 3: k overtook h
    api.clock.set('2026-08-06T02:00:00Z'); // day 4: the job did not run
    api.clock.set('2026-08-07T02:00:00Z');
    await api.app.jobs.runOnce();
    await api.app.jobs.runOnce(); // re-running a day overwrites it
    const allTimeDay5 = (await myRank(api, h, 'ALL_TIME'))!.rank;

    const weekly = (await api.ok(HISTORY, { period: 'WEEKLY', days: 5 }, h.token)).rankHistory;
    expect(weekly).toEqual([
      { date: '2026-08-03', rank: null },
      { date: '2026-08-04', rank: 1 },
      { date: '2026-08-05', rank: 2 },
      { date: '2026-08-06', rank: null },
      { date: '2026-08-07', rank: 2 },
    ]);
    const allTime = (await api.ok(`query { rankHistory(days: 5) { date rank } }`, {}, h.token)).rankHistory;
    expect(allTime.map((p: { rank: number | null }) => p.rank)).toEqual([null, allTimeDay2, expect.any(Number), null, allTimeDay5]);
    expect((await api.ok(HISTORY, { period: 'WEEKLY', days: 2 }, k.token)).rankHistory).toEqual([
      { date: '2026-08-06', rank: null },
      { date: '2026-08-07', rank: 1 },
    ]);
    // Default: the last 7 local days, oldest first, ending today.
    const week = (await api.ok(`{ rankHistory { date } }`, {}, h.token)).rankHistory.map((p: { date: string }) => p.date);
    expect(week).toEqual(['2026-08-01', '2026-08-02', '2026-08-03', '2026-08-04', '2026-08-05', '2026-08-06', '2026-08-07']);
    // Days are local: 2026-08-07 16:30 UTC is already the 8th in Shanghai.
    api.clock.set('2026-08-07T16:30:00Z');
    expect((await api.ok(HISTORY, { period: 'WEEKLY', days: 1 }, h.token)).rankHistory).toEqual([{ date: '2026-08-08', rank: null }]);
    await expectReconciled(api);
  });

  it("a refund posted in a later week counts in that week: the week's net is the ledger's sum, live and rebuilt alike", async () => {
    // Earned in week 2026-W35 (August); refunded in W36 (September), then earning again there.
    api.clock.set('2026-08-26T02:00:00Z');
    const x = await createMember(api);
    const order = await earnOk(api, x.id, '100');
    api.clock.set('2026-09-01T02:00:00Z');
    expect((await reverse(api, order)).data.reverseEarn.pointsReversed).toBe(100);
    await earnOk(api, x.id, '50');
    const service = api.app.services.leaderboard;
    const rebuild = api.app.services.leaderboardRebuild;
    const kinds = ['ALL_TIME', 'MONTHLY', 'WEEKLY'] as PeriodKind[];
    const state = async () => ({
      live: await Promise.all(kinds.map(async (kind) => Number(await api.app.redis.command.zscore(boardKey(service.periodNow(kind)), x.id)))),
      ledger: await Promise.all(kinds.map(async (kind) => (await rebuild.scoresFromLedger(service.periodNow(kind))).get(x.id) ?? 0)),
      shown: await Promise.all(kinds.map(async (kind) => (await myRank(api, x, kind))?.score ?? null)),
    });
    // This week and month: 50 earned - 100 refunded = -50, so x is not ranked there; ALL_TIME: 50.
    const expected = { live: [50, -50, -50], ledger: [50, -50, -50], shown: [50, null, null] };
    // Woken by ALL_TIME's pushes: x leaves the week's and the month's boards unranked, which no push shows.
    await settled('ALL_TIME', async () => expect(await state()).toEqual(expected));
    await rebuild.rebuildAll();
    expect(await state()).toEqual(expected);
    for (const kind of ['MONTHLY', 'WEEKLY'] as const) expect((await board(api, kind)).entries.map((e) => e.member.id)).not.toContain(x.id);
    // Earning on adds up from the ledger's net, not from 0.
    await earnOk(api, x.id, '80');
    const after = { live: [130, 30, 30], ledger: [130, 30, 30], shown: [130, 30, 30] };
    await settled('WEEKLY', async () => expect(await state()).toEqual(after));
    await rebuild.rebuildAll();
    expect(await state()).toEqual(after);
    // The earlier week keeps what was earned in it.
    expect(await api.app.redis.command.zscore('{lb:WEEKLY:2026-W35}', x.id)).toBe('100');
    await expectReconciled(api);
  });

  it('rebuild from the ledger equals the live boards after a random history (earnings, check-ins, partial and full refunds, spending, adjustments, weeks and months passing)', async () => {
    const seed = Number(process.env.LEADERBOARD_SEED ?? 20260901);
    const random = prng(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    api.clock.set('2026-09-01T02:00:00Z');
    const members = await Promise.all(Array.from({ length: 6 }, () => createMember(api)));
    const orders: { id: string; amount: number; refunded: number }[] = [];
    const periods = new Map<string, Period>();
    const note = () => {
      for (const kind of ['ALL_TIME', 'MONTHLY', 'WEEKLY'] as PeriodKind[]) {
        const period = periodAt(kind, api.clock.now(), TZ);
        periods.set(boardKey(period), period);
      }
    };
    const counts: Record<string, number> = {};
    for (let step = 0; step < 140; step++) {
      note();
      const roll = random();
      const member = pick(members);
      let outcome: string;
      if (roll < 0.45 || orders.length === 0) {
        const amount = Math.floor(random() * 250000) / 100 + 1; // 1.00 .. 2501.00
        const orderId = newOrderId();
        const res = await earn(api, member.id, amount.toFixed(2), { orderId });
        outcome = res.errors ? res.errors[0].extensions!.code! : 'EARN';
        if (!res.errors) orders.push({ id: orderId, amount, refunded: 0 });
      } else if (roll < 0.65) {
        const open = orders.filter((o) => o.refunded < o.amount - 0.001);
        if (open.length === 0) continue;
        const order = pick(open);
        const full = random() < 0.4;
        const amount = full ? order.amount - order.refunded : Math.max(0.01, Math.floor(random() * (order.amount - order.refunded) * 100) / 100);
        const res = await reverse(api, order.id, full ? undefined : amount.toFixed(2));
        outcome = res.errors ? res.errors[0].extensions!.code! : 'REVERSE';
        if (!res.errors) order.refunded += amount;
      } else if (roll < 0.72) {
        const res = await api.gql(`mutation { checkIn { pointsAwarded } }`, {}, member.token);
        outcome = res.errors ? res.errors[0].extensions!.code! : 'REWARD';
      } else if (roll < 0.87) {
        const res = await adjust(api, member.id, -(1 + Math.floor(random() * 800)));
        outcome = res.errors ? res.errors[0].extensions!.code! : 'SPEND';
      } else {
        const res = await adjust(api, member.id, 1 + Math.floor(random() * 300));
        outcome = res.errors ? res.errors[0].extensions!.code! : 'ADJUST';
      }
      expect(['EARN', 'REVERSE', 'REWARD', 'SPEND', 'ADJUST', 'ALREADY_DONE', 'INSUFFICIENT_POINTS', 'RATE_LIMITED']).toContain(outcome);
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      // 0 to 20 hours pass: the history spans several local weeks and a month turnover.
      if (random() < 0.7) api.clock.advance(Math.floor(random() * 20 * 3_600_000));
    }
    note();
    expect(counts.EARN).toBeGreaterThan(20);
    expect(counts.REVERSE).toBeGreaterThan(5);
    expect(counts.REWARD).toBeGreaterThan(2);
    expect(periods.size).toBeGreaterThan(5);

    // Every board the history touched (past periods too) equals the ledger's scores of its period.
    const live = new Map<string, [string, number][]>();
    // Polled: past periods have no feed, and the history's last operation need not change a current top 100.
    await polled(async () => {
      for (const [key, period] of periods) {
        live.set(key, await boardContent(api, key));
        expect(live.get(key), `${key} (seed ${seed})`).toEqual(sortedPairs(await api.app.services.leaderboardRebuild.scoresFromLedger(period)));
      }
    });

    // Rebuilding the current boards gives back exactly the live ones.
    const service = api.app.services.leaderboard;
    const rebuild = api.app.services.leaderboardRebuild;
    const current = (['ALL_TIME', 'MONTHLY', 'WEEKLY'] as PeriodKind[]).map((kind) => boardKey(service.periodNow(kind)));
    const before = await Promise.all(current.map((key) => api.app.redis.command.zrange(key, 0, -1, 'WITHSCORES')));
    expect(before[0].length).toBeGreaterThan(0);
    await rebuild.rebuildAll();
    const after = await Promise.all(current.map((key) => api.app.redis.command.zrange(key, 0, -1, 'WITHSCORES')));
    expect(after).toEqual(before);
    // And so do past periods.
    for (const [key, period] of periods) {
      if (period.start) await rebuild.rebuild(period.kind, period.start);
      expect(await boardContent(api, key), key).toEqual(live.get(key));
    }
    await expectReconciled(api);
  });

  it('a board missing from Redis is rebuilt from the ledger when an instance starts', async () => {
    const service = api.app.services.leaderboard;
    const keys = (['ALL_TIME', 'MONTHLY', 'WEEKLY'] as PeriodKind[]).map((kind) => boardKey(service.periodNow(kind)));
    const m = await createMember(api);
    await earnOk(api, m.id, '321');
    await settled('WEEKLY', async () => expect(await myRank(api, m, 'WEEKLY')).toMatchObject({ score: 321 }));
    const before = await Promise.all(keys.map((key) => boardContent(api, key)));
    const boardBefore = await board(api, 'ALL_TIME');

    // Redis lost the boards (flushed, failed over to an empty replica...).
    await api.app.redis.command.del(...keys.flatMap((key) => [key, `${key}:at`]));
    expect(await api.app.redis.command.exists(...keys)).toBe(0);

    const other = await startApp({ sharing: api, env: { LEADERBOARD_COALESCE_MS: '100' } });
    // Polled: the catch-up at start (LeaderboardRebuild.rebuildMissing) tells no client when it is done.
    await polled(async () => expect(await Promise.all(keys.map((key) => boardContent(api, key)))).toEqual(before));
    const boardAfter = await board(other, 'ALL_TIME');
    expect(boardAfter.entries).toEqual(boardBefore.entries);
    expect(boardAfter.totalMembers).toBe(boardBefore.totalMembers);
    expect(await myRank(other, m, 'WEEKLY')).toMatchObject({ score: 321 });
    await other.stop();
    await expectReconciled(api);
  });
});
