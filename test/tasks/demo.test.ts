import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { startApp } from '../support/app';
import { untilBoard } from '../support/boards';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { DEMO_MEMBERS, seedDemo } from '../../src/demo/seed';
import { demoChallenges, demoTasks } from '../../src/demo/tasks';

describe('demo gamification data', async () => {
  const api = await startApp();

  it('defines a realistic task wall and challenges for the current local month', () => {
    const tasks = demoTasks();
    expect(new Set(tasks.map((t) => t.code)).size).toBe(tasks.length);
    for (const code of ['share-mall', 'write-review', 'complete-profile', 'weekly-purchase', 'follow-official-account']) expect(tasks.map((t) => t.code)).toContain(code);
    expect(new Set(tasks.map((t) => t.frequency))).toEqual(new Set(['DAILY', 'WEEKLY', 'ONCE']));
    expect(new Set(tasks.map((t) => !!t.selfClaimable))).toEqual(new Set([true, false]));
    expect(tasks.every((t) => /[\u4e00-\u9fa5]/.test(t.name) && t.points > 0)).toBe(true);

    // 2026-03-31 23:30 in Shanghai is still March there; 2026-03-31 16:30 UTC is April 1st.
    const [march] = demoChallenges(new Date('2026-03-31T15:30:00Z'), 'Asia/Shanghai');
    expect(march).toMatchObject({ metric: 'SPEND', target: 500, rewardPoints: 200, startsAt: new Date('2026-02-28T16:00:00Z'), endsAt: new Date('2026-03-31T16:00:00Z') });
    const [april] = demoChallenges(new Date('2026-03-31T16:30:00Z'), 'Asia/Shanghai');
    expect(april.startsAt).toEqual(new Date('2026-03-31T16:00:00Z'));

    // The demo orders add up to each member's lifetime spend, each under the review threshold.
    for (const m of DEMO_MEMBERS) {
      expect(m.orders.reduce((s, a) => s.plus(a), new Decimal(0)).toFixed(2)).toBe(m.totalSpend);
      expect(m.orders.every((a) => new Decimal(a).lte(10_000))).toBe(true);
    }
  });

  it('seeds members with history, tasks and a running challenge through the services, once', async () => {
    api.clock.set(new Date()); // the demo's windows are relative to the time of seeding
    const seeded = await seedDemo(api.app.orm, api.app.services);
    expect(seeded.seeded).toBe(true);
    const [xiaoming, xiaohong, aqiang, lily, wangfang] = seeded.memberIds;
    const tokenOf = (id: string) => tokens.member(id);

    // Tiers come from real orders posted through the ledger.
    const me = async (id: string) => (await api.ok('{ me { nickname balance totalSpend tier { level } } }', {}, tokenOf(id))).me;
    const profiles = await Promise.all(seeded.memberIds.map(me));
    expect(profiles.map((p) => [p.nickname, p.totalSpend, p.tier.level])).toEqual([
      ['小明', '320.00', 1],
      ['小红', '1860.50', 2],
      ['阿强', '7420.00', 3],
      ['Lily', '26888.88', 4],
      ['王芳', '0.00', 1],
    ]);
    expect(profiles.every((p) => p.balance > 0)).toBe(true);

    // The task wall, with the members' progress.
    const wall = (await api.ok('{ tasks { task { code frequency selfClaimable } completedThisPeriod completions nextResetAt } }', {}, tokenOf(xiaoming))).tasks;
    expect(wall.map((t: any) => t.task.code).sort()).toEqual(
      demoTasks()
        .map((t) => t.code)
        .sort(),
    );
    expect(wall.find((t: any) => t.task.code === 'complete-profile')).toMatchObject({ completedThisPeriod: true, completions: 1, nextResetAt: null });
    expect(wall.find((t: any) => t.task.code === 'write-review')).toMatchObject({ completedThisPeriod: false, completions: 0 });
    const lilyWall = (await api.ok('{ tasks { task { code } completedThisPeriod } }', {}, tokenOf(lily))).tasks;
    expect(
      lilyWall
        .filter((t: any) => t.completedThisPeriod)
        .map((t: any) => t.task.code)
        .sort(),
    ).toEqual(['share-mall', 'weekly-purchase', 'write-review']);

    // This month's spend challenge: moved by the demo orders.
    const challenge = async (id: string) =>
      (await api.ok('{ challenges { challenge { code metric target rewardPoints startsAt endsAt } current progress completed } }', {}, tokenOf(id))).challenges.find(
        (c: any) => c.challenge.metric === 'SPEND',
      );
    const spend = await challenge(xiaoming);
    expect(spend).toMatchObject({ challenge: { target: 500, rewardPoints: 200 }, current: 320, progress: 0.64, completed: false });
    expect(Date.parse(spend.challenge.startsAt)).toBeLessThanOrEqual(api.clock.now().getTime());
    expect(Date.parse(spend.challenge.endsAt)).toBeGreaterThan(api.clock.now().getTime());
    for (const id of [xiaohong, aqiang, lily]) expect(await challenge(id)).toMatchObject({ progress: 1, completed: true });
    expect(await challenge(wangfang)).toMatchObject({ current: 0, completed: false });

    // A check-in today, a referral, and the boards.
    expect((await api.ok('{ checkInStatus { checkedInToday streak nextReward } }', {}, tokenOf(xiaoming))).checkInStatus).toEqual({ checkedInToday: true, streak: 1, nextReward: 7 });
    expect((await api.ok('{ referrals { invitee { nickname } pointsAwarded } }', {}, tokenOf(xiaoming))).referrals).toEqual([{ invitee: { nickname: '王芳' }, pointsAwarded: 100 }]);
    // The boards are written after each posting commits: woken by the feed's push of the full board.
    await untilBoard(api, 'MONTHLY', (pushed) => pushed.totalMembers >= 5);
    const board = (await api.ok('{ leaderboard(period: MONTHLY, first: 10) { totalMembers entries { rank member { nickname } } } }')).leaderboard;
    expect(board.totalMembers).toBe(5);
    expect(board.entries[0]).toEqual({ rank: 1, member: { nickname: 'Lily' } });
    await expectReconciled(api);

    // Seeding again changes nothing.
    const count = async () => (await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from ledger_entry'))[0].n;
    const entries = await count();
    expect(await seedDemo(api.app.orm, api.app.services)).toMatchObject({ seeded: false });
    expect(await count()).toBe(entries);
    expect((await api.ok('{ tasks { task { code } } }')).tasks).toHaveLength(demoTasks().length);
  });
});
