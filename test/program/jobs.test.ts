import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startApp, untilSubscribed, type TestApp } from '../support/app';
import { collect, publishSentinel } from '../support/ws';
import { ROOT, requireBuilt } from '../support/root';
import { createMember, type CreatedMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { createItem, redeemOk } from '../catalog/support';
import { createServices } from '../../src/app';
import { JobRunner } from '../../src/jobs/runner';
import { ExpiryJob } from '../../src/jobs/expiry.job';
import { ExpiryWarningJob } from '../../src/jobs/expiry-warning.job';
import { openOrm } from '../../src/platform/db/orm';
import { connectRedis, createRedis } from '../../src/platform/redis';
import { createLogger } from '../../src/platform/logger';
import { Metrics } from '../../src/platform/metrics';
import { addLocalDays, localDate } from '../../src/platform/time';
import { RedisPubSubAdapter } from '../../src/realtime/pubsub';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const UPDATE = `mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { reminderDays } }`;

type RunResults = Record<string, any>;

/** The jobs as `npm run jobs` runs them: their own ORM, Redis and services, beside the servers. */
async function standaloneRunner(api: TestApp) {
  const config = api.app.config;
  const log = createLogger('silent');
  const orm = await openOrm(api.databaseUrl, 4);
  const redis = createRedis(config.redisUrl, api.redisPrefix);
  await connectRedis(redis);
  const pubSub = new RedisPubSubAdapter(redis, log);
  const services = createServices({ clock: api.clock, config, orm, redis, pubSub, log });
  const metrics = new Metrics();
  const runner = new JobRunner({ orm, clock: api.clock, services, pubSub, log, metrics, intervalMs: 60_000 });
  return {
    orm,
    redis,
    pubSub,
    services,
    metrics,
    runner,
    async close() {
      await runner.stop();
      await pubSub.close();
      await redis.close();
      await orm.close();
    },
  };
}

/**
 * Every test shares one database and one clock that only moves forward (the stats job rolls
 * closed days up once and for all; rate limits look back in time).
 */
describe('scheduled jobs', async () => {
  const api = await startApp();
  const em = () => api.app.orm.em.fork();
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterEach(async () => {
    const [{ reminder_days }] = await em().execute('select reminder_days from program_settings');
    if (JSON.stringify(reminder_days) !== '[7,3,1]') await api.ok(UPDATE, { input: { reminderDays: [7, 3, 1] } });
    api.clock.advance(HOUR);
    await expectReconciled(api);
  });

  const runOnce = async (on: TestApp = api) => {
    const results = (await on.app.jobs.runOnce()) as RunResults;
    for (const [job, result] of Object.entries(results)) expect(result, job).not.toHaveProperty('error');
    return results;
  };

  async function warningsOf(m: CreatedMember) {
    const data = await api.ok(`{ notifications(first: 100) { edges { node { kind title body data createdAt } } } }`, {}, m.token);
    return data.notifications.edges
      .map((e: any) => e.node)
      .filter((n: any) => n.kind === 'EXPIRY_WARNING')
      .reverse();
  }

  const inDays = (days: number) => new Date(api.clock.now().getTime() + days * DAY).toISOString();

  /** The member's live warnings, once the subscription is registered in Redis (nothing published after it is missed). */
  async function listen(on: TestApp, m: CreatedMember) {
    const live = collect(on.ws(m.token), 'subscription { pointsExpiring { memberId points daysLeft message expiresAt } }', {}, 'pointsExpiring');
    await untilSubscribed(on, `EXPIRY_WARNING:${m.id}`);
    return live;
  }

  describe('expiry warnings', () => {
    it("speaks the member's language: English for 'en' and 'en-US', Chinese otherwise, in the notification and live", async () => {
      const [en, enUs, zh] = await Promise.all([createMember(api), createMember(api), createMember(api)]);
      await em().execute(`update member set language = 'en' where id = ?`, [en.id]);
      await em().execute(`update member set language = 'en-US' where id = ?`, [enUs.id]);
      for (const m of [en, enUs, zh]) await adjust(api, m.id, 120, { validDays: 5 });
      await adjust(api, enUs.id, 1, { validDays: 1 });
      const live = await listen(api, en);
      await runOnce();

      const [w] = await warningsOf(en);
      expect(w).toMatchObject({ title: 'Points expiring soon', body: '120 points expire in 5 days. Redeem them now!', data: { points: 120, daysLeft: 5, threshold: 7, expiresAt: inDays(5) } });
      expect((await warningsOf(zh))[0]).toMatchObject({ title: '积分即将过期', body: '您有120积分将于5天后过期,快来兑换吧!' });
      // One day left: singular.
      expect((await warningsOf(enUs)).map((n: any) => n.body).sort()).toEqual(['1 points expire in 1 day. Redeem them now!', '120 points expire in 5 days. Redeem them now!']);
      await live.next();
      expect(live.events).toEqual([{ memberId: en.id, points: 120, daysLeft: 5, message: '120 points expire in 5 days. Redeem them now!', expiresAt: inDays(5) }]);
    });

    it("aggregates a member's lots into one warning: summed points, the earliest expiry, its days left", async () => {
      const m = await createMember(api);
      await adjust(api, m.id, 100, { validDays: 6 });
      await adjust(api, m.id, 200, { validDays: 4 });
      await adjust(api, m.id, 50, { validDays: 5 });
      await adjust(api, m.id, 999, { validDays: 30 });
      await adjust(api, m.id, 70, { validDays: 0 });
      const live = await listen(api, m);
      const earliest = inDays(4);
      const run = await runOnce();
      expect(run['expiry-warning'].lots).toBeGreaterThanOrEqual(3);
      const warnings = await warningsOf(m);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ body: '您有350积分将于4天后过期,快来兑换吧!', data: { points: 350, daysLeft: 4, expiresAt: earliest, threshold: 7 } });
      await live.next();
      expect(live.events).toEqual([{ memberId: m.id, points: 350, daysLeft: 4, expiresAt: earliest, message: '您有350积分将于4天后过期,快来兑换吧!' }]);

      // 1.5 days on, only the 4-day lot (2.5 days left) is inside the 3-day window.
      api.clock.advance(1.5 * DAY);
      await runOnce();
      const more = await warningsOf(m);
      expect(more).toHaveLength(2);
      expect(more[1]).toMatchObject({ body: '您有200积分将于3天后过期,快来兑换吧!', data: { points: 200, daysLeft: 3, expiresAt: earliest, threshold: 3 } });
    });

    it('a lot first seen 2 days before expiry gets one warning, not one per threshold it is inside', async () => {
      const m = await createMember(api);
      const entry = (await adjust(api, m.id, 300, { validDays: 2 })).data.adjustPoints;
      await runOnce();
      await runOnce();
      const warnings = await warningsOf(m);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ body: '您有300积分将于2天后过期,快来兑换吧!', data: { points: 300, daysLeft: 2, threshold: 3 } });
      // Claimed at its band only: a lot's band only tightens as time moves on, so the wider
      // threshold is never asked about again for this lot.
      const claimed = await em().execute<{ threshold: number }[]>('select w.threshold from expiry_warning w join points_lot l on l.id = w.lot_id where l.entry_id = ? order by w.threshold', [
        entry.id,
      ]);
      expect(claimed.map((c) => c.threshold)).toEqual([3]);
      // The tighter one still does, once, when the lot crosses it.
      api.clock.advance(1.25 * DAY);
      await runOnce();
      await runOnce();
      const after = await warningsOf(m);
      expect(after).toHaveLength(2);
      expect(after[1]).toMatchObject({ data: { points: 300, daysLeft: 1, threshold: 1 } });
    });

    it('a lot with validity shorter than every threshold is warned once at the tightest', async () => {
      const m = await createMember(api);
      await adjust(api, m.id, 10, { validDays: 1 });
      await runOnce();
      api.clock.advance(0.5 * DAY);
      await runOnce();
      expect((await warningsOf(m)).map((w: any) => w.data.threshold)).toEqual([1]);
    });

    it('reminderDays changed to [10, 5] takes effect on the next run', async () => {
      const m = await createMember(api);
      await adjust(api, m.id, 80, { validDays: 12 });
      await runOnce();
      expect(await warningsOf(m)).toHaveLength(0);
      await api.ok(UPDATE, { input: { reminderDays: [10, 5] } });
      api.clock.advance(2.5 * DAY); // 9.5 days left
      await runOnce();
      await runOnce();
      expect((await warningsOf(m)).map((w: any) => [w.data.threshold, w.data.daysLeft])).toEqual([[10, 10]]);
      api.clock.advance(3 * DAY); // 6.5 days left: between the thresholds (it would have been warned at 7 before)
      await runOnce();
      expect(await warningsOf(m)).toHaveLength(1);
      api.clock.advance(2 * DAY); // 4.5 days left
      await runOnce();
      expect((await warningsOf(m)).map((w: any) => [w.data.threshold, w.data.daysLeft])).toEqual([
        [10, 10],
        [5, 5],
      ]);
    });

    it('spent lots are not warned; a partly spent lot is warned for what remains', async () => {
      const spent = await createMember(api);
      await adjust(api, spent.id, 100, { validDays: 5 });
      await adjust(api, spent.id, -100);
      const partly = await createMember(api);
      await adjust(api, partly.id, 100, { validDays: 5 });
      await adjust(api, partly.id, 50, { validDays: 6 });
      await adjust(api, partly.id, -120); // the 5-day lot is used up, 30 of the 6-day lot remain
      const item = await createItem(api, { pointsPrice: 40, stock: 5 });
      const redeemed = await createMember(api);
      await adjust(api, redeemed.id, 40, { validDays: 4 });
      await redeemOk(api, redeemed.token, { itemId: item.id });
      await runOnce();
      expect(await warningsOf(spent)).toEqual([]);
      expect(await warningsOf(redeemed)).toEqual([]);
      const [w] = await warningsOf(partly);
      expect(w).toMatchObject({ body: '您有30积分将于6天后过期,快来兑换吧!', data: { points: 30, daysLeft: 6 } });
      const rows = await em().execute('select 1 from expiry_warning where member_id in (?, ?)', [spent.id, redeemed.id]);
      expect(rows).toHaveLength(0);
    });

    it('walks members in keyset batches: with batches of 2 every member is warned once, and expired once', async () => {
      const s = await standaloneRunner(api);
      closers.push(() => s.close());
      const members = await Promise.all(Array.from({ length: 9 }, () => createMember(api)));
      for (const [i, m] of members.entries()) {
        await adjust(api, m.id, 10 + i, { validDays: 2 });
        if (i % 2 === 0) await adjust(api, m.id, 5, { validDays: 3 });
      }
      const warning = new ExpiryWarningJob({ orm: s.orm, clock: api.clock, pubSub: s.pubSub, program: s.services.program, batchSize: 2 });
      const result = await warning.run();
      expect(result.batches).toBeGreaterThanOrEqual(5);
      for (const [i, m] of members.entries()) {
        const ws = await warningsOf(m);
        expect(ws, `member ${i}`).toHaveLength(1);
        expect(ws[0].data.points).toBe(10 + i + (i % 2 === 0 ? 5 : 0));
      }
      expect((await warning.run()).warnings).toBe(0);

      api.clock.advance(3.5 * DAY);
      const expiry = new ExpiryJob({ orm: s.orm, clock: api.clock, events: s.services.events, batchSize: 2 });
      // Two walkers at once, one in batches of 2, one with the defaults, plus a server's runner.
      const [a, , c] = await Promise.all([expiry.run(), runOnce(), new ExpiryJob({ orm: api.app.orm, clock: api.clock, events: api.app.services.events }).run()]);
      expect(a.batches + c.batches).toBeGreaterThanOrEqual(1);
      const ids = members.map((m) => m.id);
      const perLot = await em().execute<{ lot_id: string; n: number }[]>(
        `select a.lot_id, count(*)::int as n from lot_allocation a join ledger_entry e on e.id = a.entry_id
         where e.type = 'EXPIRY' and e.member_id = any(?::uuid[]) group by a.lot_id`,
        [`{${ids.join(',')}}`],
      );
      expect(perLot).toHaveLength(9 + 5);
      expect(perLot.every((l) => l.n === 1)).toBe(true);
      const [{ left }] = await em().execute<{ left: number }[]>(`select count(*)::int as left from points_lot where member_id = any(?::uuid[]) and remaining > 0`, [`{${ids.join(',')}}`]);
      expect(left).toBe(0);
    });

    it("an expiry batch tells every member of it after commit: each one's balance event (one pipeline) and each one's cached recommendations dropped (one DEL)", async () => {
      const s = await standaloneRunner(api);
      closers.push(() => s.close());
      const members = await Promise.all(Array.from({ length: 3 }, () => createMember(api)));
      for (const [i, m] of members.entries()) await adjust(api, m.id, 40 + i, { validDays: 1 });
      const cached = members.map((m) => `recs:member:${m.id}`);
      for (const key of cached) await s.redis.command.set(key, '[]');
      const live = [];
      for (const m of members.slice(0, 2)) {
        live.push(collect(api.ws(m.token), 'subscription { balanceChanged { memberId balance delta entry { type } } }', {}, 'balanceChanged'));
        await untilSubscribed(api, `BALANCE:${m.id}`);
      }
      api.clock.advance(1.5 * DAY);
      // One batch for all three: the job's own RedisPubSubAdapter, as `npm run jobs` wires it.
      const result = await new ExpiryJob({ orm: s.orm, clock: api.clock, events: s.services.events }).run();
      expect(result.members).toBeGreaterThanOrEqual(3);
      for (const [i, sub] of live.entries()) {
        // The subscription answers with the current balance first (currentFirst), then what moves it.
        expect(await sub.next()).toMatchObject({ memberId: members[i].id, balance: 40 + i });
        expect(await sub.next()).toEqual({ memberId: members[i].id, balance: 0, delta: -(40 + i), entry: { type: 'EXPIRY' } });
      }
      await expect.poll(async () => s.redis.command.exists(...cached)).toBe(0);
      await expectReconciled(api);
    });

    it('a standalone runner (as `npm run jobs`) and two servers at once: one warning per member, pushed to the server socket', async () => {
      const s = await standaloneRunner(api);
      closers.push(() => s.close());
      const other = await startApp({ sharing: api });
      const members = await Promise.all(Array.from({ length: 8 }, () => createMember(api)));
      for (const m of members) await adjust(api, m.id, 25, { validDays: 6 });
      const live = await listen(other, members[3]);
      const results = await Promise.all([s.runner.runOnce(), api.app.jobs.runOnce(), other.app.jobs.runOnce(), s.runner.runOnce()]);
      for (const r of results) for (const [job, result] of Object.entries(r)) expect(result, job).not.toHaveProperty('error');
      for (const m of members) expect(await warningsOf(m)).toHaveLength(1);
      const total = results.reduce((n, r: RunResults) => n + r['expiry-warning'].warnings, 0);
      expect(total).toBeGreaterThanOrEqual(members.length);
      expect(await live.next()).toEqual({ memberId: members[3].id, points: 25, daysLeft: 6, expiresAt: expect.any(String), message: '您有25积分将于6天后过期,快来兑换吧!' });
      // No duplicate: a sentinel published after the runs on each of the three runners' publishing
      // connections (Redis serves one connection's commands in order) arrives after anything that
      // runner published; the three events read next must be the three sentinels.
      const sentinel = { memberId: members[3].id, points: 0, daysLeft: 0, message: 'sentinel', expiresAt: new Date(0).toISOString() };
      const channel = `${api.redisPrefix}EXPIRY_WARNING:${members[3].id}`;
      for (const publisher of [s.redis.publisher, api.app.redis.publisher, other.app.redis.publisher]) await publishSentinel(publisher, channel, sentinel);
      expect([await live.next(), await live.next(), await live.next()]).toEqual([sentinel, sentinel, sentinel]);
      // The standalone runner counts on its own registry, as the CLI does.
      expect(await s.metrics.registry.getSingleMetricAsString('loyalty_job_runs_total')).toMatch(/job="expiry-warning",outcome="ok"} 2/);
    });
  });

  describe('the runner', () => {
    async function metrics(): Promise<Map<string, number>> {
      const text = await (await fetch(`${api.url}/metrics`)).text();
      const values = new Map<string, number>();
      for (const line of text.split('\n')) {
        const match = /^(loyalty_job_\w+)\{([^}]*)\} (\S+)$/.exec(line);
        if (!match) continue;
        const labels = match[2].split(',').sort().join(',');
        values.set(`${match[1]}{${labels}}`, Number(match[3]));
      }
      return values;
    }

    it('runs warnings, expiry, rank snapshots and stats in one runOnce', async () => {
      const due = await createMember(api);
      await adjust(api, due.id, 30, { validDays: 1 });
      api.clock.advance(1.5 * DAY); // due: past its expiry before any run saw it
      const warned = await createMember(api);
      await adjust(api, warned.id, 40, { validDays: 2 });
      const ranked = await createMember(api);
      expect((await earn(api, ranked.id, '88.00')).data.earnPoints.points).toBe(88);

      const results = await runOnce();
      expect(Object.keys(results)).toEqual(['expiry-warning', 'expiry', 'payment-timeout', 'rank-snapshot', 'stats', 'tier-evaluation', 'rfm-segments']);
      expect(results['expiry-warning']).toMatchObject({ warnings: expect.any(Number), lots: expect.any(Number), batches: expect.any(Number) });
      expect(results['payment-timeout']).toEqual({ released: expect.any(Number), leftAlone: expect.any(Number), batches: expect.any(Number) });
      expect(results['expiry-warning'].warnings).toBeGreaterThanOrEqual(1);
      expect(results.expiry.members).toBeGreaterThanOrEqual(1);
      expect(results['rank-snapshot'].ranks).toBeGreaterThanOrEqual(3);
      expect(results.stats).toEqual({ days: expect.any(Number) });

      expect((await api.ok(`query($id: ID!) { member(id: $id) { balance } }`, { id: due.id })).member.balance).toBe(0);
      expect(await warningsOf(warned)).toHaveLength(1);
      const today = localDate(api.clock.now(), api.app.config.timeZone);
      const ranks = await em().execute<{ period: string; rank: number; score: number }[]>('select period, rank, score from rank_snapshot where member_id = ? and day = ? order by period', [
        ranked.id,
        today,
      ]);
      expect(ranks.map((r) => r.period)).toEqual(['ALL_TIME', 'MONTHLY', 'WEEKLY']);
      expect(ranks.every((r) => r.score === 88)).toBe(true);
      const [{ days }] = await em().execute<{ days: number }[]>('select count(*)::int as days from stats_daily where day < ? and day >= ?', [
        today,
        localDate(addLocalDays(api.clock.now(), -29, api.app.config.timeZone), api.app.config.timeZone),
      ]);
      expect(days).toBe(29);

      // A second run at once finds nothing more to do (and rewrites today's snapshot in place).
      const again = await runOnce();
      expect(again['expiry-warning'].warnings).toBe(0);
      expect(again.expiry).toMatchObject({ members: 0, points: 0 });
      expect(again.stats).toEqual({ days: 0 });
      expect(await em().execute('select 1 from rank_snapshot where member_id = ? and day = ?', [ranked.id, today])).toHaveLength(3);
    });

    it('counts runs, items and durations on /metrics', async () => {
      const before = await metrics();
      const m = await createMember(api);
      await adjust(api, m.id, 60, { validDays: 3 });
      const results = await runOnce();
      const after = await metrics();
      const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
      for (const job of ['expiry-warning', 'expiry', 'payment-timeout', 'rank-snapshot', 'stats', 'tier-evaluation', 'rfm-segments']) {
        expect(delta(`loyalty_job_runs_total{job="${job}",outcome="ok"}`), job).toBe(1);
        expect(delta(`loyalty_job_duration_seconds_count{job="${job}"}`), job).toBe(1);
        expect(after.get(`loyalty_job_runs_total{job="${job}",outcome="error"}`) ?? 0).toBe(0);
      }
      expect(results['expiry-warning'].warnings).toBeGreaterThanOrEqual(1);
      expect(delta('loyalty_job_items_total{item="warnings",job="expiry-warning"}')).toBe(results['expiry-warning'].warnings);
      expect(delta('loyalty_job_items_total{item="lots",job="expiry-warning"}')).toBe(results['expiry-warning'].lots);
      expect(after.get('loyalty_job_duration_seconds_sum{job="expiry"}')).toBeGreaterThan(0);
    });

    it('in the server, on its interval, when JOBS_ENABLED', async () => {
      const m = await createMember(api);
      await adjust(api, m.id, 15, { validDays: 5 });
      const timed = await startApp({ sharing: api, env: { JOBS_ENABLED: 'true', JOBS_INTERVAL_MS: '200' } });
      // The server's own timer runs the jobs (every 200 ms): wait for their effect, not for a fixed time.
      await expect.poll(async () => (await warningsOf(m)).length, { timeout: 5000, interval: 50 }).toBe(1);
      await timed.stop();
      expect(await warningsOf(m)).toHaveLength(1);
      const text = await (await fetch(`${api.url}/metrics`)).text();
      expect(text).toContain('loyalty_job_runs_total');
    });
  });

  describe('programStats', () => {
    const tz = () => api.app.config.timeZone;
    const STATS = `{ programStats { pointsIssued30d pointsRedeemed30d pointsExpired30d redemptionRate expiryRate } }`;

    /** The 30 local days of the window (today and the 29 before it) summed straight from the ledger, entries counted when posted. */
    async function direct() {
      const now = api.clock.now();
      const [row] = await em().execute<{ issued: string; redeemed: string; expired: string }[]>(
        `select coalesce(sum(delta) filter (where type in ('PURCHASE', 'REWARD') or (type = 'ADJUSTMENT' and delta > 0)), 0)::text as issued,
                greatest(0, coalesce(-sum(delta) filter (where type = 'REDEMPTION'), 0) - coalesce(sum(delta) filter (where type = 'REFUND'), 0))::text as redeemed,
                coalesce(-sum(delta) filter (where type = 'EXPIRY'), 0)::text as expired
         from ledger_entry where status = 'POSTED' and posted_at >= ? and posted_at <= ?`,
        [addLocalDays(now, -29, tz()), now],
      );
      return { pointsIssued30d: row.issued, pointsRedeemed30d: row.redeemed, pointsExpired30d: row.expired };
    }

    async function expectStatsMatch(label: string) {
      const stats = (await api.ok(STATS)).programStats;
      const expected = await direct();
      expect({ pointsIssued30d: stats.pointsIssued30d, pointsRedeemed30d: stats.pointsRedeemed30d, pointsExpired30d: stats.pointsExpired30d }, label).toEqual(expected);
      return stats;
    }

    /** Both before the stats job rolls the closed days up and after. */
    async function check(label: string) {
      await expectStatsMatch(`${label}, live`);
      await runOnce();
      return expectStatsMatch(`${label}, rolled up`);
    }

    it('equals a direct sum over the ledger, before and after roll-up, as days move', async () => {
      const m = await createMember(api);
      const item = await createItem(api, { pointsPrice: 200, stock: 10 });
      await adjust(api, m.id, 500, { validDays: 3 });
      await earn(api, m.id, '100.00');
      const held = (await earn(api, m.id, '20000.00')).data.earnPoints;
      expect(held.status).toBe('HELD_FOR_REVIEW');
      const redemption = (await redeemOk(api, m.token, { itemId: item.id })).redemption;
      const day0 = await check('day 0');
      expect(BigInt(day0.pointsRedeemed30d)).toBeGreaterThanOrEqual(200n);

      // Next day: the redemption is cancelled (a REFUND a day after the REDEMPTION).
      api.clock.advance(DAY);
      await api.ok(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "缺货") { status } }`, { id: redemption.id });
      const day1 = await check('day 1, refund of yesterday');
      expect(BigInt(day1.pointsRedeemed30d)).toBe(BigInt(day0.pointsRedeemed30d) - 200n);

      // The day after: the held purchase (created on day 0, already rolled up) is approved.
      api.clock.advance(DAY);
      await api.ok(`mutation($id: ID!) { approveHeldEntry(entryId: $id) { status } }`, { id: held.entry.id });
      const day2 = await check('day 2, approval of a day-0 hold');
      expect(BigInt(day2.pointsIssued30d)).toBe(BigInt(day1.pointsIssued30d) + 20000n);

      // Two days on, the 3-day lot expires.
      api.clock.advance(2 * DAY);
      const day4 = await check('day 4, expiry');
      expect(BigInt(day4.pointsExpired30d)).toBeGreaterThanOrEqual(500n);

      api.clock.advance(10 * DAY);
      await earn(api, m.id, '50.00');
      await check('day 14');

      // Day 0 to 3 leave the window: their entries no longer count.
      api.clock.advance(19 * DAY);
      const day33 = await check('day 33');
      expect(BigInt(day33.pointsIssued30d)).toBeLessThan(BigInt(day4.pointsIssued30d) + 100n);
      api.clock.advance(3 * DAY);
      await check('day 36');
    });

    it('reads closed days from stats_daily, not from the ledger', async () => {
      await runOnce();
      const before = (await api.ok(STATS)).programStats;
      const yesterday = localDate(addLocalDays(api.clock.now(), -1, tz()), tz());
      await em().execute('update stats_daily set issued = issued + 1000 where day = ?', [yesterday]);
      const tampered = (await api.ok(STATS)).programStats;
      expect(BigInt(tampered.pointsIssued30d)).toBe(BigInt(before.pointsIssued30d) + 1000n);
      await em().execute('update stats_daily set issued = issued - 1000 where day = ?', [yesterday]);
      await expectStatsMatch('restored');
    });
  });

  // Last: the compiled CLI runs on the system clock, far past this file's clock.
  it('`node dist/src/cli/jobs.js` runs every job once against the database and exits 0', async () => {
    const run = spawnSync(process.execPath, [requireBuilt('dist/src/cli/jobs.js')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: api.databaseUrl, REDIS_PREFIX: api.redisPrefix },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(Object.keys(results)).toEqual(['expiry-warning', 'expiry', 'payment-timeout', 'rank-snapshot', 'stats', 'tier-evaluation', 'rfm-segments']);
    for (const result of Object.values(results)) expect(result).not.toHaveProperty('error');
    // Everything due by the system clock is expired.
    const [{ due }] = await em().execute<{ due: number }[]>('select count(*)::int as due from points_lot where remaining > 0 and expires_at <= now()');
    expect(due).toBe(0);
  });
});
