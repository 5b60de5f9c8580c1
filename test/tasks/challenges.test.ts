import { afterEach, describe, expect, it } from 'vitest';
import { startApp, untilSubscribed } from '../support/app';
import { createMember, type CreatedMember } from '../support/factories';
import { balanceOf, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { collect } from '../support/ws';

const UPSERT = 'mutation($input: ChallengeInput!) { upsertChallenge(input: $input) { id code name description metric target rewardPoints startsAt endsAt } }';
const CHALLENGES = '{ challenges { challenge { id code metric target rewardPoints } current progress completed } }';
const REWARDS = '{ me { ledger(first: 40, filter: { types: [REWARD] }) { edges { node { id type status delta reference source } } } } }';

type Metric = 'SPEND' | 'ORDERS' | 'CHECK_INS' | 'TASKS';

/**
 * Challenges are program-wide, so each test has its own window (a month of 2026 from the 1st
 * to the 20th, or a few days of it), and no test's events fall into another test's challenge.
 */
const at = (month: number, day: number, hour = 4) => new Date(Date.UTC(2026, month - 1, day, hour)).toISOString();

describe('challenges', async () => {
  const api = await startApp({ now: at(3, 1) });
  afterEach(async () => {
    await expectReconciled(api);
  });

  let sequence = 0;
  async function challenge(month: number, metric: Metric, target: number, rewardPoints: number, window: { startsAt?: string; endsAt?: string } = {}) {
    const input = {
      code: `c${month}-${metric.toLowerCase()}-${++sequence}`,
      name: `挑战${sequence}`,
      metric,
      target,
      rewardPoints,
      startsAt: window.startsAt ?? at(month, 1, 0),
      endsAt: window.endsAt ?? at(month, 20, 0),
    };
    return (await api.ok(UPSERT, { input })).upsertChallenge;
  }
  const mine = async (m: CreatedMember, code: string) => (await api.ok(CHALLENGES, {}, m.token)).challenges.find((c: any) => c.challenge.code === code);
  const rewardsFor = async (m: CreatedMember, code: string) => (await api.ok(REWARDS, {}, m.token)).me.ledger.edges.map((e: any) => e.node).filter((e: any) => e.reference === `challenge:${code}`);
  const earnOk = async (m: CreatedMember, amount: string) => {
    const res = await earn(api, m.id, amount);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.earnPoints;
  };
  const stored = async (code: string, memberId: string) => {
    const rows = await api.app.orm.em
      .fork()
      .execute<{ current: string; completed_at: Date | null; entry_id: string | null }[]>(
        'select p.current, p.completed_at, p.entry_id from challenge_progress p join challenge c on c.id = p.challenge_id where c.code = ? and p.member_id = ?',
        [code, memberId],
      );
    return rows[0] ?? null;
  };

  describe('metrics', () => {
    it('SPEND sums purchase amounts and pays rewardPoints on reaching the target', async () => {
      api.clock.set(at(4, 2));
      const c = await challenge(4, 'SPEND', 500, 88);
      const m = await createMember(api);
      expect(await mine(m, c.code)).toEqual({ challenge: { id: c.id, code: c.code, metric: 'SPEND', target: 500, rewardPoints: 88 }, current: 0, progress: 0, completed: false });
      await earnOk(m, '199.50');
      expect(await mine(m, c.code)).toMatchObject({ current: 199.5, progress: 0.399, completed: false });
      await earnOk(m, '300.49');
      expect(await mine(m, c.code)).toMatchObject({ current: 499.99, completed: false });
      expect(await balanceOf(api, m.id)).toBe(200 + 301);
      await earnOk(m, '0.01');
      expect(await mine(m, c.code)).toMatchObject({ current: 500, progress: 1, completed: true });
      expect(await balanceOf(api, m.id)).toBe(200 + 301 + 1 + 88);
      const [reward] = await rewardsFor(m, c.code);
      expect(reward).toMatchObject({ type: 'REWARD', status: 'POSTED', delta: 88, source: 'system:rewards' });
      // What the query reads is the stored progress, kept by the events.
      expect(await stored(c.code, m.id)).toMatchObject({ current: '500.00', entry_id: reward.id });
    });

    it('ORDERS counts purchases', async () => {
      api.clock.set(at(5, 2));
      const c = await challenge(5, 'ORDERS', 3, 30);
      const spend = await challenge(5, 'SPEND', 10_000, 1);
      const m = await createMember(api);
      await earnOk(m, '10');
      await earnOk(m, '20');
      expect(await mine(m, c.code)).toMatchObject({ current: 2, completed: false });
      expect(await mine(m, spend.code)).toMatchObject({ current: 30, completed: false });
      // A repeated orderId is not another order.
      const res = await earn(api, m.id, '20', { orderId: 'ORDERS-DUP' });
      expect(res.data.earnPoints.duplicate).toBe(false);
      expect((await earn(api, m.id, '20', { orderId: 'ORDERS-DUP' })).data.earnPoints.duplicate).toBe(true);
      expect(await mine(m, c.code)).toMatchObject({ current: 3, progress: 1, completed: true });
      expect(await mine(m, spend.code)).toMatchObject({ current: 50 });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      expect(await balanceOf(api, m.id)).toBe(50 + 30);
    });

    it('CHECK_INS counts check-ins, and nothing else moves it', async () => {
      api.clock.set(at(6, 2));
      const c = await challenge(6, 'CHECK_INS', 3, 40);
      const t = `task-m6-${++sequence}`;
      await api.ok('mutation($code: String!) { upsertTask(input: { code: $code, name: "分享", points: 3, frequency: DAILY, selfClaimable: true }) { code } }', { code: t });
      const m = await createMember(api);
      await earnOk(m, '10');
      await api.ok('mutation($code: String!) { claimTask(code: $code) { pointsAwarded } }', { code: t }, m.token);
      expect(await mine(m, c.code)).toMatchObject({ current: 0, completed: false });
      for (let day = 0; day < 3; day++) {
        await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token);
        expect(await mine(m, c.code)).toMatchObject({ current: day + 1, completed: day === 2 });
        api.clock.advanceDays(1);
      }
      await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token);
      expect(await mine(m, c.code)).toMatchObject({ current: 4, progress: 1, completed: true });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      // 10 (purchase) + 3 (task) + 5 + 7 + 9 + 11 (check-ins) + 40 (challenge)
      expect(await balanceOf(api, m.id)).toBe(10 + 3 + 5 + 7 + 9 + 11 + 40);
    });

    it('TASKS counts task completions, claimed or reported', async () => {
      api.clock.set(at(7, 2));
      const c = await challenge(7, 'TASKS', 2, 60);
      const [self, reported] = [`self-m7-${++sequence}`, `rep-m7-${++sequence}`];
      await api.ok('mutation($code: String!) { upsertTask(input: { code: $code, name: "分享", points: 3, frequency: DAILY, selfClaimable: true }) { code } }', { code: self });
      await api.ok('mutation($code: String!) { upsertTask(input: { code: $code, name: "评价", points: 4, frequency: DAILY }) { code } }', { code: reported });
      const m = await createMember(api);
      await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token);
      await earnOk(m, '10');
      expect(await mine(m, c.code)).toMatchObject({ current: 0 });
      await api.ok('mutation($code: String!) { claimTask(code: $code) { pointsAwarded } }', { code: self }, m.token);
      expect(await mine(m, c.code)).toMatchObject({ current: 1, progress: 0.5, completed: false });
      // An ALREADY_DONE claim and an idempotent replay are not completions.
      expect(await api.code('mutation($code: String!) { claimTask(code: $code) { pointsAwarded } }', { code: self }, m.token)).toBe('ALREADY_DONE');
      const record = 'mutation($id: ID!, $code: String!) { recordTaskCompletion(memberId: $id, code: $code, reference: "M7-R1") { pointsAwarded } }';
      await api.ok(record, { id: m.id, code: reported }, tokens.admin());
      expect(await mine(m, c.code)).toMatchObject({ current: 2, progress: 1, completed: true });
      await api.ok(record, { id: m.id, code: reported }, tokens.admin());
      expect(await mine(m, c.code)).toMatchObject({ current: 2, completed: true });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      expect(await balanceOf(api, m.id)).toBe(5 + 10 + 3 + 4 + 60);
    });
  });

  describe('window', () => {
    it('only events inside the window count, and the challenge is listed only while it runs', async () => {
      const c = await challenge(8, 'SPEND', 100, 20, { startsAt: at(8, 10, 0), endsAt: at(8, 15, 0) });
      const m = await createMember(api);
      api.clock.set(at(8, 9, 23)); // an hour before it starts
      await earnOk(m, '150');
      expect(await mine(m, c.code)).toBeUndefined();
      expect(await stored(c.code, m.id)).toBeNull();

      api.clock.set(at(8, 10, 0)); // starts: inclusive
      expect(await mine(m, c.code)).toMatchObject({ current: 0, completed: false });
      await earnOk(m, '60');
      expect(await mine(m, c.code)).toMatchObject({ current: 60, progress: 0.6 });

      api.clock.set(at(8, 15, 0)); // ends: exclusive
      await earnOk(m, '60');
      expect(await mine(m, c.code)).toBeUndefined();
      expect(await stored(c.code, m.id)).toMatchObject({ current: '60.00', completed_at: null });
      api.clock.set(at(8, 16));
      await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token);
      expect(await stored(c.code, m.id)).toMatchObject({ current: '60.00', completed_at: null });
      expect(await rewardsFor(m, c.code)).toHaveLength(0);
      expect(await balanceOf(api, m.id)).toBe(150 + 60 + 60 + 5);
    });

    it('admins and partners see running challenges without progress; members see their own', async () => {
      api.clock.set(at(9, 25)); // no challenge of this file runs now
      const c = await challenge(9, 'ORDERS', 2, 10, { startsAt: at(9, 24, 0), endsAt: at(9, 26, 0) });
      const [a, b] = [await createMember(api), await createMember(api)];
      await earnOk(a, '1');
      expect(await mine(a, c.code)).toMatchObject({ current: 1, progress: 0.5 });
      expect(await mine(b, c.code)).toMatchObject({ current: 0, progress: 0 });
      for (const token of [tokens.admin()]) {
        expect((await api.ok(CHALLENGES, {}, token)).challenges).toEqual([{ challenge: expect.objectContaining({ code: c.code }), current: 0, progress: 0, completed: false }]);
      }
      expect(await api.code(CHALLENGES, {}, null)).toBe('UNAUTHENTICATED');
    });
  });

  describe('reward', () => {
    it('is paid once: further events move the progress but pay nothing', async () => {
      api.clock.set(at(9, 2));
      const c = await challenge(9, 'SPEND', 100, 25);
      const m = await createMember(api);
      await earnOk(m, '120');
      expect(await mine(m, c.code)).toMatchObject({ current: 120, progress: 1, completed: true });
      await earnOk(m, '50');
      await earnOk(m, '200');
      expect(await mine(m, c.code)).toMatchObject({ current: 370, progress: 1, completed: true });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      expect(await balanceOf(api, m.id)).toBe(120 + 50 + 200 + 25);
      // The member is told.
      const notes = (await api.ok('{ notifications(first: 10) { edges { node { kind title } } } }', {}, m.token)).notifications.edges.map((e: any) => e.node);
      expect(notes.filter((n: any) => n.kind === 'REWARD')).toHaveLength(1);
    });

    it('is published on balanceChanged right after the purchase that earned it', async () => {
      api.clock.set(at(12, 6));
      const c = await challenge(12, 'ORDERS', 1, 33);
      const m = await createMember(api);
      const balance = collect(api.ws(m.token), 'subscription { balanceChanged { delta balance entry { type reference } } }', {}, 'balanceChanged');
      await untilSubscribed(api, `BALANCE:${m.id}`);
      await earnOk(m, '10');
      await balance.nth(2);
      expect(balance.errors).toEqual([]);
      expect(balance.events).toEqual([
        { delta: 10, balance: 10, entry: expect.objectContaining({ type: 'PURCHASE' }) },
        { delta: 33, balance: 43, entry: { type: 'REWARD', reference: `challenge:${c.code}` } },
      ]);
    });

    it('two purchases crossing the target concurrently pay once', async () => {
      api.clock.set(at(10, 2));
      const c = await challenge(10, 'SPEND', 500, 200, { startsAt: at(10, 1, 0), endsAt: at(10, 4, 0) });
      const m = await createMember(api);
      const results = await Promise.all([earn(api, m.id, '300'), earn(api, m.id, '300')]);
      expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
      expect(await mine(m, c.code)).toMatchObject({ current: 600, progress: 1, completed: true });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      expect(await balanceOf(api, m.id)).toBe(600 + 200);
    });

    it('eight concurrent purchases by one member, several crossing the target, pay once', async () => {
      api.clock.set(at(10, 5));
      const c = await challenge(10, 'ORDERS', 3, 50, { startsAt: at(10, 4, 0), endsAt: at(10, 7, 0) });
      const m = await createMember(api);
      const results = await Promise.all(Array.from({ length: 8 }, () => earn(api, m.id, '10')));
      expect(results.map((r) => r.errors)).toEqual(Array(8).fill(undefined));
      expect(await mine(m, c.code)).toMatchObject({ current: 8, completed: true });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      expect(await balanceOf(api, m.id)).toBe(80 + 50);
    });

    it('members complete it independently', async () => {
      api.clock.set(at(10, 8));
      const c = await challenge(10, 'ORDERS', 1, 7, { startsAt: at(10, 7, 0), endsAt: at(10, 10, 0) });
      const members = await Promise.all(Array.from({ length: 4 }, () => createMember(api)));
      await Promise.all(members.map((m) => earn(api, m.id, '10')));
      for (const m of members) {
        expect(await mine(m, c.code)).toMatchObject({ current: 1, completed: true });
        expect(await balanceOf(api, m.id)).toBe(17);
      }
    });

    it('a held purchase counts only when approved, and a rejected one never', async () => {
      api.clock.set(at(11, 2));
      const c = await challenge(11, 'SPEND', 15_000, 300);
      const orders = await challenge(11, 'ORDERS', 2, 20);
      const m = await createMember(api);
      const held = await earnOk(m, '12000');
      expect(held.status).toBe('HELD_FOR_REVIEW');
      expect(await mine(m, c.code)).toMatchObject({ current: 0, completed: false });
      expect(await mine(m, orders.code)).toMatchObject({ current: 0 });
      const rejected = await earnOk(m, '11000');
      await api.ok('mutation($id: ID!) { rejectHeldEntry(entryId: $id, reason: "可疑") { status } }', { id: rejected.entry.id });
      expect(await mine(m, c.code)).toMatchObject({ current: 0 });

      await earnOk(m, '3000');
      expect(await mine(m, c.code)).toMatchObject({ current: 3000, progress: 0.2 });
      await api.ok('mutation($id: ID!) { approveHeldEntry(entryId: $id) { status } }', { id: held.entry.id });
      expect(await mine(m, c.code)).toMatchObject({ current: 15_000, progress: 1, completed: true });
      expect(await mine(m, orders.code)).toMatchObject({ current: 2, completed: true });
      // Approving again changes nothing.
      await api.ok('mutation($id: ID!) { approveHeldEntry(entryId: $id) { status } }', { id: held.entry.id });
      expect(await mine(m, c.code)).toMatchObject({ current: 15_000 });
      expect(await rewardsFor(m, c.code)).toHaveLength(1);
      expect(await rewardsFor(m, orders.code)).toHaveLength(1);
    });
  });

  describe('upsertChallenge', () => {
    const base = { code: 'valid-challenge', name: '消费挑战', metric: 'SPEND', target: 100, rewardPoints: 10, startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-02-01T00:00:00Z' };

    it('validates its input', async () => {
      for (const bad of [
        { code: '' },
        { code: 'has space' },
        { name: '' },
        { name: '名'.repeat(65) },
        { description: 'd'.repeat(501) },
        { target: 0 },
        { target: -1 },
        { target: 0.001 },
        { target: 1e13 },
        { rewardPoints: 0 },
        { rewardPoints: -10 },
        { rewardPoints: 1_000_001 },
        { endsAt: base.startsAt },
        { endsAt: '2029-12-31T00:00:00Z' },
        { metric: 'STEPS' },
        { startsAt: 'not a date' },
      ]) {
        expect(await api.code(UPSERT, { input: { ...base, ...bad } }), JSON.stringify(bad)).toBe('BAD_USER_INPUT');
      }
      const [{ n }] = await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from challenge where code = ?', [base.code]);
      expect(n).toBe(0);
    });

    it('concurrent upserts of one new code create one challenge, and none fails', async () => {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api.gql(UPSERT, { input: { ...base, code: 'raced', rewardPoints: 10 + i } }, tokens.admin())));
      expect(results.map((r) => r.errors)).toEqual(Array(6).fill(undefined));
      expect(new Set(results.map((r) => r.data.upsertChallenge.id)).size).toBe(1);
      const [{ n }] = await api.app.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from challenge where code = ?', ['raced']);
      expect(n).toBe(1);
    });

    it('is for admins only', async () => {
      const m = await createMember(api);
      expect(await api.code(UPSERT, { input: base }, tokens.partner())).toBe('FORBIDDEN');
      expect(await api.code(UPSERT, { input: base }, m.token)).toBe('FORBIDDEN');
    });

    it('creates, then updates by code keeping the id', async () => {
      const created = (await api.ok(UPSERT, { input: { ...base, code: 'upsert-me', target: 99.999 } })).upsertChallenge;
      expect(created).toMatchObject({ code: 'upsert-me', name: '消费挑战', description: '', metric: 'SPEND', target: 100, rewardPoints: 10, startsAt: '2030-01-01T00:00:00.000Z' });
      const updated = (
        await api.ok(UPSERT, { input: { ...base, code: 'upsert-me', name: '下单挑战', description: '下单 5 笔', metric: 'ORDERS', target: 5, rewardPoints: 50, endsAt: '2030-03-01T00:00:00Z' } })
      ).upsertChallenge;
      expect(updated).toEqual({
        id: created.id,
        code: 'upsert-me',
        name: '下单挑战',
        description: '下单 5 笔',
        metric: 'ORDERS',
        target: 5,
        rewardPoints: 50,
        startsAt: '2030-01-01T00:00:00.000Z',
        endsAt: '2030-03-01T00:00:00.000Z',
      });
    });
  });
});
