import { describe, expect, it, vi } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn } from '../support/ledger';
import { LeaderboardResolver } from '../../src/leaderboard/leaderboard.resolver';

describe('subscription fan-out', async () => {
  const api = await startApp({ env: { LEADERBOARD_COALESCE_MS: '50' } });

  it('executes an identical selection once per event, however many subscribers share it', async () => {
    const members = await Promise.all(Array.from({ length: 4 }, () => createMember(api)));
    const query = 'subscription { leaderboardChanged(period: ALL_TIME, first: 5) { entries { rank score member { id } } } }';
    const received: number[] = members.map(() => 0);
    members.forEach((m, i) => api.ws(m.token).subscribe({ query }, { next: () => void (received[i] += 1), error: () => {}, complete: () => {} }));
    await vi.waitFor(() => expect(received.every((n) => n === 1)).toBe(true), { timeout: 5000 });
    const resolver = vi.spyOn(LeaderboardResolver.prototype, 'leaderboardChanged');
    await earn(api, members[0].id, '100');
    await vi.waitFor(() => expect(received.every((n) => n === 2)).toBe(true), { timeout: 5000 });
    expect(resolver).toHaveBeenCalledTimes(1);
    resolver.mockRestore();
  });
});
