import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startApp, type TestApp, untilSubscribed } from '../support/app';
import { untilBoard } from '../support/boards';
import { createMember, type CreatedMember } from '../support/factories';
import { balanceOf, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { collect } from '../support/ws';

const DAY = 86_400_000;

const UPSERT = 'mutation($input: TaskInput!) { upsertTask(input: $input) { id code name description points frequency selfClaimable active } }';
const CLAIM = 'mutation($code: String!) { claimTask(code: $code) { task { code } pointsAwarded balance } }';
const RECORD = 'mutation($id: ID!, $code: String!, $ref: String!) { recordTaskCompletion(memberId: $id, code: $code, reference: $ref) { task { code } pointsAwarded balance } }';
const TASKS = '{ tasks { task { id code name points frequency selfClaimable active } completedThisPeriod completions nextResetAt } }';
const REWARDS = '{ me { ledger(first: 40, filter: { types: [REWARD] }) { edges { node { id type status delta balanceAfter reference source expiresAt } } } } }';

let codeSequence = 0;
const newCode = (prefix: string) => `${prefix}-${++codeSequence}`;

interface TaskSpec {
  code?: string;
  name?: string;
  description?: string;
  points?: number;
  frequency: 'DAILY' | 'WEEKLY' | 'ONCE';
  selfClaimable?: boolean;
  active?: boolean;
}

describe('tasks', async () => {
  // 2026-03-02 10:00 in Shanghai, a Monday.
  const api = await startApp({ now: '2026-03-02T02:00:00.000Z' });
  afterEach(async () => {
    await expectReconciled(api);
  });

  async function task(spec: TaskSpec) {
    const input = { code: spec.code ?? newCode(spec.frequency.toLowerCase()), name: spec.name ?? '测试任务', points: spec.points ?? 10, ...spec };
    return (await api.ok(UPSERT, { input })).upsertTask;
  }
  const claim = async (m: CreatedMember, code: string) => (await api.ok(CLAIM, { code }, m.token)).claimTask;
  const claimCode = (m: CreatedMember, code: string) => api.code(CLAIM, { code }, m.token);
  const record = async (m: CreatedMember, code: string, ref: string) => (await api.ok(RECORD, { id: m.id, code, ref }, tokens.admin())).recordTaskCompletion;
  const progress = async (m: CreatedMember | null, code: string) => {
    const data = await api.ok(TASKS, {}, m ? m.token : tokens.admin());
    return data.tasks.find((t: any) => t.task.code === code);
  };
  const rewards = async (m: CreatedMember) => (await api.ok(REWARDS, {}, m.token)).me.ledger.edges.map((e: any) => e.node);

  describe('periods', () => {
    it('DAILY resets at local midnight: 23:59 and 00:01 local on the same UTC date are two periods', async () => {
      api.clock.set('2026-03-10T15:59:00.000Z'); // 2026-03-10 23:59 local
      const t = await task({ frequency: 'DAILY', selfClaimable: true, points: 10 });
      const m = await createMember(api);
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: false, completions: 0, nextResetAt: '2026-03-10T16:00:00.000Z' });
      expect(await claim(m, t.code)).toEqual({ task: { code: t.code }, pointsAwarded: 10, balance: 10 });
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: true, completions: 1, nextResetAt: '2026-03-10T16:00:00.000Z' });
      api.clock.set('2026-03-10T15:59:59.000Z');
      expect(await claimCode(m, t.code)).toBe('ALREADY_DONE');

      api.clock.set('2026-03-10T16:01:00.000Z'); // 2026-03-11 00:01 local, still 2026-03-10 in UTC
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: false, completions: 1, nextResetAt: '2026-03-11T16:00:00.000Z' });
      expect(await claim(m, t.code)).toEqual({ task: { code: t.code }, pointsAwarded: 10, balance: 20 });
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: true, completions: 2 });
      // Later that local day (the next UTC date): still the same period.
      api.clock.set('2026-03-11T15:00:00.000Z');
      expect(await claimCode(m, t.code)).toBe('ALREADY_DONE');
      expect(await balanceOf(api, m.id)).toBe(20);
    });

    it('WEEKLY resets on Monday 00:00 local: Sunday 23:59 is the old week, Monday 00:01 the new one', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z'); // Monday 2026-03-02 10:00 local (ISO week 10)
      const t = await task({ frequency: 'WEEKLY', selfClaimable: true, points: 30 });
      const m = await createMember(api);
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: false, completions: 0, nextResetAt: '2026-03-08T16:00:00.000Z' });
      expect((await claim(m, t.code)).pointsAwarded).toBe(30);

      api.clock.set('2026-03-04T06:00:00.000Z'); // Wednesday
      expect(await claimCode(m, t.code)).toBe('ALREADY_DONE');
      api.clock.set('2026-03-08T15:59:00.000Z'); // Sunday 2026-03-08 23:59 local
      expect(await claimCode(m, t.code)).toBe('ALREADY_DONE');
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: true, completions: 1, nextResetAt: '2026-03-08T16:00:00.000Z' });

      api.clock.set('2026-03-08T16:01:00.000Z'); // Monday 2026-03-09 00:01 local, still Sunday in UTC
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: false, completions: 1, nextResetAt: '2026-03-15T16:00:00.000Z' });
      expect(await claim(m, t.code)).toEqual({ task: { code: t.code }, pointsAwarded: 30, balance: 60 });
      expect(await claimCode(m, t.code)).toBe('ALREADY_DONE');
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: true, completions: 2 });
    });

    it('WEEKLY: a task done on Sunday 23:59 local can be done again at Monday 00:01 local', async () => {
      api.clock.set('2026-03-15T15:59:00.000Z'); // Sunday 2026-03-15 23:59 local
      const t = await task({ frequency: 'WEEKLY', selfClaimable: true, points: 30 });
      const m = await createMember(api);
      expect((await claim(m, t.code)).pointsAwarded).toBe(30);
      api.clock.advance(2 * 60_000); // Monday 00:01 local
      expect((await claim(m, t.code)).pointsAwarded).toBe(30);
      expect(await balanceOf(api, m.id)).toBe(60);
    });

    it('ONCE is never reset, and has no nextResetAt', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'ONCE', selfClaimable: true, points: 50 });
      const m = await createMember(api);
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: false, completions: 0, nextResetAt: null });
      expect((await claim(m, t.code)).pointsAwarded).toBe(50);
      for (const days of [1, 7, 400]) {
        api.clock.set(new Date(Date.parse('2026-03-02T02:00:00.000Z') + days * DAY));
        expect(await claimCode(m, t.code)).toBe('ALREADY_DONE');
        expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: true, completions: 1, nextResetAt: null });
      }
      // Paid once (the 50 points themselves expired after 365 days).
      expect(await rewards(m)).toHaveLength(1);
      expect((await api.ok('{ me { lifetimeEarned } }', {}, m.token)).me.lifetimeEarned).toBe(50);
    });

    it('tasks lists active tasks only, and for an admin without member progress', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const active = await task({ frequency: 'DAILY', selfClaimable: true });
      const inactive = await task({ frequency: 'DAILY', selfClaimable: true, active: false });
      const m = await createMember(api);
      await claim(m, active.code);
      expect(await progress(m, inactive.code)).toBeUndefined();
      expect(await progress(null, active.code)).toMatchObject({ task: { code: active.code, active: true }, completedThisPeriod: false, completions: 0, nextResetAt: '2026-03-02T16:00:00.000Z' });
      // Another member's completion is not mine.
      const other = await createMember(api);
      expect(await progress(other, active.code)).toMatchObject({ completedThisPeriod: false, completions: 0 });
      expect(await api.code(TASKS, {}, null)).toBe('UNAUTHENTICATED');
    });
  });

  describe('claimTask', () => {
    it('a task reported by partners cannot be claimed: FORBIDDEN', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', selfClaimable: false });
      const m = await createMember(api);
      expect(await claimCode(m, t.code)).toBe('FORBIDDEN');
      expect(await balanceOf(api, m.id)).toBe(0);
    });

    it('an unknown or inactive code is NOT_FOUND, for claims and partner reports', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const inactive = await task({ frequency: 'DAILY', selfClaimable: true, active: false });
      const m = await createMember(api);
      for (const code of ['no-such-task', inactive.code]) {
        expect(await claimCode(m, code)).toBe('NOT_FOUND');
        expect(await api.code(RECORD, { id: m.id, code, ref: 'R-1' }, tokens.admin())).toBe('NOT_FOUND');
      }
      expect(await balanceOf(api, m.id)).toBe(0);
    });

    it('is for members only; recordTaskCompletion for partners and admins only', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', selfClaimable: true });
      const m = await createMember(api);
      for (const token of [tokens.admin(), tokens.partner()]) expect(await api.code(CLAIM, { code: t.code }, token)).toBe('FORBIDDEN');
      expect(await api.code(RECORD, { id: m.id, code: t.code, ref: 'X' }, m.token)).toBe('FORBIDDEN');
      expect(await api.code(CLAIM, { code: t.code }, null)).toBe('UNAUTHENTICATED');
    });

    it('a frozen member gets MEMBER_FROZEN', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', selfClaimable: true });
      const r = await task({ frequency: 'DAILY' });
      const m = await createMember(api);
      await api.ok(`mutation($id: ID!) { freezeMember(memberId: $id, reason: "风控") { status } }`, { id: m.id });
      expect(await claimCode(m, t.code)).toBe('MEMBER_FROZEN');
      expect(await api.code(RECORD, { id: m.id, code: r.code, ref: 'F-1' }, tokens.admin())).toBe('MEMBER_FROZEN');
      expect(await balanceOf(api, m.id)).toBe(0);
    });

    it('10 concurrent claims pay once; the other nine are ALREADY_DONE', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', selfClaimable: true, points: 15 });
      const m = await createMember(api);
      const results = await Promise.all(Array.from({ length: 10 }, () => api.gql(CLAIM, { code: t.code }, m.token)));
      expect(results.filter((r) => !r.errors).map((r) => r.data.claimTask)).toEqual([{ task: { code: t.code }, pointsAwarded: 15, balance: 15 }]);
      expect(results.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(Array(9).fill('ALREADY_DONE'));
      expect(await rewards(m)).toHaveLength(1);
      expect(await progress(m, t.code)).toMatchObject({ completedThisPeriod: true, completions: 1 });
    });
  });

  describe('recordTaskCompletion', () => {
    it('is idempotent on reference: the same reference returns the first result and posts nothing', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', points: 20 });
      const m = await createMember(api);
      expect(await record(m, t.code, 'REVIEW-1')).toEqual({ task: { code: t.code }, pointsAwarded: 20, balance: 20 });
      expect(await record(m, t.code, 'REVIEW-1')).toEqual({ task: { code: t.code }, pointsAwarded: 20, balance: 20 });
      // A second review the same day: another reference, but the task is done for today.
      expect(await api.code(RECORD, { id: m.id, code: t.code, ref: 'REVIEW-2' }, tokens.admin())).toBe('ALREADY_DONE');
      // The next day the replay still answers with the first result; a new reference pays again.
      api.clock.advanceDays(1);
      expect(await record(m, t.code, 'REVIEW-1')).toEqual({ task: { code: t.code }, pointsAwarded: 20, balance: 20 });
      expect(await record(m, t.code, 'REVIEW-3')).toEqual({ task: { code: t.code }, pointsAwarded: 20, balance: 40 });
      const entries = await rewards(m);
      expect(entries).toHaveLength(2);
      expect(entries.every((e: any) => e.type === 'REWARD' && e.delta === 20 && e.reference === t.code)).toBe(true);
      expect(await progress(m, t.code)).toMatchObject({ completions: 2, completedThisPeriod: true });
    });

    it('the same reference for another member is a CONFLICT', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', points: 20 });
      const [a, b] = [await createMember(api), await createMember(api)];
      await record(a, t.code, 'SHARED-REF');
      expect(await api.code(RECORD, { id: b.id, code: t.code, ref: 'SHARED-REF' }, tokens.admin())).toBe('CONFLICT');
      expect(await balanceOf(api, b.id)).toBe(0);
      // The reference is per task: the same string on another task is another completion.
      const other = await task({ frequency: 'DAILY', points: 5 });
      expect((await record(b, other.code, 'SHARED-REF')).pointsAwarded).toBe(5);

      // Two members reported with one new reference at once: one is paid, the other is a CONFLICT.
      const [c, d] = [await createMember(api), await createMember(api)];
      const raced = await Promise.all([c, d].map((m) => api.gql(RECORD, { id: m.id, code: t.code, ref: 'RACED-REF' }, tokens.admin())));
      expect(raced.filter((r) => !r.errors).map((r) => r.data.recordTaskCompletion.pointsAwarded)).toEqual([20]);
      expect(raced.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(['CONFLICT']);
      expect((await balanceOf(api, c.id)) + (await balanceOf(api, d.id))).toBe(20);
    });

    it('concurrent reports with one reference post one entry; with different references one per period', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', points: 20 });
      const m = await createMember(api);
      const same = await Promise.all(Array.from({ length: 8 }, () => api.gql(RECORD, { id: m.id, code: t.code, ref: 'CONC-1' }, tokens.admin())));
      expect(same.map((r) => r.errors)).toEqual(Array(8).fill(undefined));
      expect(new Set(same.map((r) => JSON.stringify(r.data.recordTaskCompletion)))).toEqual(new Set([JSON.stringify({ task: { code: t.code }, pointsAwarded: 20, balance: 20 })]));
      expect(await rewards(m)).toHaveLength(1);

      api.clock.advanceDays(1);
      const distinct = await Promise.all(Array.from({ length: 8 }, (_, i) => api.gql(RECORD, { id: m.id, code: t.code, ref: `CONC-D-${i}` }, tokens.admin())));
      expect(distinct.filter((r) => !r.errors)).toHaveLength(1);
      expect(distinct.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(Array(7).fill('ALREADY_DONE'));
      expect(await balanceOf(api, m.id)).toBe(40);
    });

    it('an unknown member is NOT_FOUND; a blank reference is BAD_USER_INPUT', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', points: 20 });
      expect(await api.code(RECORD, { id: '00000000-0000-4000-8000-000000000000', code: t.code, ref: 'U-1' }, tokens.admin())).toBe('NOT_FOUND');
      expect(await api.code(RECORD, { id: 'not-a-uuid', code: t.code, ref: 'U-2' }, tokens.admin())).toBe('NOT_FOUND');
      const m = await createMember(api);
      expect(await api.code(RECORD, { id: m.id, code: t.code, ref: '   ' }, tokens.admin())).toBe('BAD_USER_INPUT');
      expect(await api.code(RECORD, { id: m.id, code: t.code, ref: 'x'.repeat(129) }, tokens.admin())).toBe('BAD_USER_INPUT');
      expect(await balanceOf(api, m.id)).toBe(0);
    });
  });

  describe('upsertTask', () => {
    it('validates its input', async () => {
      const base = { code: newCode('valid'), name: '分享', points: 10, frequency: 'DAILY' };
      for (const bad of [
        { code: '' },
        { code: 'has space' },
        { code: '-leading-dash' },
        { code: 'x'.repeat(65) },
        { name: '   ' },
        { name: '名'.repeat(65) },
        { description: 'd'.repeat(501) },
        { points: 0 },
        { points: -5 },
        { points: 1_000_001 },
      ]) {
        expect(await api.code(UPSERT, { input: { ...base, ...bad } }), JSON.stringify(bad)).toBe('BAD_USER_INPUT');
      }
      expect(await api.code(UPSERT, { input: { ...base, frequency: 'MONTHLY' } })).toBe('BAD_USER_INPUT');
      expect((await api.gql('{ tasks { task { code } } }', {}, tokens.admin())).data.tasks.map((t: any) => t.task.code)).not.toContain(base.code);
    });

    it('concurrent upserts of one new code create one task, and none fails', async () => {
      const code = newCode('race');
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api.gql(UPSERT, { input: { code, name: `并发${i}`, points: 10 + i, frequency: 'DAILY' } }, tokens.admin())));
      expect(results.map((r) => r.errors)).toEqual(Array(6).fill(undefined));
      expect(new Set(results.map((r) => r.data.upsertTask.id)).size).toBe(1);
      const [{ n }] = await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from task where code = ?', [code]);
      expect(n).toBe(1);
    });

    it('is for admins only', async () => {
      const m = await createMember(api);
      const input = { code: newCode('auth'), name: '分享', points: 10, frequency: 'DAILY' };
      expect(await api.code(UPSERT, { input }, tokens.partner())).toBe('FORBIDDEN');
      expect(await api.code(UPSERT, { input }, m.token)).toBe('FORBIDDEN');
    });

    it('applies the defaults and updates by code, keeping the id', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const code = newCode('upsert');
      const created = (await api.ok(UPSERT, { input: { code, name: '写评价', points: 20, frequency: 'DAILY' } })).upsertTask;
      expect(created).toMatchObject({ code, name: '写评价', description: '', points: 20, frequency: 'DAILY', selfClaimable: false, active: true });
      const updated = await task({ code: ` ${code} `, name: '写好评', description: '晒图评价', points: 25, frequency: 'WEEKLY', selfClaimable: true });
      expect(updated).toEqual({ id: created.id, code, name: '写好评', description: '晒图评价', points: 25, frequency: 'WEEKLY', selfClaimable: true, active: true });
      const [{ n }] = await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from task where code = ?', [code]);
      expect(n).toBe(1);

      const m = await createMember(api);
      expect(await claim(m, code)).toMatchObject({ pointsAwarded: 25 });
      expect(await progress(m, code)).toMatchObject({ task: { name: '写好评', points: 25, frequency: 'WEEKLY' }, nextResetAt: '2026-03-08T16:00:00.000Z' });
      // Deactivated: gone from the list and unclaimable.
      await task({ code, name: '写好评', points: 25, frequency: 'WEEKLY', selfClaimable: true, active: false });
      expect(await progress(m, code)).toBeUndefined();
      api.clock.advanceDays(7);
      expect(await claimCode(m, code)).toBe('NOT_FOUND');
    });
  });

  describe('rewards', () => {
    it('are REWARD entries whose lot has the program’s validity', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', selfClaimable: true, points: 12 });
      const m = await createMember(api);
      await claim(m, t.code);
      const [entry] = await rewards(m);
      expect(entry).toMatchObject({
        type: 'REWARD',
        status: 'POSTED',
        delta: 12,
        balanceAfter: 12,
        reference: t.code,
        source: 'system:rewards',
        expiresAt: new Date(api.clock.now().getTime() + 365 * DAY).toISOString(),
      });
      const lots = async (entryId: string) =>
        api.app.orm.em.fork().execute<{ amount: number; remaining: number; expires_at: Date }[]>('select amount, remaining, expires_at from points_lot where entry_id = ?', [entryId]);
      expect((await lots(entry.id)).map((l) => ({ ...l, expires_at: new Date(l.expires_at).toISOString() }))).toEqual([{ amount: 12, remaining: 12, expires_at: entry.expiresAt }]);

      // A changed validity applies to the next reward.
      await api.ok('mutation { updateProgramSettings(input: { validityDays: 730 }) { validityDays } }');
      try {
        api.clock.advanceDays(1);
        await claim(m, t.code);
        const [next] = await rewards(m);
        expect(next.expiresAt).toBe(new Date(api.clock.now().getTime() + 730 * DAY).toISOString());
        expect((await lots(next.id))[0]).toMatchObject({ amount: 12, remaining: 12 });
      } finally {
        await api.ok('mutation { updateProgramSettings(input: { validityDays: 365 }) { validityDays } }');
      }
    });

    it('are published on balanceChanged', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'DAILY', selfClaimable: true, points: 12 });
      const r = await task({ frequency: 'DAILY', points: 8 });
      const m = await createMember(api);
      const sub = await subscribeBalance(api, api.ws(m.token), m.id);
      await claim(m, t.code);
      await record(m, r.code, 'BC-1');
      await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token);
      for (let i = 0; i < 3; i++) await sub.next();
      expect(sub.events.map((e) => [e.memberId, e.entry.type, e.delta, e.balance])).toEqual([
        [m.id, 'REWARD', 12, 12],
        [m.id, 'REWARD', 8, 20],
        [m.id, 'REWARD', 5, 25],
      ]);
      // The idempotent replay posts nothing, so publishes nothing.
      await record(m, r.code, 'BC-1');
      // Sentinel: the next posting (another task) is the next event, so the replay sent none.
      const sentinel = await task({ frequency: 'DAILY', points: 7 });
      await sub.expectNothing(
        () => record(m, sentinel.code, 'BC-2'),
        (e) => e.delta === 7 && e.balance === 32,
      );
      expect(sub.events).toHaveLength(4);
    });

    it('count on the leaderboard', async () => {
      api.clock.set('2026-03-02T02:00:00.000Z');
      const t = await task({ frequency: 'ONCE', selfClaimable: true, points: 900_000 });
      const m = await createMember(api);
      await claim(m, t.code);
      for (const period of ['ALL_TIME', 'MONTHLY', 'WEEKLY'] as const) {
        const pushed = await untilBoard(api, period, (board) => board.entries[0]?.member.id === m.id);
        expect(pushed.entries[0]).toEqual({ rank: 1, score: 900_000, member: { id: m.id } });
        // The query reads the same board as the feed pushed.
        const board = (await api.ok(`query($p: LeaderboardPeriod) { leaderboard(period: $p, first: 1) { entries { rank score member { id } } } }`, { p: period })).leaderboard;
        expect(board.entries).toEqual([pushed.entries[0]]);
      }
      expect((await api.ok('{ myRank(period: WEEKLY) { rank score } }', {}, m.token)).myRank).toEqual({ rank: 1, score: 900_000 });
    });
  });
});

const BALANCE_CHANGED = 'subscription { balanceChanged { memberId balance delta entry { id type status delta } } }';

/** Subscribes and waits until the subscription is registered in Redis, so nothing published after it is missed. */
async function subscribeBalance(api: TestApp, client: Client, memberId: string) {
  const sub = collect(client, BALANCE_CHANGED, {}, 'balanceChanged');
  await untilSubscribed(api, `BALANCE:${memberId}`);
  return sub;
}
