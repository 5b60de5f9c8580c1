import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

describe('gamification smoke', async () => {
  const api = await startApp({ now: '2026-03-01T15:59:00.000Z' }); // Sunday 23:59 in Shanghai

  it('checks in across local midnight, pays streaks, tasks, challenges and referrals', async () => {
    const m = await createMember(api);
    const first = await api.ok('mutation { checkIn { pointsAwarded streak balance } }', {}, m.token);
    expect(first.checkIn).toEqual({ pointsAwarded: 5, streak: 1, balance: 5 });
    expect(await api.code('mutation { checkIn { pointsAwarded } }', {}, m.token)).toBe('ALREADY_DONE');
    api.clock.advance(2 * 60_000); // 00:01 Monday local, same UTC date
    const second = await api.ok('mutation { checkIn { pointsAwarded streak } }', {}, m.token);
    expect(second.checkIn).toEqual({ pointsAwarded: 7, streak: 2 });
    const status = await api.ok('{ checkInStatus { checkedInToday streak nextReward monthDays } }', {}, m.token);
    expect(status.checkInStatus).toEqual({ checkedInToday: true, streak: 2, nextReward: 9, monthDays: ['2026-03-01', '2026-03-02'] });

    await api.ok('mutation { upsertTask(input: { code: "share", name: "分享商城", points: 10, frequency: WEEKLY, selfClaimable: true }) { code } }');
    await api.ok('mutation { upsertTask(input: { code: "review", name: "写评价", points: 20, frequency: DAILY }) { code } }');
    expect((await api.ok('mutation { claimTask(code: "share") { pointsAwarded balance } }', {}, m.token)).claimTask.pointsAwarded).toBe(10);
    expect(await api.code('mutation { claimTask(code: "share") { pointsAwarded } }', {}, m.token)).toBe('ALREADY_DONE');
    expect(await api.code('mutation { claimTask(code: "review") { pointsAwarded } }', {}, m.token)).toBe('FORBIDDEN');
    const rec = `mutation($id: ID!) { recordTaskCompletion(memberId: $id, code: "review", reference: "R1") { pointsAwarded } }`;
    expect((await api.ok(rec, { id: m.id }, tokens.admin())).recordTaskCompletion.pointsAwarded).toBe(20);
    expect((await api.ok(rec, { id: m.id }, tokens.admin())).recordTaskCompletion.pointsAwarded).toBe(20);
    const tasks = await api.ok('{ tasks { task { code } completedThisPeriod completions nextResetAt } }', {}, m.token);
    expect(tasks.tasks.find((t: any) => t.task.code === 'share')).toMatchObject({ completedThisPeriod: true, completions: 1, nextResetAt: '2026-03-08T16:00:00.000Z' });

    await api.ok(
      `mutation { upsertChallenge(input: { code: "spend500", name: "消费满500", metric: SPEND, target: 500, rewardPoints: 88, startsAt: "2026-03-01T00:00:00Z", endsAt: "2026-04-01T00:00:00Z" }) { code } }`,
    );
    await Promise.all([earn(api, m.id, '300'), earn(api, m.id, '300')]);
    const ch = await api.ok('{ challenges { challenge { code } current progress completed } }', {}, m.token);
    expect(ch.challenges[0]).toEqual({ challenge: { code: 'spend500' }, current: 600, progress: 1, completed: true });
    const rewards = await api.ok(`{ me { ledger(first: 50, filter: { types: [REWARD] }) { edges { node { delta reference } } } } }`, {}, m.token);
    expect(rewards.me.ledger.edges.filter((e: any) => e.node.reference === 'challenge:spend500')).toHaveLength(1);

    const invitee = await createMember(api, { inviteCode: (await api.ok('{ me { inviteCode } }', {}, m.token)).me.inviteCode });
    expect((await api.ok('{ me { balance } }', {}, invitee.token)).me.balance).toBe(50);
    const refs = await api.ok('{ referrals { invitee { id } pointsAwarded } }', {}, m.token);
    expect(refs.referrals).toEqual([{ invitee: { id: invitee.id }, pointsAwarded: 100 }]);
    expect(await api.code('mutation { registerMember(input: { mobile: "13912345678", nickname: "x", inviteCode: "NOPE2345" }) { id } }', {}, tokens.admin())).toBe('BAD_USER_INPUT');
    await expectReconciled(api);
  });
});
