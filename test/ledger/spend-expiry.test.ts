import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { ENTRY_FIELDS, adjust, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const EXPIRING = 'expiringPoints(withinDays: $within) { points earliestExpiry daysUntilEarliest lots { points expiresAt } }';
const VIEW = `query($id: ID!, $within: Int = 30) { member(id: $id) { balance ${EXPIRING} ledger(first: 50) { edges { node { ${ENTRY_FIELDS} } } } } }`;
const LEDGER = `query($id: ID!, $first: Int, $after: String, $filter: LedgerFilter) {
  member(id: $id) { ledger(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } edges { cursor node { id type delta balanceAfter createdAt } } } }
}`;

describe('spending and expiry', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const at = (days: number) => new Date(api.clock.now().getTime() + days * DAY).toISOString();
  const view = async (id: string, within = 30) => (await api.ok(VIEW, { id, within })).member;
  const types = (member: any) => member.ledger.edges.map((e: any) => [e.node.type, e.node.delta, e.node.balanceAfter]);
  async function adjustOk(memberId: string, delta: number, options: { validDays?: number; key?: string } = {}) {
    const res = await adjust(api, memberId, delta, options);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.adjustPoints;
  }
  async function adjustCode(memberId: string, delta: number) {
    const res = await adjust(api, memberId, delta);
    expect(res.errors?.length, `expected an error, got ${JSON.stringify(res.data)}`).toBeGreaterThan(0);
    return res.errors![0];
  }
  async function runExpiry() {
    const results = await api.app.jobs.runOnce();
    expect(results.expiry).not.toHaveProperty('error');
    return results.expiry as { members: number; points: number };
  }

  it('spends the earliest-expiring lot first and never-expiring points last', async () => {
    const m = await createMember(api);
    const in10 = at(10);
    const in5 = at(5);
    const tenDay = await adjustOk(m.id, 100, { validDays: 10 });
    const fiveDay = await adjustOk(m.id, 100, { validDays: 5 });
    const forever = await adjustOk(m.id, 100, { validDays: 0 });
    expect([tenDay.expiresAt, fiveDay.expiresAt, forever.expiresAt]).toEqual([in10, in5, null]);
    expect((await view(m.id)).expiringPoints).toEqual({
      points: 200,
      earliestExpiry: in5,
      daysUntilEarliest: 5,
      lots: [
        { points: 100, expiresAt: in5 },
        { points: 100, expiresAt: in10 },
      ],
    });

    const spend = await adjustOk(m.id, -150);
    expect(spend).toMatchObject({ type: 'ADJUSTMENT', status: 'POSTED', delta: -150, balanceAfter: 150, expiresAt: null });
    let member = await view(m.id);
    // All of the 5-day lot and half of the 10-day lot are gone; the never-expiring lot is untouched.
    expect(member.balance).toBe(150);
    expect(member.expiringPoints).toEqual({ points: 50, earliestExpiry: in10, daysUntilEarliest: 10, lots: [{ points: 50, expiresAt: in10 }] });

    api.clock.advance(2.5 * DAY);
    expect((await view(m.id)).expiringPoints).toMatchObject({ points: 50, daysUntilEarliest: 8 });

    // Day 5: the 5-day lot was spent, so nothing expires.
    api.clock.advance(2.5 * DAY);
    await runExpiry();
    member = await view(m.id);
    expect(member.balance).toBe(150);
    expect(types(member)[0]).toEqual(['ADJUSTMENT', -150, 150]);

    // Day 10: the 50 left of the 10-day lot expire; the 100 that never expire stay.
    api.clock.advance(5 * DAY);
    await runExpiry();
    member = await view(m.id);
    expect(member.balance).toBe(100);
    expect(member.ledger.edges[0].node).toMatchObject({ type: 'EXPIRY', status: 'POSTED', delta: -50, balanceAfter: 100, source: 'system:expiry', createdAt: api.clock.now().toISOString() });
    expect(member.expiringPoints).toEqual({ points: 0, earliestExpiry: null, daysUntilEarliest: null, lots: [] });
    expect((await adjustCode(m.id, -101)).extensions).toMatchObject({ code: 'INSUFFICIENT_POINTS' });
    expect(await adjustOk(m.id, -100)).toMatchObject({ balanceAfter: 0 });
  });

  it('INSUFFICIENT_POINTS writes nothing: balance, lots and ledger are unchanged', async () => {
    const m = await createMember(api);
    await adjustOk(m.id, 60, { validDays: 20 });
    await earn(api, m.id, '40.00');
    const before = await view(m.id);
    expect(before.balance).toBe(100);

    const error = await adjustCode(m.id, -101);
    expect(error.extensions).toMatchObject({ code: 'INSUFFICIENT_POINTS', needed: 101, available: 100 });
    expect(await view(m.id)).toEqual(before);

    // Even when the member has lots that expired in the meantime (expired inside the refused
    // transaction, and rolled back with it): the EXPIRY is posted once, by the job.
    api.clock.advance(20 * DAY);
    expect((await adjustCode(m.id, -41)).extensions).toMatchObject({ code: 'INSUFFICIENT_POINTS', available: 40 });
    expect(types(await view(m.id))).toEqual(types(before));
    await runExpiry();
    const after = await view(m.id);
    expect(types(after)).toEqual([['EXPIRY', -60, 40], ...types(before)]);
    expect(after.balance).toBe(40);
  });

  it('the expiry job posts one EXPIRY entry per member when due, and a second run does nothing', async () => {
    const m = await createMember(api);
    const other = await createMember(api);
    await adjustOk(m.id, 100, { validDays: 3 });
    await adjustOk(m.id, 25, { validDays: 3 });
    await adjustOk(m.id, 40, { validDays: 0 });
    await adjustOk(m.id, 70, { validDays: 30 });
    await adjustOk(other.id, 9, { validDays: 3 });
    await adjustOk(m.id, -5); // from the first 3-day lot

    api.clock.advance(3 * DAY - 1);
    await runExpiry();
    expect((await view(m.id)).balance).toBe(230);
    expect(types(await view(m.id))[0]).toEqual(['ADJUSTMENT', -5, 230]);

    api.clock.advance(1); // the lots expire at exactly this instant
    const first = await runExpiry();
    expect(first.members).toBeGreaterThanOrEqual(2);
    expect(first.points).toBeGreaterThanOrEqual(120 + 9);
    const member = await view(m.id, 60);
    expect(member.balance).toBe(110);
    expect(types(member)[0]).toEqual(['EXPIRY', -120, 110]);
    expect(member.ledger.edges.filter((e: any) => e.node.type === 'EXPIRY')).toHaveLength(1);
    expect(member.expiringPoints).toMatchObject({ points: 70, lots: [{ points: 70 }] });
    expect(types(await view(other.id))).toEqual([
      ['EXPIRY', -9, 0],
      ['ADJUSTMENT', 9, 9],
    ]);

    const second = await runExpiry();
    expect(second).toMatchObject({ members: 0, points: 0 });
    expect(await view(m.id, 60)).toEqual(member);
    await expectReconciled(api);

    // The rest expires on its own day.
    api.clock.advance(27 * DAY);
    await runExpiry();
    expect(types(await view(m.id))[0]).toEqual(['EXPIRY', -70, 40]);
  });

  it('points whose time has passed cannot be spent even before the job runs', async () => {
    const m = await createMember(api);
    await adjustOk(m.id, 100, { validDays: 2 });
    await adjustOk(m.id, 20, { validDays: 0 });
    api.clock.advance(2 * DAY);

    expect((await view(m.id)).expiringPoints).toEqual({ points: 0, earliestExpiry: null, daysUntilEarliest: null, lots: [] });
    expect((await adjustCode(m.id, -50)).extensions).toMatchObject({ code: 'INSUFFICIENT_POINTS', available: 20 });
    const spent = await adjustOk(m.id, -20);
    expect(spent).toMatchObject({ delta: -20, balanceAfter: 0 });
    const member = await view(m.id);
    expect(member.balance).toBe(0);
    // The spend expired the due lot first, in the same transaction.
    expect(types(member)).toEqual([
      ['ADJUSTMENT', -20, 0],
      ['EXPIRY', -100, 20],
      ['ADJUSTMENT', 20, 120],
      ['ADJUSTMENT', 100, 100],
    ]);
    await runExpiry();
    expect(await view(m.id)).toEqual(member);
  });

  it('an earning also expires due lots first', async () => {
    const m = await createMember(api);
    await adjustOk(m.id, 100, { validDays: 1 });
    api.clock.advanceDays(1);
    const res = await earn(api, m.id, '10');
    expect(res.errors).toBeUndefined();
    expect(res.data.earnPoints).toMatchObject({ points: 10, member: { balance: 10 }, entry: { delta: 10, balanceAfter: 10 } });
    expect(types(await view(m.id))).toEqual([
      ['PURCHASE', 10, 10],
      ['EXPIRY', -100, 0],
      ['ADJUSTMENT', 100, 100],
    ]);
  });

  // Contract: Member.balance is "Spendable points now: the sum of unexpired lots".
  it('Member.balance does not count points whose time has passed, before the job runs', async () => {
    const m = await createMember(api);
    await adjustOk(m.id, 100, { validDays: 2 });
    await adjustOk(m.id, 20, { validDays: 0 });
    api.clock.advance(2 * DAY);
    expect((await view(m.id)).balance).toBe(20);
    expect((await api.ok(`{ me { balance } }`, {}, m.token)).me.balance).toBe(20);
    await runExpiry();
    expect((await view(m.id)).balance).toBe(20);
  });

  it('Member.expiringPoints groups live lots by expiry within the window', async () => {
    const m = await createMember(api);
    const in3 = at(3);
    const in7 = at(7);
    const in45 = at(45);
    await adjustOk(m.id, 10, { validDays: 7 });
    await adjustOk(m.id, 15, { validDays: 3 });
    await adjustOk(m.id, 5, { validDays: 7 }); // same instant: grouped with the first
    await adjustOk(m.id, 1000, { validDays: 0 });
    await adjustOk(m.id, 30, { validDays: 45 });
    await adjustOk(m.id, 8, { validDays: 365 });

    expect((await view(m.id)).expiringPoints).toEqual({
      points: 30,
      earliestExpiry: in3,
      daysUntilEarliest: 3,
      lots: [
        { points: 15, expiresAt: in3 },
        { points: 15, expiresAt: in7 },
      ],
    });
    // The window includes its last instant.
    expect((await view(m.id, 3)).expiringPoints).toMatchObject({ points: 15, lots: [{ points: 15, expiresAt: in3 }] });
    expect((await view(m.id, 2)).expiringPoints).toEqual({ points: 0, earliestExpiry: null, daysUntilEarliest: null, lots: [] });
    expect((await view(m.id, 45)).expiringPoints).toMatchObject({ points: 60, lots: [{ expiresAt: in3 }, { expiresAt: in7 }, { points: 30, expiresAt: in45 }] });
    expect((await view(m.id, 400)).expiringPoints.points).toBe(68);

    // A spend of 20 takes the 15 expiring in 3 days and 5 of those in 7 days.
    await adjustOk(m.id, -20);
    expect((await view(m.id)).expiringPoints).toEqual({ points: 10, earliestExpiry: in7, daysUntilEarliest: 7, lots: [{ points: 10, expiresAt: in7 }] });

    // The member sees its own; another member may not look.
    const self = await api.ok(`query($within: Int) { me { ${EXPIRING} } }`, { within: 30 }, m.token);
    expect(self.me.expiringPoints.points).toBe(10);
    const stranger = await createMember(api);
    expect(await api.code(VIEW, { id: m.id }, stranger.token)).toBe('FORBIDDEN');
    expect(await api.code(VIEW, { id: m.id, within: -1 })).toBe('BAD_USER_INPUT');
    expect(await api.code(VIEW, { id: m.id, within: 100_000 })).toBe('BAD_USER_INPUT');
  });

  describe('Member.ledger', () => {
    it('is newest first, filters by types, since and until, and pages through cursors', async () => {
      const m = await createMember(api);
      const t0 = api.clock.now();
      const stamps: string[] = [];
      const step = async (work: () => Promise<unknown>) => {
        stamps.push(api.clock.now().toISOString());
        await work();
        api.clock.advance(DAY);
      };
      await step(() => adjustOk(m.id, 50)); // day 0
      await step(() => earn(api, m.id, '10')); // day 1
      await step(() => adjustOk(m.id, -5)); // day 2
      await step(() => earn(api, m.id, '20')); // day 3
      await step(() => adjustOk(m.id, 7, { validDays: 1 })); // day 4
      await step(() => runExpiry()); // day 5: the 7 expire
      await step(() => earn(api, m.id, '30')); // day 6

      const all = (await api.ok(LEDGER, { id: m.id, first: 50 })).member.ledger;
      expect(all.edges.map((e: any) => [e.node.type, e.node.delta, e.node.balanceAfter, e.node.createdAt])).toEqual([
        ['PURCHASE', 30, 105, stamps[6]],
        ['EXPIRY', -7, 75, stamps[5]],
        ['ADJUSTMENT', 7, 82, stamps[4]],
        ['PURCHASE', 20, 75, stamps[3]],
        ['ADJUSTMENT', -5, 55, stamps[2]],
        ['PURCHASE', 10, 60, stamps[1]],
        ['ADJUSTMENT', 50, 50, stamps[0]],
      ]);
      expect(all.pageInfo.hasNextPage).toBe(false);
      const ids = all.edges.map((e: any) => e.node.id);
      expect([...ids].map(Number)).toEqual([...ids].map(Number).sort((a, b) => b - a));

      // Pages of 3: 3 + 3 + 1, nothing repeated or skipped.
      const seen: string[] = [];
      let after: string | null = null;
      const pages: boolean[] = [];
      for (let i = 0; i < 5; i++) {
        const page: any = (await api.ok(LEDGER, { id: m.id, first: 3, after })).member.ledger;
        seen.push(...page.edges.map((e: any) => e.node.id));
        pages.push(page.pageInfo.hasNextPage);
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(pages).toEqual([true, true, false]);
      expect(seen).toEqual(ids);

      const ofTypes = async (filter: Record<string, unknown>, first = 50, cursor: string | null = null) => (await api.ok(LEDGER, { id: m.id, first, after: cursor, filter })).member.ledger;
      expect((await ofTypes({ types: ['PURCHASE'] })).edges.map((e: any) => e.node.delta)).toEqual([30, 20, 10]);
      expect((await ofTypes({ types: ['ADJUSTMENT', 'EXPIRY'] })).edges.map((e: any) => e.node.delta)).toEqual([-7, 7, -5, 50]);
      expect((await ofTypes({ types: ['REVERSAL'] })).edges).toEqual([]);
      // since is inclusive, until exclusive.
      expect((await ofTypes({ since: stamps[1], until: stamps[4] })).edges.map((e: any) => e.node.delta)).toEqual([20, -5, 10]);
      expect((await ofTypes({ since: stamps[5] })).edges.map((e: any) => e.node.type)).toEqual(['PURCHASE', 'EXPIRY']);
      expect((await ofTypes({ until: new Date(t0.getTime() + 1).toISOString() })).edges.map((e: any) => e.node.delta)).toEqual([50]);
      expect((await ofTypes({ types: ['PURCHASE'], since: stamps[2] })).edges.map((e: any) => e.node.delta)).toEqual([30, 20]);
      // Filters and cursors together.
      const p1 = await ofTypes({ types: ['PURCHASE'] }, 2);
      expect(p1.edges.map((e: any) => e.node.delta)).toEqual([30, 20]);
      expect(p1.pageInfo.hasNextPage).toBe(true);
      const p2 = await ofTypes({ types: ['PURCHASE'] }, 2, p1.pageInfo.endCursor);
      expect(p2.edges.map((e: any) => e.node.delta)).toEqual([10]);
      expect(p2.pageInfo.hasNextPage).toBe(false);

      // The member reads its own ledger.
      const own = await api.ok(`{ me { ledger(first: 2) { edges { node { delta } } } } }`, {}, m.token);
      expect(own.me.ledger.edges.map((e: any) => e.node.delta)).toEqual([30, -7]);
    });

    it('refuses bad cursors and page sizes, and other members', async () => {
      const m = await createMember(api);
      await adjustOk(m.id, 5);
      expect(await api.code(LEDGER, { id: m.id, after: 'garbage' })).toBe('BAD_USER_INPUT');
      expect(await api.code(LEDGER, { id: m.id, after: Buffer.from(JSON.stringify(['1 or 1=1'])).toString('base64url') })).toBe('BAD_USER_INPUT');
      expect(await api.code(LEDGER, { id: m.id, first: -1 })).toBe('BAD_USER_INPUT');
      const other = await createMember(api);
      expect(await api.code(LEDGER, { id: m.id }, other.token)).toBe('FORBIDDEN');
      expect((await api.ok(LEDGER, { id: m.id }, tokens.admin())).member.ledger.edges).toHaveLength(1);
    });
  });

  it('adjustPoints: idempotent on its key, validates its input, admins only', async () => {
    const m = await createMember(api);
    const key = `adj-${Math.random()}`;
    const first = await adjustOk(m.id, 40, { key });
    expect(await adjustOk(m.id, 40, { key })).toEqual(first);
    const conflict = await adjust(api, m.id, 41, { key });
    expect(conflict.errors?.[0].extensions?.code).toBe('CONFLICT');
    const other = await createMember(api);
    expect((await adjust(api, other.id, 40, { key })).errors?.[0].extensions?.code).toBe('CONFLICT');
    const spendKey = `spend-${Math.random()}`;
    const spend = await adjustOk(m.id, -15, { key: spendKey });
    expect(await adjustOk(m.id, -15, { key: spendKey })).toEqual(spend);
    expect((await view(m.id)).balance).toBe(25);
    expect((await view(other.id)).balance).toBe(0);

    const bad = async (input: Record<string, unknown>, token = tokens.admin()) =>
      api.code(
        `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id } }`,
        { input: { memberId: m.id, delta: 1, reason: 'r', idempotencyKey: `k-${Math.random()}`, ...input } },
        token,
      );
    expect(await bad({ delta: 0 })).toBe('BAD_USER_INPUT');
    expect(await bad({ reason: ' ' })).toBe('BAD_USER_INPUT');
    expect(await bad({ validDays: -1 })).toBe('BAD_USER_INPUT');
    expect(await bad({ memberId: '5b0f7c1e-1111-4000-8000-000000000000' })).toBe('NOT_FOUND');
    expect(await bad({}, tokens.partner())).toBe('FORBIDDEN');
    expect(await bad({}, m.token)).toBe('FORBIDDEN');
    expect((await view(m.id)).balance).toBe(25);
  });
});
