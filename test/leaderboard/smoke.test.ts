import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn } from '../support/ledger';
import { tokens } from '../support/tokens';

function nextEvent<T>(client: ReturnType<TestApp['ws']>, query: string, variables: Record<string, unknown> = {}) {
  const events: T[] = [];
  const waiters: ((value: T) => void)[] = [];
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        const data = value.data as T;
        const waiter = waiters.shift();
        if (waiter) waiter(data);
        else events.push(data);
      },
      error: (error) => console.error('subscription error', JSON.stringify(error)),
      complete: () => {},
    },
  );
  return { next: () => (events.length ? Promise.resolve(events.shift()!) : new Promise<T>((resolve) => waiters.push(resolve))), dispose };
}

describe('leaderboard smoke', async () => {
  const api = await startApp({ env: { LEADERBOARD_COALESCE_MS: '100' } });

  it('ranks members and pushes changes to subscribers on another instance', async () => {
    const [a, b, c] = await Promise.all([createMember(api, { nickname: 'A' }), createMember(api, { nickname: 'B' }), createMember(api, { nickname: 'C' })]);
    const other = await startApp({ sharing: api, env: { LEADERBOARD_COALESCE_MS: '100' } });
    const sub = nextEvent<any>(other.ws(a.token), `subscription { leaderboardChanged(period: WEEKLY, first: 2) { entries { rank score member { nickname } } totalMembers } }`);
    expect((await sub.next()).leaderboardChanged.entries).toEqual([]);
    await earn(api, a.id, '100');
    await earn(api, b.id, '200');
    await earn(api, c.id, '100');
    let pushed = (await sub.next()).leaderboardChanged;
    // Pushes are coalesced and sent only when the top 2 change: wait for B's 200 to lead.
    while (pushed.entries[0]?.score !== 200 || pushed.entries.length < 2) pushed = (await sub.next()).leaderboardChanged;
    expect(pushed.entries).toEqual([
      { rank: 1, score: 200, member: { nickname: 'B' } },
      { rank: 2, score: 100, member: expect.anything() },
    ]);
    const data = await api.ok(`{ leaderboard(period: ALL_TIME, first: 10) { entries { rank score member { id tierLevel } } totalMembers } }`);
    expect(data.leaderboard.entries.map((e: any) => e.rank)).toEqual([1, 2, 2]);
    const mine = await api.ok(`{ myRank(period: MONTHLY) { rank score topPercent pointsToNextRank } rankHistory(days: 3) { date rank } }`, {}, c.token);
    expect(mine.myRank).toEqual({ rank: 2, score: 100, topPercent: 66.7, pointsToNextRank: 100 });
    await api.app.jobs.runOnce();
    const history = await api.ok(`{ rankHistory(days: 3) { date rank } }`, {}, c.token);
    expect(history.rankHistory.map((p: any) => p.rank)).toEqual([null, null, 2]);
    const stats = await api.ok(`{ programStats { members outstandingPoints pointsIssued30d redemptionRate } }`, {}, tokens.admin());
    expect(stats.programStats).toMatchObject({ members: 3, outstandingPoints: '400', pointsIssued30d: '400' });
    sub.dispose();
  });

  it('rebuilds a board equal to the live one', async () => {
    const before = await api.app.redis.command.zrange('{lb:ALL_TIME}', 0, -1, 'WITHSCORES');
    await api.app.services.leaderboardRebuild.rebuildAll();
    expect(await api.app.redis.command.zrange('{lb:ALL_TIME}', 0, -1, 'WITHSCORES')).toEqual(before);
  });
});
