import { afterEach, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app';
import { untilBoard } from '../support/boards';
import { startFleet } from '../support/fleet';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { collect, type Collector } from '../support/ws';
import { createItem, memberWith, redeem } from '../catalog/support';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const BALANCE_CHANGED = 'subscription { balanceChanged { memberId balance delta } }';
const BOARD = `query($period: LeaderboardPeriod!) { leaderboard(period: $period, first: 50) { period totalMembers entries { rank score member { id nickname tierLevel } } } }`;
const SETTINGS = `{ programSettings { pointsPerCurrencyUnit validityDays } }`;
const UPDATE = `mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { pointsPerCurrencyUnit validityDays } }`;

const until = async (check: () => boolean | Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const codesOf = (results: { errors?: { extensions?: { code?: string } }[] }[]) =>
  results.reduce<Record<string, number>>((counts, r) => {
    const code = r.errors ? (r.errors[0].extensions?.code ?? 'UNKNOWN') : 'OK';
    counts[code] = (counts[code] ?? 0) + 1;
    return counts;
  }, {});

/**
 * Three instances over one database and one Redis namespace, every request and socket sent to
 * the next instance in turn. What one process proves by itself (a lock, a cache, a coalesced
 * push) must hold when the work is spread.
 */
describe('three instances behind a round-robin balancer', async () => {
  const fleet = await startFleet(3);
  const [a] = fleet.instances;
  const sql = <T = any>(query: string, params: unknown[] = []) => a.app.orm.em.fork().execute<T[]>(query, params);
  afterEach(async () => {
    a.clock.advance(HOUR);
    await expectReconciled(a);
  });

  it('an earning posted on one instance is pushed to the member’s sockets on the two others', async () => {
    const m = await createMember(fleet.next());
    const received = new Map<TestApp, Collector<{ memberId: string; balance: number; delta: number }>>();
    for (let i = 0; i < 3; i++) {
      const { client, on } = fleet.ws(m.token);
      received.set(on, collect(client, BALANCE_CHANGED, {}, 'balanceChanged'));
    }
    expect(received.size).toBe(3);
    // Every instance holds one subscriber on the member's channel before anything is posted.
    await until(async () => {
      const [, count] = (await a.app.redis.publisher.pubsub('NUMSUB', `${a.redisPrefix}BALANCE:${m.id}`)) as [string, number];
      return Number(count) >= 3;
    });
    const poster = fleet.next();
    expect((await earn(poster, m.id, '120.00')).errors).toBeUndefined();
    for (const [on, feed] of received) expect(await feed.next(), on === poster ? 'poster' : 'other instance').toEqual({ memberId: m.id, balance: 120, delta: 120 });
    // Sentinel: a second earning is every socket's next event, so none was sent the first one twice.
    expect((await earn(fleet.next(), m.id, '10.00')).errors).toBeUndefined();
    for (const [on, feed] of received) {
      expect(await feed.next(), on.url).toEqual({ memberId: m.id, balance: 130, delta: 10 });
      expect(feed.errors).toEqual([]);
      feed.dispose();
    }
  });

  it('100 members redeeming a stock of 10 through all three instances at once: exactly 10 win', async () => {
    const members = await Promise.all(Array.from({ length: 100 }, () => memberWith(fleet.next(), 100)));
    const item = await createItem(fleet.next(), { name: '限量周边', type: 'VIRTUAL', pointsPrice: 100, stock: 10 });
    const results = await Promise.all(members.map((m) => redeem(fleet.next(), m.token, { itemId: item.id })));
    expect(codesOf(results)).toEqual({ OK: 10, OUT_OF_STOCK: 90 });
    const [{ stock }] = await sql<{ stock: number }>('select stock from catalog_item where id = ?', [item.id]);
    expect(stock).toBe(0);
    const rows = await sql<{ member_id: string }>('select member_id from redemption where item_id = ?', [item.id]);
    const winners = new Set(members.filter((_, i) => !results[i].errors).map((m) => m.id));
    expect(new Set(rows.map((r) => r.member_id))).toEqual(winners);
    expect(winners.size).toBe(10);
    // The winners of each instance add up: every instance both won and refused some.
    const balances = await sql<{ id: string; balance: number }>('select id, balance from member where id = any(?::uuid[])', [`{${members.map((m) => m.id).join(',')}}`]);
    for (const b of balances) expect(b.balance, b.id).toBe(winners.has(b.id) ? 0 : 100);
  });

  it('leaderboards read the same from every instance after earnings spread over all three', async () => {
    const members = await Promise.all(Array.from({ length: 9 }, () => createMember(fleet.next())));
    await Promise.all(members.map((m, i) => earn(fleet.next(), m.id, `${(i + 1) * 10 + 0.5}`)));
    await untilBoard(fleet.next(), 'WEEKLY', (board) => members.every((m) => board.entries.some((e) => e.member.id === m.id)));
    for (const period of ['WEEKLY', 'MONTHLY', 'ALL_TIME']) {
      const seen = await Promise.all(fleet.instances.map((on) => on.ok(BOARD, { period })));
      expect(seen[1], period).toEqual(seen[0]);
      expect(seen[2], period).toEqual(seen[0]);
      const ours = seen[0].leaderboard.entries.filter((e: any) => members.some((m) => m.id === e.member.id));
      // Higher spend first: the 9th member (90.5 → 91 points) leads our nine.
      expect(ours[0].member.id, period).toBe(members[8].id);
    }
  });

  it('jobs running on all three at once: each lot warned once, then expired once', async () => {
    const members = await Promise.all(Array.from({ length: 6 }, () => createMember(fleet.next())));
    for (const [i, m] of members.entries()) {
      expect((await adjust(fleet.next(), m.id, 20 + i, { validDays: 2 })).errors).toBeUndefined();
      if (i % 2 === 0) expect((await adjust(fleet.next(), m.id, 5, { validDays: 3 })).errors).toBeUndefined();
    }
    const ids = `{${members.map((m) => m.id).join(',')}}`;
    const runAll = async () => {
      const results = await Promise.all(fleet.instances.map((on) => on.app.jobs.runOnce()));
      for (const r of results) for (const [job, result] of Object.entries(r as Record<string, unknown>)) expect(result, job).not.toHaveProperty('error');
    };
    await Promise.all([runAll(), runAll()]);
    const warnings = await sql<{ member_id: string; n: number }>(
      `select member_id, count(*)::int as n from notification where kind = 'EXPIRY_WARNING' and member_id = any(?::uuid[]) group by member_id`,
      [ids],
    );
    expect(warnings).toHaveLength(6);
    expect(warnings.every((w) => w.n === 1)).toBe(true);

    a.clock.advance(3.5 * DAY);
    await Promise.all([runAll(), runAll()]);
    const perLot = await sql<{ lot_id: string; n: number }>(
      `select a.lot_id, count(*)::int as n from lot_allocation a join ledger_entry e on e.id = a.entry_id
       where e.type = 'EXPIRY' and e.member_id = any(?::uuid[]) group by a.lot_id`,
      [ids],
    );
    expect(perLot).toHaveLength(6 + 3);
    expect(perLot.every((l) => l.n === 1)).toBe(true);
    const balances = await sql<{ balance: number }>('select balance from member where id = any(?::uuid[])', [ids]);
    expect(balances.every((b) => b.balance === 0)).toBe(true);
  });

  it('settings changed on one instance apply on the next request to any other', async () => {
    const before = (await fleet.ok(SETTINGS)).programSettings;
    try {
      const writer = fleet.next();
      expect((await writer.ok(UPDATE, { input: { pointsPerCurrencyUnit: 3, validityDays: 60 } })).updateProgramSettings).toEqual({ pointsPerCurrencyUnit: 3, validityDays: 60 });
      for (const on of fleet.instances) expect((await on.ok(SETTINGS)).programSettings, on.url).toEqual({ pointsPerCurrencyUnit: 3, validityDays: 60 });
      const m = await createMember(fleet.next());
      for (const on of fleet.instances) {
        const res = await earn(on, m.id, '10.00');
        expect(res.errors).toBeUndefined();
        expect(res.data.earnPoints.points, on.url).toBe(30);
        expect(res.data.earnPoints.entry.expiresAt, on.url).toBe(new Date(a.clock.now().getTime() + 60 * DAY).toISOString());
      }
    } finally {
      await a.ok(UPDATE, { input: before });
    }
  });

  it('the balancer spread the traffic: every instance answered hundreds of requests', async () => {
    const served = await Promise.all(
      fleet.instances.map((on) => on.app.metrics.registry.getSingleMetricAsString('graphql_http_responses_total').then((text) => Number(/status="200"} (\d+)/.exec(text)?.[1] ?? 0))),
    );
    for (const n of served) expect(n).toBeGreaterThan(100);
  });
});
