// ledger: earnPoints + adjustPoints (a spend: negative delta), two earns to one spend, through
// the whole app (express, Apollo, type-graphql, MikroORM, the after-commit Redis work) against a
// bare node:http + pg server running the same SQL statements (servers/ledger-baseline.mjs).
// Two scenarios, each measured for both servers, rounds alternating:
//   spread — 50 connections over 10,000 members (rows hardly ever contend);
//   hot    — the same mix on ONE member: every request waits for that member's row lock.
// Each server has its own database, migrated and seeded identically, so neither sees the
// other's rows; the reconciliation SQL must find nothing on either, before and after.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decimal } from 'decimal.js';
import { dist, projectRequire, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { alternate, measure, summarize } from '../lib/load.mjs';
import { compareTraces } from '../lib/sql-trace.mjs';
import { printProfileSummary } from '../lib/profile.mjs';
import { inviteCode, seedFundedMembers } from '../lib/seed.mjs';

export const description = 'earnPoints + adjustPoints spend (2:1), spread over many members and on one hot member — GraphQL app vs bare http+pg baseline running the same SQL';

const SCENARIOS = ['spread', 'hot'];
/** Set-up and checks (~15 s), then 2 scenarios × 2 targets × rounds × (warm-up + measured + slack). */
export const budgetSeconds = (o) => 45 + SCENARIOS.length * 2 * o.rounds * (o.warmup + o.duration + 2);

const DATABASES = { graphql: 'loyalty_bench_ledger', baseline: 'loyalty_bench_ledger_baseline' };
const REDIS_PREFIX = 'bench:ledger:';
const PREFIXES = { graphql: `${REDIS_PREFIX}app:`, baseline: `${REDIS_PREFIX}baseline:` };

const EARN = 'mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points status member { balance } } }';
const SPEND = 'mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { delta balanceAfter } }';
const SPEND_POINTS = 50;
/** Spread and check members start with this many points; a hot member with far more. */
const START_BALANCE = 100_000;
const HOT_BALANCE = 10_000_000;
/** Seeded lots outlive the earned ones (365 days): spends take the earned lots first, so live lots stay few. */
const SEED_VALIDITY_DAYS = 730;
const FIRST_ORDER_BONUS = 100;

/** spread members (lifetime spends over all four tiers), one hot member per round, two for the checks. */
function memberRows(spread, hot, now) {
  const rows = [];
  const add = (kind, i, totalSpend, balance) => {
    const n = rows.length;
    rows.push({
      kind,
      id: randomUUID(),
      externalId: `bench-${kind}-${i}`,
      nickname: `会员${String(n).padStart(5, '0')}`,
      mobile: `139${String(n).padStart(8, '0')}`,
      totalSpend,
      balance,
      inviteCode: inviteCode(2_000_000 + n),
      joinedAt: new Date(now - (spread + hot + 2 - n) * 60_000),
    });
  };
  for (let i = 0; i < spread; i++) add('spread', i, (((i * 7_919_003) % 3_000_000) / 100).toFixed(2), START_BALANCE);
  // From the lowest tier: the hot member crosses tiers during the run (TIER_CHANGE notifications).
  for (let i = 0; i < hot; i++) add('hot', i, '0.00', HOT_BALANCE);
  for (let i = 0; i < 2; i++) add('check', i, '1500.00', START_BALANCE);
  return rows;
}

/**
 * Members with a starting balance the ledger accounts for: per member one posted ADJUSTMENT
 * credit, its lot, and member.balance, all equal. Settings opened up for the bench: no earn rate
 * limit, nothing held for review. One active earning rule (first-order bonus), so rules apply.
 */
async function seed(url, rows, now) {
  const seededAt = new Date(now - 86_400_000);
  const expiresAt = new Date(now + SEED_VALIDITY_DAYS * 86_400_000);
  await withClient(url, async (client) => {
    await client.query('begin');
    await seedFundedMembers(client, rows, { seededAt, expiresAt });
    await client.query(`update program_settings set earn_limit_per_hour = 1000000000, review_threshold_amount = 999999999999.99, updated_at = now(), updated_by = 'bench'`);
    await client.query(
      `insert into earning_rule (id, name, multiplier, bonus_points, weekdays, categories, first_order_only, active, created_at, updated_at)
       values (gen_random_uuid(), '首单奖励 (bench)', 1.000, $1, '{}', '{}', true, true, now(), now())`,
      [FIRST_ORDER_BONUS],
    );
    await client.query('commit');
    await client.query('analyze');
  });
  return withClient(url, async (client) => (await client.query('select level, name, min_spend, multiplier from tier order by level')).rows);
}

async function reconcile(url, RECONCILIATION_SQL) {
  return withClient(url, async (client) => (await client.query(RECONCILIATION_SQL)).rows);
}

const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function post(target, req) {
  const res = await fetch(`${target.url}${req.path}`, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/**
 * Before measuring, on both servers, recording their SQL: an earn (first order: the rule's
 * bonus), the same earn again (idempotent), a spend, a spend beyond the balance, a bad token and
 * a partner trying an admin operation. The answers must be the expected ones and the same on both
 * servers, and both must have sent the same statements.
 */
async function checkAnswers(targets, { check, tiers, partner, admin, earnRequest, spendRequest }, log) {
  const tier = [...tiers].reverse().find((t) => new Decimal(check[0].totalSpend).gte(t.min_spend));
  const points = new Decimal('9.99').times(tier.multiplier).ceil().toNumber() + FIRST_ORDER_BONUS;
  const steps = [
    {
      name: 'earn (first order)',
      req: earnRequest(check[0].id, 'check-order-1', '9.99', admin),
      expect: { data: { earnPoints: { points, status: 'POSTED', member: { balance: START_BALANCE + points } } } },
    },
    {
      name: 'the same earn again',
      req: earnRequest(check[0].id, 'check-order-1', '9.99', admin),
      expect: { data: { earnPoints: { points, status: 'POSTED', member: { balance: START_BALANCE + points } } } },
    },
    {
      name: 'spend',
      req: spendRequest(check[0].id, 'check-spend-1', SPEND_POINTS, admin),
      expect: { data: { adjustPoints: { delta: -SPEND_POINTS, balanceAfter: START_BALANCE + points - SPEND_POINTS } } },
    },
    { name: 'spend beyond the balance', req: spendRequest(check[1].id, 'check-spend-2', START_BALANCE + 1, admin), code: 'INSUFFICIENT_POINTS' },
    {
      name: 'a bad token',
      req: { ...earnRequest(check[1].id, 'check-order-2', '1.00', partner), headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' } },
      code: 'UNAUTHENTICATED',
    },
    { name: 'a partner adjusting', req: spendRequest(check[1].id, 'check-spend-3', 1, partner), code: 'FORBIDDEN' },
  ];
  const traces = {};
  const answers = {};
  for (const target of targets) {
    await target.trace(true);
    answers[target.name] = [];
    for (const step of steps) {
      const { status, body } = await post(target, step.req);
      answers[target.name].push({ status, body });
      const code = body?.errors?.[0]?.extensions?.code;
      const ok = step.expect ? status === 200 && sameJson(body, step.expect) : code === step.code;
      if (!ok) throw new Error(`${target.name}: "${step.name}" answered HTTP ${status} ${JSON.stringify(body)}; expected ${step.expect ? JSON.stringify(step.expect) : step.code}`);
    }
    traces[target.name] = await target.trace(false);
    log(`  ${target.name}: ${steps.length} checks answered as expected (${steps.map((s) => s.name).join(', ')}); ${traces[target.name].length} SQL statements`);
  }
  const [a, b] = targets.map((t) => t.name);
  for (let i = 0; i < steps.length; i++) {
    const [x, y] = [answers[a][i], answers[b][i]];
    if (x.status !== y.status && steps[i].expect) throw new Error(`"${steps[i].name}": HTTP ${x.status} from ${a}, ${y.status} from ${b}`);
  }
  const difference = compareTraces(traces[a], traces[b]);
  if (difference) {
    throw new Error(
      `${a} and ${b} did not send the same SQL (block ${difference.block}, statement ${difference.statement ?? '-'}):\n  ${a}: ${JSON.stringify(difference.left)}\n  ${b}: ${JSON.stringify(difference.right)}\n` +
        'the app changed its statements: update servers/ledger-baseline.mjs (and the list in bench/README.md)',
    );
  }
  log(`  both servers sent the same ${traces[a].length} statements (same transactions, same order; literals aside)`);
  return traces[a];
}

/** Waits until neither database takes new ledger entries (requests still in flight when the load stopped). */
async function quiesce(urls) {
  const count = (url) => withClient(url, async (c) => Number((await c.query('select count(*) from ledger_entry')).rows[0].count));
  let last = await Promise.all(urls.map(count));
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await Promise.all(urls.map(count));
    if (sameJson(now, last)) return;
    last = now;
  }
}

/** What each server left in its database and in Redis: the ledger reconciles, the board matches it. */
async function afterRun(name, url, prefix, redisUrl, RECONCILIATION_SQL) {
  const problems = [];
  const discrepancies = await reconcile(url, RECONCILIATION_SQL);
  if (discrepancies.length) problems.push(`${name}: reconciliation found ${discrepancies.length} discrepancies, e.g. ${JSON.stringify(discrepancies.slice(0, 3))}`);
  const stats = await withClient(url, async (c) => {
    const {
      rows: [entries],
    } = await c.query(
      `select count(*) filter (where type = 'PURCHASE')::int as earns,
              count(*) filter (where type = 'ADJUSTMENT' and delta < 0)::int as spends,
              count(*) filter (where status = 'HELD')::int as held,
              count(*) filter (where type = 'EXPIRY')::int as expiries,
              coalesce(sum(delta) filter (where status = 'POSTED' and type in ('PURCHASE', 'REWARD', 'REVERSAL')), 0)::bigint as scored
       from ledger_entry`,
    );
    const {
      rows: [others],
    } = await c.query(
      `select (select count(*)::int from notification) as notifications, (select count(*)::int from lot_allocation) as allocations,
              (select min(balance) from member) as min_balance`,
    );
    return { ...entries, scored: Number(entries.scored), ...others };
  });
  if (stats.held) problems.push(`${name}: ${stats.held} earnings were held for review (review_threshold_amount should hold none)`);
  // The leaderboard (ALL_TIME) as the after-commit pipeline left it, against the ledger.
  const { Redis } = projectRequire('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const flat = await redis.zrange(`${prefix}{lb:ALL_TIME}`, 0, -1, 'WITHSCORES');
    let boardSum = 0;
    for (let i = 1; i < flat.length; i += 2) boardSum += Number(flat[i]);
    stats.boardMembers = flat.length / 2;
    stats.boardScoreSum = boardSum;
    if (boardSum !== stats.scored) problems.push(`${name}: the ALL_TIME leaderboard sums to ${boardSum}, the ledger's earnings to ${stats.scored}`);
  } finally {
    redis.disconnect();
  }
  return { discrepancies: discrepancies.length, stats, problems };
}

/**
 * At start-up the app rebuilds missing leaderboards from the ledger (LeaderboardRebuild.rebuildMissing,
 * not awaited): wait for the three boards' `:at` keys so that its queries do not mix with the checks'.
 */
async function boardsRebuilt(redisUrl, prefix, timeoutMs = 10_000) {
  const { Redis } = projectRequire('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      let cursor = '0';
      let found = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}{lb:*}:at`, 'COUNT', 1000);
        found += keys.length;
        cursor = next;
      } while (cursor !== '0');
      if (found >= 3) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');
  const { RECONCILIATION_SQL } = dist('src/ledger/ledger.reconcile.js');

  log(`setting up: databases ${DATABASES.graphql} (app) and ${DATABASES.baseline} (baseline), ${options.members} members + ${options.rounds} hot`);
  const setupStarted = Date.now();
  for (const name of Object.values(DATABASES)) ctx.onCleanup(`drop database ${name}`, () => (options.keepDatabase ? undefined : dropDatabase(name)));
  const since = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  const [app, base] = await Promise.all([freshDatabase(DATABASES.graphql), freshDatabase(DATABASES.baseline)]);
  const migrated = Date.now();
  const urls = { graphql: app.url, baseline: base.url };
  const common = { ...process.env, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', BENCH_SQL_TRACE: '1' };
  const envs = {
    graphql: { ...common, DATABASE_URL: urls.graphql, REDIS_PREFIX: PREFIXES.graphql },
    baseline: { ...common, DATABASE_URL: urls.baseline, REDIS_PREFIX: PREFIXES.baseline },
  };
  const config = loadConfig(envs.graphql);
  await preflight(config);
  await clearPrefix(config.redisUrl, REDIS_PREFIX);
  ctx.onCleanup(`clear ${REDIS_PREFIX} keys in Redis`, () => clearPrefix(config.redisUrl, REDIS_PREFIX));

  const now = Date.now();
  const rows = memberRows(options.members, options.rounds, now);
  const [tiers] = await Promise.all([seed(urls.graphql, rows, now), seed(urls.baseline, rows, now)]);
  const seeded = Date.now();
  for (const [name, url] of Object.entries(urls)) {
    const found = await reconcile(url, RECONCILIATION_SQL);
    if (found.length) throw new Error(`the seeded ${name} database does not reconcile: ${JSON.stringify(found.slice(0, 3))}`);
  }
  const spread = rows.filter((r) => r.kind === 'spread');
  const hot = rows.filter((r) => r.kind === 'hot');
  const check = rows.filter((r) => r.kind === 'check');
  log(
    `  migrated both in ${((migrated - setupStarted) / 1000).toFixed(1)} s (${app.migrations.join(', ')}); seeded ${rows.length} members in ${((seeded - migrated) / 1000).toFixed(1)} s, each with a ${START_BALANCE.toLocaleString('en')}-point (hot: ${HOT_BALANCE.toLocaleString('en')}) ADJUSTMENT entry + lot, in both databases; both reconcile`,
  );
  log(`  program_settings: earn_limit_per_hour = 1000000000 (no rate limit), review_threshold_amount = 999999999999.99 (nothing held); one earning rule: first order +${FIRST_ORDER_BONUS}`);

  // Tokens minted once (as the identity provider would). Earnings and spends by an admin: partners
  // reach earnPoints only through /partner/graphql (bench partner measures that door).
  const partner = `Bearer ${mintToken(config.jwt, { role: 'partner', sub: 'bench-partner', partnerId: 'bench-partner', expiresInSeconds: 3600 })}`;
  const admin = `Bearer ${mintToken(config.jwt, { role: 'admin', sub: 'bench-admin', expiresInSeconds: 3600 })}`;
  const headers = (authorization) => ({ 'content-type': 'application/json', authorization });
  const partnerHeaders = headers(partner);
  const adminHeaders = headers(admin);
  const earnRequest = (memberId, orderId, amount, auth) => ({
    path: '/graphql',
    headers: auth === admin ? adminHeaders : partnerHeaders,
    body: JSON.stringify({ query: EARN, variables: { input: { memberId, orderId, amount } } }),
  });
  const spendRequest = (memberId, idempotencyKey, points, auth) => ({
    path: '/graphql',
    headers: auth === admin ? adminHeaders : partnerHeaders,
    body: JSON.stringify({ query: SPEND, variables: { input: { memberId, delta: -points, reason: 'bench spend', idempotencyKey } } }),
  });

  // Every request has its own orderId / idempotencyKey: a run-wide counter, never reset between
  // measurements (the databases outlive them). Two earns, then one spend.
  const runTag = now.toString(36);
  let seq = 0;
  const requestsFor = (memberOf) => () => {
    const n = seq++;
    const memberId = memberOf(n);
    if (n % 3 === 2) return spendRequest(memberId, `bench-${runTag}-${n}`, SPEND_POINTS, admin);
    // 5.00 … 9.99: at most 20 points at the top tier (+100 on a member's first order), so after the
    // first order two earns never outgrow one spend and live lots stay few.
    return earnRequest(memberId, `bench-${runTag}-${n}`, (5 + (n % 500) / 100).toFixed(2), admin);
  };

  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  const execArgv = { graphql: [], baseline: [] };
  if (options.cpuProfile) {
    const dir = join(ROOT, 'bench', 'results', 'profiles');
    mkdirSync(dir, { recursive: true });
    const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
    for (const name of ['baseline', 'graphql']) {
      const file = `ledger-${name}-${stamp}.cpuprofile`;
      execArgv[name] = ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${file}`];
      // Registered before the servers: cleanups run last-first, so this runs once the server has exited and written it.
      ctx.onCleanup(`summarize the ${name} CPU profile`, async () => printProfileSummary(join(dir, file), log, 25, name));
    }
    log(`  both servers run with --cpu-prof (slower than usual: compare the profiles, not these numbers); profiles in ${dir}`);
  }
  const [graphql, baseline] = await Promise.all([
    startServer(ctx, 'graphql', here('../servers/app.mjs'), envs.graphql, { execArgv: execArgv.graphql }),
    startServer(ctx, 'baseline', here('../servers/ledger-baseline.mjs'), envs.baseline, { execArgv: execArgv.baseline }),
  ]);
  log(`  graphql at ${graphql.url} (pid ${graphql.pid}), baseline at ${baseline.url} (pid ${baseline.pid}); up in ${since(seeded)}`);
  const targets = [graphql, baseline];
  if (!(await boardsRebuilt(config.redisUrl, PREFIXES.graphql))) log('  (the app had not rebuilt its leaderboards after 10 s; checking anyway)');
  const statements = await checkAnswers(targets, { check, tiers, partner, admin, earnRequest, spendRequest }, log);
  log(`  set-up and checks took ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

  // Bad bodies are counted by autocannon; the first few of each are kept to say what went wrong.
  const badSamples = [];
  const verifyBody = (body) => {
    const good =
      !body.includes('"errors"') &&
      ((body.startsWith('{"data":{"earnPoints":{"points":') && body.includes('"status":"POSTED"')) || body.startsWith(`{"data":{"adjustPoints":{"delta":-${SPEND_POINTS},`));
    if (!good && badSamples.length < 10) badSamples.push(body.slice(0, 300));
    return good;
  };

  const results = [];
  const memberFor = {
    spread: () => (n) => spread[n % spread.length].id,
    // One hot member per round (the same one for both servers, each in its own database), so
    // every round starts from the same history on that member.
    hot: (round) => () => hot[round].id,
  };
  for (const scenario of SCENARIOS) {
    log(`measuring ${scenario}: ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured, ${options.rounds} round(s), order alternating`);
    let calls = 0;
    const scenarioResults = await alternate(
      targets,
      options.rounds,
      (target) => {
        const round = Math.floor(calls++ / targets.length);
        return measure({
          target,
          request: requestsFor(memberFor[scenario](round)),
          verifyBody,
          connections: options.connections,
          warmupSeconds: options.warmup,
          durationSeconds: options.duration,
        });
      },
      (line) => log(`  ${line.trim()}`),
    );
    results.push(...scenarioResults.map((r) => ({ scenario, ...r })));
  }

  await quiesce(Object.values(urls));
  await new Promise((r) => setTimeout(r, 500)); // the last after-commit pipelines
  const after = {};
  const problems = [];
  for (const name of ['graphql', 'baseline']) {
    after[name] = await afterRun(name, urls[name], PREFIXES[name], config.redisUrl, RECONCILIATION_SQL);
    problems.push(...after[name].problems);
    const s = after[name].stats;
    log(
      `  after the run, ${name}: reconciliation ${after[name].discrepancies === 0 ? 'clean' : `${after[name].discrepancies} discrepancies`}; ${s.earns} earnings, ${s.spends} spends, ${s.held} held, ${s.expiries} expiries, ${s.notifications} notifications, lowest balance ${s.min_balance}; ALL_TIME board ${s.boardMembers} members, sum ${s.boardScoreSum} = ledger ${s.scored}`,
    );
  }
  if (badSamples.length) log(`  bad bodies seen (first ${badSamples.length}):\n    ${badSamples.join('\n    ')}`);

  const summary = {};
  const ratios = {};
  const notes = [];
  for (const scenario of SCENARIOS) {
    const s = summarize(results.filter((r) => r.scenario === scenario));
    summary[`${scenario}/graphql`] = s.graphql;
    summary[`${scenario}/baseline`] = s.baseline;
    ratios[scenario] = {
      reqPerSec: s.graphql.reqPerSec / s.baseline.reqPerSec,
      p50: s.graphql.latencyMs.p50 / s.baseline.latencyMs.p50,
      p99: s.graphql.latencyMs.p99 / s.baseline.latencyMs.p99,
      serverCpuPerRequest: s.graphql.serverCpuMicrosPerRequest / s.baseline.serverCpuMicrosPerRequest,
    };
    const share = ratios[scenario].reqPerSec;
    const meets = share >= 0.5 && s.graphql.latencyMs.p99 < 50;
    notes.push(
      `${scenario}: aim (graphql ≥ 0.5 × the baseline's req/s, graphql p99 < 50 ms): ${meets ? 'met' : 'NOT met'} — ` +
        `${Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : 'n/a'} of the baseline, graphql p99 ${s.graphql.latencyMs.p99.toFixed(0)} ms (baseline p99 ${s.baseline.latencyMs.p99.toFixed(0)} ms)`,
    );
  }
  return {
    description,
    operations: { earn: EARN, spend: SPEND, mix: '2 earns : 1 spend', spendPoints: SPEND_POINTS },
    members: spread.length,
    databases: DATABASES,
    databasePoolMax: config.databasePoolMax,
    statementsChecked: statements,
    badBodySamples: badSamples,
    afterRun: Object.fromEntries(Object.entries(after).map(([k, v]) => [k, { discrepancies: v.discrepancies, ...v.stats }])),
    results,
    summary,
    ratios,
    notes,
    problems,
  };
}
