import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { balanceOf, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const CHECK_IN = 'mutation { checkIn { pointsAwarded streak balance } }';
const STATUS = '{ checkInStatus { checkedInToday streak nextReward monthDays } }';
const REWARDS = '{ me { ledger(first: 40, filter: { types: [REWARD] }) { edges { node { id type status delta balanceAfter reference source expiresAt } } } } }';

/** Contract: reward = 5 + min(2 × consecutive days before today, 20). */
const expectedReward = (day: number) => 5 + Math.min(2 * (day - 1), 20);

describe('check-in', async () => {
  // 2026-03-02 10:00 in Shanghai (a Monday).
  const api = await startApp({ now: '2026-03-02T02:00:00.000Z' });
  afterEach(async () => {
    await expectReconciled(api);
  });

  const checkIn = async (token: string) => (await api.ok(CHECK_IN, {}, token)).checkIn;
  const status = async (token: string) => (await api.ok(STATUS, {}, token)).checkInStatus;
  const rewards = async (token: string) => (await api.ok(REWARDS, {}, token)).me.ledger.edges.map((e: any) => e.node);

  it('pays a 30-day streak 5, 7, …, 25 and then 25 a day (capped), and the total lands on the balance', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    let total = 0;
    const paid: number[] = [];
    for (let day = 1; day <= 30; day++) {
      const result = await checkIn(m.token);
      total += result.pointsAwarded;
      paid.push(result.pointsAwarded);
      expect(result).toEqual({ pointsAwarded: expectedReward(day), streak: day, balance: total });
      api.clock.advanceDays(1);
    }
    expect(paid.slice(0, 12)).toEqual([5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 25]);
    expect(Math.max(...paid)).toBe(25);
    // 5 + 7 + … + 25 (11 days) = 165, then 19 days of 25 = 475.
    expect(total).toBe(640);
    expect(await balanceOf(api, m.id)).toBe(640);

    const entries = await rewards(m.token);
    expect(entries).toHaveLength(30);
    expect(entries.every((e: any) => e.type === 'REWARD' && e.status === 'POSTED')).toBe(true);
    expect(entries.reduce((s: number, e: any) => s + e.delta, 0)).toBe(640);
    // Newest first: the 30th check-in was on 2026-03-31 local.
    expect(entries[0]).toMatchObject({ delta: 25, balanceAfter: 640, reference: 'check-in:2026-03-31' });
    expect(entries[29]).toMatchObject({ delta: 5, balanceAfter: 5, reference: 'check-in:2026-03-02' });
  });

  it('resets the streak to 5 after a missed day', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    expect((await checkIn(m.token)).pointsAwarded).toBe(5);
    api.clock.advanceDays(1);
    expect((await checkIn(m.token)).pointsAwarded).toBe(7);
    api.clock.advanceDays(1);
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 9, streak: 3, balance: 21 });

    api.clock.advanceDays(2); // 03-05 skipped
    expect(await status(m.token)).toMatchObject({ checkedInToday: false, streak: 0, nextReward: 5 });
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 5, streak: 1, balance: 26 });
    api.clock.advanceDays(1);
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 7, streak: 2, balance: 33 });
  });

  it('turns the day at midnight Asia/Shanghai: 23:59 and 00:01 local on the same UTC date are two days', async () => {
    api.clock.set('2026-03-10T15:59:00.000Z'); // 2026-03-10 23:59 local
    const m = await createMember(api);
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 5, streak: 1, balance: 5 });
    api.clock.set('2026-03-10T16:01:00.000Z'); // 2026-03-11 00:01 local, still 2026-03-10 in UTC
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 7, streak: 2, balance: 12 });
    expect((await status(m.token)).monthDays).toEqual(['2026-03-10', '2026-03-11']);
    expect((await rewards(m.token)).map((e: any) => e.reference)).toEqual(['check-in:2026-03-11', 'check-in:2026-03-10']);

    // The converse: 00:01 and 23:59 local of one day, on two UTC dates, are one day.
    api.clock.set('2026-03-11T15:59:00.000Z'); // 2026-03-11 23:59 local, 2026-03-11 in UTC
    expect(await api.code(CHECK_IN, {}, m.token)).toBe('ALREADY_DONE');
    api.clock.set('2026-03-11T16:00:00.000Z'); // 2026-03-12 00:00 local: a new day
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 9, streak: 3, balance: 21 });
  });

  it('10 concurrent check-ins: exactly one succeeds, nine are ALREADY_DONE, one REWARD entry', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    const results = await Promise.all(Array.from({ length: 10 }, () => api.gql(CHECK_IN, {}, m.token)));
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(1);
    expect(ok[0].data.checkIn).toEqual({ pointsAwarded: 5, streak: 1, balance: 5 });
    const codes = results.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code);
    expect(codes).toEqual(Array(9).fill('ALREADY_DONE'));
    expect(await rewards(m.token)).toHaveLength(1);
    expect(await balanceOf(api, m.id)).toBe(5);
    const [{ n }] = await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from check_in where member_id = ?', [m.id]);
    expect(n).toBe(1);
  });

  it('checkInStatus: nextReward is today’s before the check-in and tomorrow’s after it', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    expect(await status(m.token)).toEqual({ checkedInToday: false, streak: 0, nextReward: 5, monthDays: [] });
    await checkIn(m.token);
    expect(await status(m.token)).toEqual({ checkedInToday: true, streak: 1, nextReward: 7, monthDays: ['2026-03-02'] });

    api.clock.advanceDays(1); // the streak holds until the member misses a day
    expect(await status(m.token)).toEqual({ checkedInToday: false, streak: 1, nextReward: 7, monthDays: ['2026-03-02'] });
    expect((await checkIn(m.token)).pointsAwarded).toBe(7);
    expect(await status(m.token)).toEqual({ checkedInToday: true, streak: 2, nextReward: 9, monthDays: ['2026-03-02', '2026-03-03'] });

    api.clock.advanceDays(2); // 03-04 missed
    expect(await status(m.token)).toEqual({ checkedInToday: false, streak: 0, nextReward: 5, monthDays: ['2026-03-02', '2026-03-03'] });
  });

  it('checkInStatus at the cap: nextReward stays 25', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    for (let day = 1; day <= 11; day++) {
      await checkIn(m.token);
      api.clock.advanceDays(1);
    }
    expect(await status(m.token)).toMatchObject({ checkedInToday: false, streak: 11, nextReward: 25 });
    await checkIn(m.token);
    expect(await status(m.token)).toMatchObject({ checkedInToday: true, streak: 12, nextReward: 25 });
  });

  it('checkInStatus: monthDays lists only this local month, and the streak carries across the month boundary', async () => {
    api.clock.set('2026-03-30T02:00:00.000Z'); // 03-30 10:00 local
    const m = await createMember(api);
    await checkIn(m.token);
    api.clock.set('2026-03-31T15:30:00.000Z'); // 03-31 23:30 local
    await checkIn(m.token);
    expect(await status(m.token)).toEqual({ checkedInToday: true, streak: 2, nextReward: 9, monthDays: ['2026-03-30', '2026-03-31'] });

    api.clock.set('2026-03-31T16:30:00.000Z'); // 04-01 00:30 local (still March in UTC): a new month
    expect(await status(m.token)).toEqual({ checkedInToday: false, streak: 2, nextReward: 9, monthDays: [] });
    expect(await checkIn(m.token)).toMatchObject({ pointsAwarded: 9, streak: 3 });
    expect(await status(m.token)).toEqual({ checkedInToday: true, streak: 3, nextReward: 11, monthDays: ['2026-04-01'] });

    api.clock.set('2026-04-02T04:00:00.000Z');
    await checkIn(m.token);
    expect(await status(m.token)).toEqual({ checkedInToday: true, streak: 4, nextReward: 13, monthDays: ['2026-04-01', '2026-04-02'] });
  });

  it('the REWARD lot of a check-in has the program’s validity', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    await checkIn(m.token);
    const [entry] = await rewards(m.token);
    expect(entry).toMatchObject({ type: 'REWARD', delta: 5, source: 'system:rewards', expiresAt: new Date(api.clock.now().getTime() + 365 * DAY).toISOString() });
    const lots = await api.app.orm.em.fork().execute<{ amount: number; remaining: number; expires_at: Date }[]>('select amount, remaining, expires_at from points_lot where entry_id = ?', [entry.id]);
    expect(lots).toHaveLength(1);
    expect(lots[0]).toMatchObject({ amount: 5, remaining: 5 });
    expect(new Date(lots[0].expires_at).toISOString()).toBe(entry.expiresAt);
  });

  it('refuses a frozen member with MEMBER_FROZEN, and pays nothing', async () => {
    api.clock.set('2026-03-02T02:00:00.000Z');
    const m = await createMember(api);
    await api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "风控") { status } }`, { id: m.id });
    expect(await api.code(CHECK_IN, {}, m.token)).toBe('MEMBER_FROZEN');
    expect(await balanceOf(api, m.id)).toBe(0);
    expect(await status(m.token)).toMatchObject({ checkedInToday: false, streak: 0 });
    await api.ok(`mutation($id: ID!) { unfreezeMember(memberId: $id) { status } }`, { id: m.id });
    expect(await checkIn(m.token)).toEqual({ pointsAwarded: 5, streak: 1, balance: 5 });
  });

  it('is for members only: admin and partner tokens get FORBIDDEN, no token UNAUTHENTICATED', async () => {
    for (const token of [tokens.admin(), tokens.partner()]) {
      expect(await api.code(CHECK_IN, {}, token)).toBe('FORBIDDEN');
      expect(await api.code(STATUS, {}, token)).toBe('FORBIDDEN');
    }
    expect(await api.code(CHECK_IN, {}, null)).toBe('UNAUTHENTICATED');
    expect(await api.code(STATUS, {}, null)).toBe('UNAUTHENTICATED');
  });
});
