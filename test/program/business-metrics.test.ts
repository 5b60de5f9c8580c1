import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { ADDRESS, DAY, countQueries, createItem, fund, memberWith, redeem, redeemCode, redeemOk } from '../catalog/support';

/** Every sample of a /metrics text, keyed `name{label=value,...}` with labels sorted. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => `${k}=${v}`).sort();
    samples.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return samples;
}

/** The business counters (not the gauges, not the duration buckets: their count stands for them). */
const COUNTED = /^(loyalty_points_(issued|redeemed|expired)_total|loyalty_redemptions_total|loyalty_redemption_duration_seconds_count)\{/;

describe('business metrics', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  const scrape = async () => parseMetrics(await (await fetch(`${api.url}/metrics`)).text());

  /** What the business counters moved by while `run` ran: only the series that moved. */
  async function moved(run: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await scrape();
    await run();
    const after = await scrape();
    const delta: Record<string, number> = {};
    for (const [key, value] of after) {
      if (!COUNTED.test(key)) continue;
      const change = value - (before.get(key) ?? 0);
      if (change !== 0) delta[key] = change;
    }
    return delta;
  }
  const issued = (source: string) => `loyalty_points_issued_total{source=${source}}`;
  const redeemed = (type: string) => `loyalty_points_redeemed_total{item_type=${type}}`;
  const attempts = (type: string, outcome: string) => `loyalty_redemptions_total{item_type=${type},outcome=${outcome}}`;
  const DURATIONS = 'loyalty_redemption_duration_seconds_count{}';
  const EXPIRED = 'loyalty_points_expired_total{}';

  // First, while the file's database is empty: the gauges' values are exact.
  it('serves the gauges from the background refresh: a scrape runs no SQL and sees the last refresh', async () => {
    const health = api.app.services.health;
    await health.refresh();
    const { result: empty, queries } = await countQueries(api, scrape);
    expect(queries).toEqual([]);
    expect(empty.get('loyalty_active_members{window=24h}')).toBe(0);
    expect(empty.get('loyalty_active_members{window=30d}')).toBe(0);
    expect(empty.get('loyalty_points_expiring{within=7d}')).toBe(0);
    expect(empty.get('loyalty_points_outstanding{}')).toBe(0);

    const m = await createMember(api);
    await fund(api, m.id, 700, 5);
    await fund(api, m.id, 300, 0);
    await api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token);
    const quiet = await scrape();
    expect(quiet.get('loyalty_points_outstanding{}'), 'a scrape does not recompute').toBe(0);

    await health.refresh();
    const { result: fresh, queries: again } = await countQueries(api, scrape);
    expect(again).toEqual([]);
    expect(fresh.get('loyalty_active_members{window=24h}')).toBe(1);
    expect(fresh.get('loyalty_active_members{window=30d}')).toBe(1);
    expect(fresh.get('loyalty_points_expiring{within=7d}')).toBe(700);
    expect(fresh.get('loyalty_points_outstanding{}')).toBe(1005);
    expect(fresh.get('loyalty_business_gauges_refreshed_timestamp_seconds{}')).toBe(api.clock.now().getTime() / 1000);

    api.clock.advanceDays(2);
    await health.refresh();
    const later = await scrape();
    expect(later.get('loyalty_active_members{window=24h}')).toBe(0);
    expect(later.get('loyalty_active_members{window=30d}')).toBe(1);
    expect(later.get('loyalty_points_expiring{within=7d}')).toBe(700);
  });

  it('exposes readiness per dependency and open WebSocket connections for the infrastructure alerts', async () => {
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    const client = api.ws(tokens.admin());
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    const samples = await scrape();
    expect(samples.get('loyalty_ready{}')).toBe(1);
    expect(samples.get('loyalty_dependency_up{dependency=postgres}')).toBe(1);
    expect(samples.get('loyalty_dependency_up{dependency=redis}')).toBe(1);
    expect(samples.get('loyalty_ws_connections{}')).toBe(1);
    await client.dispose();
  });

  it('counts a purchase under purchase, once per order', async () => {
    const m = await createMember(api);
    let points = 0;
    expect(
      await moved(async () => {
        const res = await earn(api, m.id, '199.00');
        points = res.data.earnPoints.points;
      }),
    ).toEqual({ [issued('purchase')]: points });
    expect(points).toBeGreaterThan(0);
    expect(await moved(() => earn(api, m.id, '199.00', { orderId: 'dup-1' }))).toEqual({ [issued('purchase')]: points });
    expect(await moved(() => earn(api, m.id, '199.00', { orderId: 'dup-1' })), 'a duplicate earns nothing').toEqual({});
  });

  it('counts positive adjustments under adjustment, negative ones not at all', async () => {
    const m = await createMember(api);
    expect(await moved(() => adjust(api, m.id, 500))).toEqual({ [issued('adjustment')]: 500 });
    expect(await moved(() => adjust(api, m.id, -200))).toEqual({});
  });

  it('counts each redeemed item type, its points, outcome and duration', async () => {
    const m = await memberWith(api, 100_000, 0);
    const cases = [
      { item: { type: 'VIRTUAL', pointsPrice: 100 }, quantity: 2, label: 'virtual', points: 200 },
      { item: { type: 'COUPON', pointsPrice: 300, config: { value: '20.00', validDays: 30 } }, quantity: 1, label: 'coupon', points: 300 },
      { item: { type: 'VIP', pointsPrice: 1000, config: { level: 1, days: 30 } }, quantity: 1, label: 'vip', points: 1000 },
      { item: { type: 'PHYSICAL', pointsPrice: 450 }, quantity: 1, label: 'physical', points: 450, shippingAddress: ADDRESS },
    ];
    for (const c of cases) {
      const item = await createItem(api, { ...c.item, stock: 10 });
      expect(await moved(() => redeemOk(api, m.token, { itemId: item.id, quantity: c.quantity, shippingAddress: c.shippingAddress })), c.label).toEqual({
        [redeemed(c.label)]: c.points,
        [attempts(c.label, 'ok')]: 1,
        [DURATIONS]: 1,
      });
    }
  });

  it('moves no points on a refused (rolled-back) redemption, and counts the refusal by its code', async () => {
    const poor = await memberWith(api, 10, 0);
    const item = await createItem(api, { pointsPrice: 100 });
    expect(await redeemCode(api, poor.token, { itemId: item.id })).toBe('INSUFFICIENT_POINTS');
    expect(await moved(() => redeemCode(api, poor.token, { itemId: item.id }))).toEqual({ [attempts('virtual', 'insufficient_points')]: 1, [DURATIONS]: 1 });

    const rich = await memberWith(api, 1000, 0);
    const soldOut = await createItem(api, { type: 'COUPON', pointsPrice: 100, stock: 0, config: { value: '5.00', validDays: 7 } });
    expect(await moved(() => redeemCode(api, rich.token, { itemId: soldOut.id }))).toEqual({ [attempts('coupon', 'out_of_stock')]: 1, [DURATIONS]: 1 });
  });

  it('counts only the winner when members race for the last unit (the losers’ debits roll back)', async () => {
    const racers = await Promise.all(Array.from({ length: 5 }, () => memberWith(api, 500, 0)));
    const item = await createItem(api, { pointsPrice: 120, stock: 1 });
    const delta = await moved(() => Promise.all(racers.map((m) => redeem(api, m.token, { itemId: item.id }))));
    const results = await Promise.all(racers.map(async (m) => (await api.ok(`query($id: ID!) { member(id: $id) { balance } }`, { id: m.id })).member.balance as number));
    expect(results.filter((b) => b === 380)).toHaveLength(1);
    expect(results.filter((b) => b === 500)).toHaveLength(4);
    expect(delta).toEqual({ [redeemed('virtual')]: 120, [attempts('virtual', 'ok')]: 1, [attempts('virtual', 'out_of_stock')]: 4, [DURATIONS]: 5 });
  });

  it('counts expiry once it commits: not when the redemption that expired the lot rolls back, then by the job', async () => {
    const m = await memberWith(api, 100, 1);
    const item = await createItem(api, { pointsPrice: 100 });
    api.clock.advanceDays(2);
    // The redemption expires the due lot first, then finds too few points: all of it rolls back.
    expect(await moved(() => redeemCode(api, m.token, { itemId: item.id }))).toEqual({ [attempts('virtual', 'insufficient_points')]: 1, [DURATIONS]: 1 });
    expect(await moved(() => api.app.jobs.runOnce())).toEqual({ [EXPIRED]: 100 });
    expect(await moved(() => api.app.jobs.runOnce()), 'expired once').toEqual({});
  });

  it('counts a cancelled redemption’s points under refund', async () => {
    const m = await memberWith(api, 1000, 0);
    const item = await createItem(api, { pointsPrice: 250 });
    const { redemption } = await redeemOk(api, m.token, { itemId: item.id });
    const cancel = () => api.ok(`mutation($id: ID!) { cancelRedemption(id: $id, reason: "不想要了") { status } }`, { id: redemption.id });
    expect(await moved(cancel)).toEqual({ [issued('refund')]: 250 });
    expect(await moved(cancel), 'cancelling again refunds nothing').toEqual({});
  });

  it('counts task, check-in and referral rewards under their own sources', async () => {
    const m = await createMember(api);
    await api.ok('mutation($input: TaskInput!) { upsertTask(input: $input) { id } }', { input: { code: 'metrics-task', name: '完善资料', points: 30, frequency: 'ONCE', selfClaimable: true } });
    expect(await moved(() => api.ok('mutation { claimTask(code: "metrics-task") { pointsAwarded } }', {}, m.token))).toEqual({ [issued('task')]: 30 });
    expect(await moved(() => api.ok('mutation { checkIn { pointsAwarded } }', {}, m.token))).toEqual({ [issued('check_in')]: 5 });

    const settings = (await api.ok('{ programSettings { referralInviterPoints referralInviteePoints } }')).programSettings;
    const both = settings.referralInviterPoints + settings.referralInviteePoints;
    expect(both).toBeGreaterThan(0);
    expect(await moved(() => createMember(api, { inviteCode: m.inviteCode }))).toEqual({ [issued('referral')]: both });
  });

  it('reports each seed threshold to admins in programHealth', async () => {
    const query = '{ programHealth { name value threshold ok } }';
    expect(await api.code(query, {}, tokens.member((await createMember(api)).id))).toBe('FORBIDDEN');
    const checks = (await api.ok(query)).programHealth as { name: string; value: number; threshold: number; ok: boolean }[];
    expect(checks.map((c) => [c.name, c.threshold])).toEqual([
      ['redemption_rate_30d', 0.1],
      ['expiry_rate_30d', 0.3],
      ['redemption_p99_seconds', 2],
      ['active_members_24h', 100],
      ['points_expiring_7d', 100_000],
    ]);
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    const [{ active }] = await api.app.orm.em.fork().execute<{ active: number }[]>('select count(*)::int as active from member where last_active_at > ?', [new Date(api.clock.now().getTime() - DAY)]);
    expect(byName.active_members_24h).toEqual({ name: 'active_members_24h', value: active, threshold: 100, ok: false });
    expect(byName.redemption_p99_seconds.value).toBeGreaterThan(0);
    expect(byName.redemption_p99_seconds.ok).toBe(true);
    expect(byName.expiry_rate_30d.value).toBeGreaterThan(0);
    for (const c of checks) expect(c.ok).toBe(c.name.startsWith('redemption_rate') || c.name.startsWith('active') ? c.value >= c.threshold : c.value <= c.threshold);
  });

  it('logs each request with the path asked for, the operation, the role and the outcome code', async () => {
    const lines: Record<string, unknown>[] = [];
    const waiting = new Map<string, (line: Record<string, unknown>) => void>();
    const stream = new Writable({
      write(chunk, _encoding, done) {
        const line = JSON.parse(String(chunk)) as Record<string, unknown>;
        lines.push(line);
        if (line.msg === 'request') waiting.get(line.requestId as string)?.(line);
        done();
      },
    });
    const other = await startApp({ sharing: api, logger: pino({ level: 'info' }, stream) });
    const logged = async (requestId: string, query: string, token: string | null) => {
      const line = new Promise<Record<string, unknown>>((resolve) => waiting.set(requestId, resolve));
      await other.gql(query, {}, token, { headers: { 'x-request-id': requestId } });
      return line;
    };
    const member = await createMember(other);
    expect(await logged('log-1', 'query Tiers { tiers { level } }', tokens.admin())).toMatchObject({ path: '/graphql', operation: 'Tiers', role: 'admin', outcome: 'OK', status: 200 });
    expect(await logged('log-2', 'query Health { programHealth { ok } }', member.token)).toMatchObject({ path: '/graphql', operation: 'Health', role: 'member', outcome: 'FORBIDDEN' });
    expect(await logged('log-3', '{ tiers { level } }', 'not-a-token')).toMatchObject({ path: '/graphql', role: 'anonymous', outcome: 'UNAUTHENTICATED', status: 401 });
    expect(lines.filter((l) => l.msg === 'request').every((l) => l.path === '/graphql')).toBe(true);
  });

  // Last: the challenge stays open for every later purchase of this file.
  it('counts a challenge reward under challenge, beside the purchase that completed it', async () => {
    const now = api.clock.now().getTime();
    await api.ok('mutation($input: ChallengeInput!) { upsertChallenge(input: $input) { id } }', {
      input: { code: 'metrics-orders', name: '首单挑战', metric: 'ORDERS', target: 1, rewardPoints: 40, startsAt: new Date(now - DAY).toISOString(), endsAt: new Date(now + DAY).toISOString() },
    });
    const m = await createMember(api);
    let points = 0;
    expect(
      await moved(async () => {
        points = (await earn(api, m.id, '50.00')).data.earnPoints.points;
      }),
    ).toEqual({ [issued('purchase')]: points, [issued('challenge')]: 40 });
  });
});
