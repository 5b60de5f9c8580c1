import { describe, expect, it } from 'vitest';
import { startApp, untilSubscribed } from '../support/app';
import { createMember } from '../support/factories';
import { earn } from '../support/ledger';
import { PERIODS, boardKey } from '../../src/leaderboard/leaderboard.rules';
import { periodAt } from '../../src/platform/time';

/**
 * A process that dies between a commit and its after-commit work (balance push, board update)
 * loses those events. The ledger is the truth: boards found behind it are rebuilt, and a
 * balanceChanged subscriber starts from the current balance.
 */
describe('events lost between commit and publish', () => {
  it('a board missing increments (a crash before record()) is found behind the ledger and rebuilt', async () => {
    const api = await startApp();
    const member = await createMember(api);
    const posted = await earn(api, member.id, '88.00');
    expect(posted.errors).toBeUndefined();
    const points = posted.data.earnPoints.points as number;
    const board = `{ leaderboard(period: ALL_TIME, first: 10) { entries { member { id } score } } }`;
    await expect.poll(async () => (await api.ok(board)).leaderboard.entries.length).toBe(1);

    // Undo the board update as if the process had died right after the commit.
    const redis = api.app.redis.command;
    for (const kind of PERIODS) {
      const key = boardKey(periodAt(kind, api.clock.now(), api.app.config.timeZone));
      await redis.zincrby(key, -points, member.id);
      await redis.zremrangebyscore(key, 0, 0);
      await redis.incrby(`${key}:sum`, -points);
    }
    expect((await api.ok(board)).leaderboard.entries).toEqual([]);

    expect(await api.app.services.leaderboardRebuild.rebuildStale(10)).toEqual([...PERIODS]);
    expect((await api.ok(board)).leaderboard.entries).toEqual([{ member: { id: member.id }, score: points }]);
    // In step with the ledger again: nothing more to rebuild.
    expect(await api.app.services.leaderboardRebuild.rebuildStale(10)).toEqual([]);
  });

  it('a balanceChanged subscriber gets the current balance first (delta 0), then the postings', async () => {
    const api = await startApp();
    const member = await createMember(api);
    const first = await earn(api, member.id, '50.00');
    const balance = first.data.earnPoints.member.balance as number;

    const client = api.ws(member.token);
    const events: { balance: number; delta: number; entry: { id: string } }[] = [];
    client.subscribe<{ balanceChanged: (typeof events)[number] }>(
      { query: 'subscription { balanceChanged { balance delta entry { id } } }' },
      { next: (e) => void events.push(e.data!.balanceChanged), error: () => {}, complete: () => {} },
    );
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toEqual({ balance, delta: 0, entry: { id: first.data.earnPoints.entry.id } });

    await untilSubscribed(api, `BALANCE:${member.id}`);
    const second = await earn(api, member.id, '30.00');
    await expect.poll(() => events.length).toBe(2);
    expect(events[1]).toEqual({ balance: second.data.earnPoints.member.balance, delta: second.data.earnPoints.points, entry: { id: second.data.earnPoints.entry.id } });
  });

  it('a member with no posting yet gets no snapshot event, only the postings', async () => {
    const api = await startApp();
    const member = await createMember(api);
    const client = api.ws(member.token);
    const events: { delta: number }[] = [];
    client.subscribe<{ balanceChanged: { delta: number } }>(
      { query: 'subscription { balanceChanged { delta } }' },
      { next: (e) => void events.push(e.data!.balanceChanged), error: () => {}, complete: () => {} },
    );
    await untilSubscribed(api, `BALANCE:${member.id}`);
    const posted = await earn(api, member.id, '20.00');
    // The sentinel: the posting arrives, and it is the first event.
    await expect.poll(() => events.length).toBe(1);
    expect(events[0].delta).toBe(posted.data.earnPoints.points);
  });
});
