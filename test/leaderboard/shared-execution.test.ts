import { describe, expect, it, vi } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn } from '../support/ledger';
import { collect } from '../support/ws';
import { LeaderboardResolver } from '../../src/leaderboard/leaderboard.resolver';

describe('subscription fan-out', async () => {
  const api = await startApp({ env: { LEADERBOARD_COALESCE_MS: '50' } });

  it('executes an identical selection once per event, however many subscribers share it', async () => {
    const members = await Promise.all(Array.from({ length: 4 }, () => createMember(api)));
    const query = 'subscription { leaderboardChanged(period: ALL_TIME, first: 5) { entries { rank score member { id } } } }';
    const feeds = members.map((m) => collect(api.ws(m.token), query, {}, 'leaderboardChanged'));
    // The current board first: every subscription is then registered.
    await Promise.all(feeds.map((f) => f.next(5000)));
    const resolver = vi.spyOn(LeaderboardResolver.prototype, 'leaderboardChanged');
    expect((await earn(api, members[0].id, '100')).errors).toBeUndefined();
    const pushed = await Promise.all(feeds.map((f) => f.next(5000)));
    for (const board of pushed) expect(board).toEqual(pushed[0]);
    expect(pushed[0].entries[0].member.id).toBe(members[0].id);
    expect(resolver).toHaveBeenCalledTimes(1);
    expect(feeds.flatMap((f) => f.errors)).toEqual([]);
    resolver.mockRestore();
    for (const f of feeds) f.dispose();
  });
});
