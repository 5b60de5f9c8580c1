import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { ExpiryJob } from '../../src/jobs/expiry.job';
import { createMember, type CreatedMember } from '../support/factories';
import { ENTRY_FIELDS, adjust, balanceOf, earn, startLedgerApp, newOrderId } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const LEDGER = `query($id: ID!) { member(id: $id) { balance ledger(first: 50) { edges { node { ${ENTRY_FIELDS} } } } } }`;

/** Runs `count` calls at once and waits for all of them. */
const all = <T>(count: number, run: (i: number) => Promise<T>) => Promise.all(Array.from({ length: count }, (_, i) => run(i)));

describe('ledger under concurrency', async () => {
  const { api, db } = await startLedgerApp();

  const ledger = async (id: string) => (await api.ok(LEDGER, { id })).member.ledger.edges.map((e: any) => e.node);
  async function adjustOk(memberId: string, delta: number, validDays?: number) {
    const res = await adjust(api, memberId, delta, { validDays });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.adjustPoints;
  }

  it('50 concurrent spends of 10 against 175 points: exactly 17 succeed, the rest INSUFFICIENT_POINTS', async () => {
    const m = await createMember(api);
    // Three lots, so that concurrent spends also race on lot allocation.
    await adjustOk(m.id, 100, 10);
    await adjustOk(m.id, 50, 0);
    await adjustOk(m.id, 25, 5);
    const results = await all(50, (i) => adjust(api, m.id, -10, { key: `spend-${m.id}-${i}` }));
    const ok = results.filter((r) => !r.errors);
    const codes = results.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code);
    expect(ok).toHaveLength(17);
    expect(codes).toEqual(Array(33).fill('INSUFFICIENT_POINTS'));
    // Each success saw the balance its predecessor left: 165, 155, ..., 5.
    const after = ok.map((r) => r.data.adjustPoints.balanceAfter).sort((a: number, b: number) => b - a);
    expect(after).toEqual(Array.from({ length: 17 }, (_, i) => 165 - 10 * i));
    expect(await balanceOf(api, m.id)).toBe(5);
    const entries = await ledger(m.id);
    expect(entries.filter((e: any) => e.delta === -10)).toHaveLength(17);
    expect(entries).toHaveLength(20);
    // The 5 left are in the never-expiring lot: earliest-expiry first held under the race.
    const lots = await db.query('select amount, remaining, expires_at from points_lot where member_id = $1 order by id', [m.id]);
    expect(lots.rows.map((l) => [l.amount, l.remaining])).toEqual([
      [100, 0],
      [50, 5],
      [25, 0],
    ]);
  });

  it('20 concurrent earnPoints with one orderId post once; the others are duplicates of it', async () => {
    const m = await createMember(api);
    const orderId = newOrderId();
    const results = await all(20, () => earn(api, m.id, '123.45', { orderId }));
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const payloads = results.map((r) => r.data.earnPoints);
    expect(payloads.filter((p) => !p.duplicate)).toHaveLength(1);
    expect(payloads.filter((p) => p.duplicate)).toHaveLength(19);
    expect(new Set(payloads.map((p) => p.entry.id)).size).toBe(1);
    expect(new Set(payloads.map((p) => p.points))).toEqual(new Set([124]));
    const entries = await ledger(m.id);
    expect(entries.map((e: any) => [e.type, e.delta, e.reference])).toEqual([['PURCHASE', 124, orderId]]);
    const member = await api.ok(`query($id: ID!) { member(id: $id) { balance totalSpend lifetimeEarned } }`, { id: m.id });
    expect(member.member).toEqual({ balance: 124, totalSpend: '123.45', lifetimeEarned: 124 });
  });

  it('one new orderId raced by several members: one earns it, the others get CONFLICT', async () => {
    const members = await all(6, () => createMember(api));
    const orderId = newOrderId();
    const results = await all(members.length, (i) => earn(api, members[i].id, '50', { orderId }));
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(Array(5).fill('CONFLICT'));
    const balances = await all(members.length, (i) => balanceOf(api, members[i].id));
    expect(balances.sort()).toEqual([0, 0, 0, 0, 0, 50]);
  });

  it('20 concurrent identical adjustments with one key post once', async () => {
    const m = await createMember(api);
    const key = `grant-${m.id}`;
    const credits = await all(20, () => adjust(api, m.id, 300, { key }));
    for (const r of credits) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(new Set(credits.map((r) => r.data.adjustPoints.id)).size).toBe(1);
    expect(await balanceOf(api, m.id)).toBe(300);

    const spendKey = `take-${m.id}`;
    const debits = await all(20, () => adjust(api, m.id, -120, { key: spendKey }));
    for (const r of debits) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(new Set(debits.map((r) => r.data.adjustPoints.id)).size).toBe(1);
    expect(await balanceOf(api, m.id)).toBe(180);
    expect((await ledger(m.id)).map((e: any) => [e.type, e.delta, e.balanceAfter])).toEqual([
      ['ADJUSTMENT', -120, 180],
      ['ADJUSTMENT', 300, 300],
    ]);
  });

  it('concurrent earnings, spends and a reversal on one member keep the ledger consistent', async () => {
    const m = await createMember(api);
    await adjustOk(m.id, 200, 0);
    const orderId = newOrderId();
    await earn(api, m.id, '100', { orderId });
    const results = await Promise.all([
      ...Array.from({ length: 8 }, () => earn(api, m.id, '10')),
      ...Array.from({ length: 10 }, () => adjust(api, m.id, -30)),
      api.gql(`mutation($orderId: String!) { reverseEarn(input: { orderId: $orderId, reason: "退货" }) { pointsReversed shortfall } }`, { orderId }, tokens.admin()),
    ]);
    results.slice(0, 8).forEach((r) => expect(r.errors, JSON.stringify(r.errors)).toBeUndefined());
    results.slice(8).forEach((r) => r.errors && expect(r.errors[0].extensions?.code).toBe('INSUFFICIENT_POINTS'));
    const reversal = results[18].data.reverseEarn;
    expect(reversal.pointsReversed + reversal.shortfall).toBe(100);
    // Any interleaving is valid (a reversal after all ten spends leaves a shortfall); what must hold is below.
    const spent = results.slice(8, 18).filter((r) => !r.errors).length;

    const entries = await ledger(m.id);
    const repaid = -entries.filter((e: any) => e.source === 'system:debt').reduce((sum: number, e: any) => sum + e.delta, 0);
    expect(repaid).toBeLessThanOrEqual(reversal.shortfall);
    const balance = await balanceOf(api, m.id);
    expect(balance).toBe(380 - 30 * spent - reversal.pointsReversed - repaid);
    expect(balance).toBe(entries.reduce((sum: number, e: any) => sum + e.delta, 0));
    expect(balance).toBeGreaterThanOrEqual(0);
    // Every posting saw the one before it: the balances after, newest first, follow the deltas.
    for (let i = 0; i < entries.length - 1; i++) expect(entries[i].balanceAfter).toBe(entries[i + 1].balanceAfter + entries[i].delta);
  });

  describe('expiry jobs', () => {
    /** Members with a 1-day lot, a 2-day lot (partly spent) and a never-expiring lot. */
    async function membersWithDueLots(count: number) {
      const members: CreatedMember[] = [];
      for (let i = 0; i < count; i += 10) members.push(...(await all(Math.min(10, count - i), () => createMember(api))));
      let due = 0;
      const dueOf = new Map<string, number>();
      await all(members.length, async (i) => {
        const m = members[i];
        await adjustOk(m.id, 10 + i, 1);
        await adjustOk(m.id, 20, 2);
        await adjustOk(m.id, 7, 0);
        if (i % 5) await adjustOk(m.id, -(i % 5)); // from the 1-day lot
        dueOf.set(m.id, 10 + i - (i % 5) + 20);
      });
      for (const points of dueOf.values()) due += points;
      return { members, due, dueOf };
    }

    async function expiryOf(memberIds: string[]) {
      const { rows } = await db.query(
        `select member_id, count(*)::int as entries, -sum(delta)::int as points from ledger_entry
         where type = 'EXPIRY' and member_id = any($1::uuid[]) group by member_id`,
        [memberIds],
      );
      return new Map(rows.map((r) => [r.member_id as string, r as { entries: number; points: number }]));
    }

    async function expectEachLotExpiredOnce() {
      const twice = await db.query(
        `select a.lot_id, count(*)::int from lot_allocation a join ledger_entry e on e.id = a.entry_id
         where e.type = 'EXPIRY' group by a.lot_id having count(*) > 1`,
      );
      expect(twice.rows).toEqual([]);
      const left = await db.query('select id from points_lot where remaining > 0 and expires_at <= $1', [api.clock.now()]);
      expect(left.rows).toEqual([]);
    }

    it('two instances running the job at once expire each due lot exactly once', async () => {
      const api2 = await startApp({ sharing: api });
      const { members, due, dueOf } = await membersWithDueLots(30);
      api.clock.advance(2 * DAY);
      const [a, b] = await Promise.all([api.app.jobs.runOnce(), api2.app.jobs.runOnce()]);
      const ra = a.expiry as { members: number; lots: number; points: number };
      const rb = b.expiry as { members: number; lots: number; points: number };
      expect(ra).not.toHaveProperty('error');
      expect(rb).not.toHaveProperty('error');
      expect(ra.members + rb.members).toBe(30);
      expect(ra.lots + rb.lots).toBe(60); // the 1-day and the 2-day lot of each member
      expect(ra.points + rb.points).toBe(due);

      const expiry = await expiryOf(members.map((m) => m.id));
      for (const m of members) expect(expiry.get(m.id)).toEqual({ member_id: m.id, entries: 1, points: dueOf.get(m.id) });
      const balances = await all(members.length, (i) => balanceOf(api, members[i].id));
      expect(balances).toEqual(Array(30).fill(7));
      await expectEachLotExpiredOnce();

      // Both again: nothing left to do.
      const again = await Promise.all([api.app.jobs.runOnce(), api2.app.jobs.runOnce()]);
      expect(again.map((r) => r.expiry)).toEqual([
        { members: 0, lots: 0, points: 0, batches: 0 },
        { members: 0, lots: 0, points: 0, batches: 0 },
      ]);
    });

    it('four small-batch jobs racing with the members’ own spends still expire each lot once', async () => {
      const { members, due, dueOf } = await membersWithDueLots(24);
      api.clock.advance(2 * DAY);
      const jobs = Array.from({ length: 4 }, () => new ExpiryJob({ orm: api.app.orm, clock: api.clock, events: api.app.services.events, batchSize: 3 }));
      // Every third member spends 1 point while the jobs run: its money path expires its due lots first.
      const spenders = members.filter((_, i) => i % 3 === 0);
      const [runs, spends] = await Promise.all([Promise.all(jobs.map((j) => j.run())), all(spenders.length, (i) => adjust(api, spenders[i].id, -1))]);
      for (const s of spends) expect(s.errors, JSON.stringify(s.errors)).toBeUndefined();
      const byJobs = runs.reduce((sum, r) => sum + r.points, 0);
      expect(byJobs).toBeLessThanOrEqual(due);

      const expiry = await expiryOf(members.map((m) => m.id));
      let total = 0;
      for (const m of members) {
        expect(expiry.get(m.id)).toMatchObject({ entries: 1, points: dueOf.get(m.id) });
        total += expiry.get(m.id)!.points;
      }
      expect(total).toBe(due);
      const balances = await all(members.length, (i) => balanceOf(api, members[i].id));
      expect(balances).toEqual(members.map((_, i) => (i % 3 === 0 ? 6 : 7)));
      await expectEachLotExpiredOnce();
    });

    it('one job walking the due lots in several key ranges at once leaves no due lot behind and writes one entry per member', async () => {
      const { members, due, dueOf } = await membersWithDueLots(24);
      api.clock.advance(2 * DAY);
      // Batches of 2 over three walkers: many batches cross the walkers' boundaries.
      const run = await new ExpiryJob({ orm: api.app.orm, clock: api.clock, events: api.app.services.events, batchSize: 2, walkers: 3 }).run();
      expect(run.points).toBe(due);
      expect(run.members).toBe(members.length);
      const expiry = await expiryOf(members.map((m) => m.id));
      for (const m of members) expect(expiry.get(m.id)).toMatchObject({ entries: 1, points: dueOf.get(m.id) });
      await expectEachLotExpiredOnce();
    });
  });
});
