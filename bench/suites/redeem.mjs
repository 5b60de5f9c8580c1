// redeem: one-click redemption (`redeem` with a member token, a unique idempotencyKey per
// request) through the whole app (express, Apollo, type-graphql, MikroORM, the after-commit Redis
// work) against a bare node:http + pg server running the same SQL statements
// (servers/redeem-baseline.mjs). Scenarios, each measured for both servers, rounds alternating:
//   spread      — 50 connections, 10,000 members over 1,000 VIRTUAL items (rows hardly contend);
//   spread-half — the same at half the connections (the p99 aim is "at half load");
//   hot         — 50 connections, 10,000 members, all on ONE item (a flash sale): every request
//                 updates that item's stock row, so throughput ≈ 1 ÷ the time its lock is held.
// A third target, `hot-row` (servers/hot-row-baseline.mjs), is the physical limit: one
// autocommitted `UPDATE … SET stock = stock - 1 WHERE id = $1 AND stock > 0` on one row per
// request, the least a redemption could cost this machine's PostgreSQL; the app is reported
// against it as well as against the same-statement baseline, same run.
// Each server has its own database, migrated and seeded identically; the reconciliation SQL must
// find nothing on either, before and after, and stock + redemptions + ledger must agree after.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, projectRequire, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { alternate, measure, summarize } from '../lib/load.mjs';
import { printProfileDiff } from '../lib/profile.mjs';
import { compareTraces } from '../lib/sql-trace.mjs';
import { inviteCode, seedFundedMembers } from '../lib/seed.mjs';

export const description = 'redeem (one-click redemption), spread over 1,000 items and on one hot item (flash sale) — GraphQL app vs bare http+pg baseline running the same SQL';

const SCENARIOS = [
  { name: 'spread', connections: (o) => o.connections },
  { name: 'spread-half', connections: (o) => Math.max(1, Math.floor(o.connections / 2)) },
  { name: 'hot', connections: (o) => o.connections },
];
const TARGETS = 3; // graphql, baseline (same statements), hot-row (one UPDATE)
export const budgetSeconds = (o) => 60 + SCENARIOS.length * TARGETS * o.rounds * (o.warmup + o.duration + 2) + (o.cpuProfile ? 30 : 0);
const HOT_ROW_STOCK = 1_000_000_000;

const DATABASES = { graphql: 'loyalty_bench_redeem', baseline: 'loyalty_bench_redeem_baseline' };
const REDIS_PREFIX = 'bench:redeem:';
const PREFIXES = { graphql: `${REDIS_PREFIX}app:`, baseline: `${REDIS_PREFIX}baseline:` };

const REDEEM = 'mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints redemption { id status } } }';
const START_BALANCE = 1_000_000;
const SEED_VALIDITY_DAYS = 730;
const SPREAD_ITEMS = 1_000;
const PRICE = 10;
const SPREAD_STOCK = 1_000_000;
const HOT_STOCK = 10_000_000;
const CHECK_PRICE = 10;

function memberRows(count, now) {
  const rows = [];
  const add = (kind, i, balance) => {
    const n = rows.length;
    rows.push({
      kind,
      id: randomUUID(),
      externalId: `bench-${kind}-${i}`,
      nickname: `会员${String(n).padStart(5, '0')}`,
      mobile: `139${String(n).padStart(8, '0')}`,
      totalSpend: (((n * 7_919_003) % 3_000_000) / 100).toFixed(2),
      balance,
      inviteCode: inviteCode(3_000_000 + n),
      joinedAt: new Date(now - (count + 2 - n) * 60_000),
    });
  };
  for (let i = 0; i < count; i++) add('load', i, START_BALANCE);
  add('check', 0, START_BALANCE);
  add('check', 1, 5); // too poor for anything
  return rows;
}

/** spread items, one hot item per round, and the checks' items (a normal one, one with stock 1, one sold out). */
function itemRows(rounds) {
  const rows = [];
  const add = (kind, i, stock, price = PRICE) => rows.push({ kind, id: randomUUID(), sku: `bench-${kind}-${i}`, name: `${kind === 'hot' ? '秒杀' : '虚拟'}商品 ${kind}-${i}`, stock, price });
  for (let i = 0; i < SPREAD_ITEMS; i++) add('spread', i, SPREAD_STOCK);
  for (let i = 0; i < rounds; i++) add('hot', i, HOT_STOCK);
  add('check', 'normal', 100, CHECK_PRICE);
  add('check', 'last-one', 1, CHECK_PRICE);
  add('check', 'sold-out', 0, CHECK_PRICE);
  return rows;
}

async function seed(url, members, items, now) {
  const seededAt = new Date(now - 86_400_000);
  const expiresAt = new Date(now + SEED_VALIDITY_DAYS * 86_400_000);
  await withClient(url, async (client) => {
    await client.query('begin');
    await seedFundedMembers(client, members, { seededAt, expiresAt });
    await client.query(
      `insert into catalog_item (id, sku, name, description, category, tags, type, points_price, cash_price, stock, per_member_limit, available_from, available_until, image_url, active, config, created_at, updated_at)
       select id, sku, name, '压测商品', '数码', '{}', 'VIRTUAL', price, null, stock, null, null, null, null, true, null, $6, $6
       from unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[]) as r(id, sku, name, price, stock)`,
      [items.map((r) => r.id), items.map((r) => r.sku), items.map((r) => r.name), items.map((r) => r.price), items.map((r) => r.stock), seededAt],
    );
    // Opened up for the bench databases only: neither limit refuses (the rate-count query still runs on every redeem).
    await client.query(`update program_settings set redeem_limit_per_30min = 1000000000, max_quantity_per_redemption = 1000, updated_at = now(), updated_by = 'bench'`);
    await client.query('commit');
    await client.query('analyze');
  });
}

const reconcile = (url, RECONCILIATION_SQL) => withClient(url, async (client) => (await client.query(RECONCILIATION_SQL)).rows);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
 * Before measuring, on both servers, recording their SQL: a redemption, the same key again (the
 * same redemption back), the last unit of an item then one more (OUT_OF_STOCK), a sold-out item,
 * a member too poor (INSUFFICIENT_POINTS), a bad token, an admin redeeming. Both must answer as
 * expected and send the same statements.
 */
async function checkAnswers(targets, { check, checkItems, redeemRequest, admin }, log) {
  const [rich, poor] = check;
  const { normal, lastOne, soldOut } = checkItems;
  const steps = [
    { name: 'redeem', req: () => redeemRequest(rich, normal.id, 'check-1'), expect: { remainingPoints: START_BALANCE - CHECK_PRICE, status: 'COMPLETED' }, remember: true },
    { name: 'the same key again', req: () => redeemRequest(rich, normal.id, 'check-1'), expect: { remainingPoints: START_BALANCE - CHECK_PRICE, status: 'COMPLETED' }, same: true },
    { name: 'the last unit', req: () => redeemRequest(rich, lastOne.id, 'check-2'), expect: { remainingPoints: START_BALANCE - 2 * CHECK_PRICE, status: 'COMPLETED' } },
    { name: 'one more of it', req: () => redeemRequest(rich, lastOne.id, 'check-3'), code: 'OUT_OF_STOCK' },
    { name: 'a sold-out item', req: () => redeemRequest(rich, soldOut.id, 'check-4'), code: 'OUT_OF_STOCK' },
    { name: 'beyond the balance', req: () => redeemRequest(poor, normal.id, 'check-5'), code: 'INSUFFICIENT_POINTS' },
    {
      name: 'a bad token',
      req: () => ({ ...redeemRequest(rich, normal.id, 'check-6'), headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' } }),
      code: 'UNAUTHENTICATED',
    },
    { name: 'an admin redeeming', req: () => ({ ...redeemRequest(rich, normal.id, 'check-7'), headers: { 'content-type': 'application/json', authorization: admin } }), code: 'FORBIDDEN' },
  ];
  const traces = {};
  for (const target of targets) {
    await target.trace(true);
    let remembered = null;
    for (const step of steps) {
      const { status, body } = await post(target, step.req());
      const code = body?.errors?.[0]?.extensions?.code;
      let ok;
      if (step.expect) {
        const r = body?.data?.redeem;
        ok = status === 200 && !body.errors && r?.remainingPoints === step.expect.remainingPoints && r?.redemption?.status === step.expect.status && UUID.test(r?.redemption?.id ?? '');
        if (step.remember) remembered = r?.redemption?.id;
        if (step.same) ok = ok && r.redemption.id === remembered;
      } else ok = code === step.code;
      if (!ok) throw new Error(`${target.name}: "${step.name}" answered HTTP ${status} ${JSON.stringify(body)}; expected ${step.expect ? JSON.stringify(step.expect) : step.code}`);
    }
    traces[target.name] = await target.trace(false);
    log(`  ${target.name}: ${steps.length} checks answered as expected (${steps.map((s) => s.name).join(', ')}); ${traces[target.name].length} SQL statements`);
  }
  const [a, b] = targets.map((t) => t.name);
  const difference = compareTraces(traces[a], traces[b]);
  if (difference) {
    throw new Error(
      `${a} and ${b} did not send the same SQL (block ${difference.block}, statement ${difference.statement ?? '-'}):\n  ${a}: ${JSON.stringify(difference.left)}\n  ${b}: ${JSON.stringify(difference.right)}\n` +
        'the app changed its statements: update servers/redeem-baseline.mjs (and the list in bench/README.md)',
    );
  }
  log(`  both servers sent the same ${traces[a].length} statements (same transactions, same order; literals aside)`);
  return traces[a];
}

async function quiesce(urls) {
  const count = (url) => withClient(url, async (c) => Number((await c.query('select count(*) from redemption')).rows[0].count));
  let last = await Promise.all(urls.map(count));
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await Promise.all(urls.map(count));
    if (JSON.stringify(now) === JSON.stringify(last)) return;
    last = now;
  }
}

/** The ledger reconciles; stock, redemptions, ledger entries, allocations and notifications agree. */
async function afterRun(name, url, RECONCILIATION_SQL) {
  const problems = [];
  const discrepancies = await reconcile(url, RECONCILIATION_SQL);
  if (discrepancies.length) problems.push(`${name}: reconciliation found ${discrepancies.length} discrepancies, e.g. ${JSON.stringify(discrepancies.slice(0, 3))}`);
  const stats = await withClient(url, async (c) => {
    const {
      rows: [s],
    } = await c.query(
      `select (select count(*)::int from redemption) as redemptions,
              (select count(*)::int from redemption where status <> 'COMPLETED') as not_completed,
              (select count(*)::int from ledger_entry where type = 'REDEMPTION') as redemption_entries,
              (select count(*)::int from redemption r join ledger_entry e on e.id = r.entry_id
                 where e.type = 'REDEMPTION' and e.delta = -r.points_spent and e.reference = r.id::text and e.member_id = r.member_id) as matched_entries,
              (select count(*)::int from notification where kind = 'REDEMPTION') as notifications,
              (select count(*)::int from catalog_item ci
                 where ci.stock + coalesce((select sum(r.quantity) from redemption r where r.item_id = ci.id), 0)
                       <> case when ci.sku like 'bench-spread-%' then $1 when ci.sku like 'bench-hot-%' then $2
                               when ci.sku = 'bench-check-normal' then 100 when ci.sku = 'bench-check-last-one' then 1 else 0 end) as stock_mismatches,
              (select count(*)::int from catalog_item where stock < 0) as negative_stock,
              (select coalesce(sum(quantity), 0)::int from redemption r join catalog_item ci on ci.id = r.item_id where ci.sku like 'bench-hot-%') as hot_units,
              (select min(balance) from member) as min_balance`,
      [SPREAD_STOCK, HOT_STOCK],
    );
    return s;
  });
  if (stats.not_completed) problems.push(`${name}: ${stats.not_completed} redemptions of VIRTUAL items are not COMPLETED`);
  if (stats.redemption_entries !== stats.redemptions || stats.matched_entries !== stats.redemptions) {
    problems.push(`${name}: ${stats.redemptions} redemptions but ${stats.redemption_entries} REDEMPTION entries (${stats.matched_entries} matching)`);
  }
  if (stats.notifications !== stats.redemptions) problems.push(`${name}: ${stats.redemptions} redemptions but ${stats.notifications} REDEMPTION notifications`);
  if (stats.stock_mismatches || stats.negative_stock)
    problems.push(`${name}: stock + redeemed units differ from the seeded stock on ${stats.stock_mismatches} items (${stats.negative_stock} negative)`);
  return { discrepancies: discrepancies.length, stats, problems };
}

async function boardsRebuilt(redisUrl, prefix, timeoutMs = 10_000) {
  const { Redis } = projectRequire('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const [, keys] = await redis.scan('0', 'MATCH', `${prefix}{lb:*}:at`, 'COUNT', 10_000);
      if (keys.length >= 3) return true;
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

  log(`setting up: databases ${DATABASES.graphql} (app) and ${DATABASES.baseline} (baseline), ${options.members} members, ${SPREAD_ITEMS} items + ${options.rounds} hot`);
  const setupStarted = Date.now();
  for (const name of Object.values(DATABASES)) ctx.onCleanup(`drop database ${name}`, () => (options.keepDatabase ? undefined : dropDatabase(name)));
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
  const members = memberRows(options.members, now);
  const items = itemRows(options.rounds);
  await Promise.all([seed(urls.graphql, members, items, now), seed(urls.baseline, members, items, now)]);
  const seeded = Date.now();
  for (const [name, url] of Object.entries(urls)) {
    const found = await reconcile(url, RECONCILIATION_SQL);
    if (found.length) throw new Error(`the seeded ${name} database does not reconcile: ${JSON.stringify(found.slice(0, 3))}`);
  }
  const load = members.filter((r) => r.kind === 'load');
  const check = members.filter((r) => r.kind === 'check');
  const spreadItems = items.filter((r) => r.kind === 'spread');
  const hotItems = items.filter((r) => r.kind === 'hot');
  const bySku = (sku) => items.find((r) => r.sku === sku);
  const checkItems = { normal: bySku('bench-check-normal'), lastOne: bySku('bench-check-last-one'), soldOut: bySku('bench-check-sold-out') };
  log(
    `  migrated both in ${((migrated - setupStarted) / 1000).toFixed(1)} s; seeded ${members.length} members (${START_BALANCE.toLocaleString('en')} points each: ADJUSTMENT entry + lot) and ${items.length} VIRTUAL items (${PRICE} points; stock ${SPREAD_STOCK.toLocaleString('en')}, hot ${HOT_STOCK.toLocaleString('en')}) in ${((seeded - migrated) / 1000).toFixed(1)} s, in both databases; both reconcile`,
  );
  log('  program_settings: redeem_limit_per_30min = 1000000000, max_quantity_per_redemption = 1000 (no limit refuses)');

  // Tokens minted once, one per member (a member token is that member's): requests rotate over them.
  const tokenOf = new Map(members.map((m) => [m.id, `Bearer ${mintToken(config.jwt, { role: 'member', sub: m.id, expiresInSeconds: 3600 })}`]));
  const admin = `Bearer ${mintToken(config.jwt, { role: 'admin', sub: 'bench-admin', expiresInSeconds: 3600 })}`;
  const headersOf = new Map([...tokenOf].map(([id, authorization]) => [id, { 'content-type': 'application/json', authorization }]));
  const redeemRequest = (member, itemId, idempotencyKey) => ({
    path: '/graphql',
    headers: headersOf.get(member.id),
    body: JSON.stringify({ query: REDEEM, variables: { input: { itemId, idempotencyKey } } }),
  });

  // The hot-row baseline's one row, in the baseline's database, outside every table the checks read.
  await withClient(urls.baseline, (c) => c.query(`create table bench_hot_row (id int primary key, stock bigint not null); insert into bench_hot_row values (1, ${HOT_ROW_STOCK})`));

  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  const [graphql, baseline, hotRow] = await Promise.all([
    startServer(ctx, 'graphql', here('../servers/app.mjs'), envs.graphql),
    startServer(ctx, 'baseline', here('../servers/redeem-baseline.mjs'), envs.baseline),
    startServer(ctx, 'hot-row', here('../servers/hot-row-baseline.mjs'), { ...envs.baseline, BENCH_SQL_TRACE: '0' }),
  ]);
  log(`  graphql at ${graphql.url} (pid ${graphql.pid}), baseline at ${baseline.url} (pid ${baseline.pid}), hot-row at ${hotRow.url} (pid ${hotRow.pid})`);
  const targets = [graphql, baseline, hotRow];
  if (!(await boardsRebuilt(config.redisUrl, PREFIXES.graphql))) log('  (the app had not rebuilt its leaderboards after 10 s; checking anyway)');
  const statements = await checkAnswers([graphql, baseline], { check, checkItems, redeemRequest, admin }, log);
  {
    const { status, body } = await post(hotRow, redeemRequest(check[0], checkItems.normal.id, 'check-hot-row'));
    if (status !== 200 || body?.data?.redeem?.redemption?.status !== 'COMPLETED') throw new Error(`hot-row: answered HTTP ${status} ${JSON.stringify(body)}`);
    log('  hot-row: one UPDATE answered');
  }
  log(`  set-up and checks took ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

  const badSamples = [];
  const verifyBody = (body) => {
    const good = body.startsWith('{"data":{"redeem":{"remainingPoints":') && !body.includes('"errors"') && body.includes('"status":"COMPLETED"');
    if (!good && badSamples.length < 10) badSamples.push(body.slice(0, 300));
    return good;
  };

  // Every request has its own idempotencyKey (a run-wide counter). Request n goes to member
  // n mod members; in spread, to item (n + ⌊n / members⌋) mod 1,000, so a member's successive
  // redemptions take different items; in hot, to the round's hot item.
  const runTag = now.toString(36);
  let seq = 0;
  const itemFor = {
    spread: () => (n) => spreadItems[(n + Math.floor(n / load.length)) % spreadItems.length].id,
    hot: (round) => () => hotItems[round].id,
  };
  itemFor['spread-half'] = itemFor.spread;
  const requestsFor = (itemOf) => () => {
    const n = seq++;
    return redeemRequest(load[n % load.length], itemOf(n), `bench-${runTag}-${n}`);
  };

  // --cpu-prof: one profile per measured run of graphql and baseline (node:inspector in the
  // server, around the run, as the partner suite does), compared per redemption at the end.
  const profileDir = join(ROOT, 'bench', 'results', 'profiles');
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const profiles = { graphql: [], baseline: [] };
  if (options.cpuProfile) mkdirSync(profileDir, { recursive: true });

  const results = [];
  for (const scenario of SCENARIOS) {
    const connections = scenario.connections(options);
    log(`measuring ${scenario.name}: ${connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured, ${options.rounds} round(s), order alternating`);
    let calls = 0;
    const scenarioResults = await alternate(
      targets,
      options.rounds,
      async (target) => {
        const round = Math.floor(calls++ / targets.length);
        const profiled = options.cpuProfile && profiles[target.name];
        const file = profiled ? join(profileDir, `redeem-${stamp}-${target.name}-${scenario.name}-${round + 1}.cpuprofile`) : null;
        const aroundMeasured = profiled ? { before: () => target.profile(true), after: () => target.profile(false, file) } : null;
        const result = await measure({
          target,
          request: requestsFor(itemFor[scenario.name](round)),
          verifyBody,
          connections,
          warmupSeconds: options.warmup,
          durationSeconds: options.duration,
          aroundMeasured,
        });
        if (profiled) profiles[target.name].push({ file, requests: result.requests });
        return result;
      },
      (line) => log(`  ${line.trim()}`),
    );
    results.push(...scenarioResults.map((r) => ({ scenario: scenario.name, connections, ...r })));
  }

  await quiesce(Object.values(urls));
  await new Promise((r) => setTimeout(r, 500));
  const after = {};
  const problems = [];
  for (const name of ['graphql', 'baseline']) {
    after[name] = await afterRun(name, urls[name], RECONCILIATION_SQL);
    problems.push(...after[name].problems);
    const s = after[name].stats;
    log(
      `  after the run, ${name}: reconciliation ${after[name].discrepancies === 0 ? 'clean' : `${after[name].discrepancies} discrepancies`}; ${s.redemptions} redemptions = ${s.redemption_entries} REDEMPTION entries (${s.matched_entries} matching) = ${s.notifications} notifications; stock + redeemed = seeded on every item: ${s.stock_mismatches === 0 && s.negative_stock === 0 ? 'yes' : 'NO'}; ${s.hot_units} units of the hot items; lowest balance ${s.min_balance}`,
    );
  }
  if (badSamples.length) log(`  bad bodies seen (first ${badSamples.length}):\n    ${badSamples.join('\n    ')}`);
  if (options.cpuProfile) printProfileDiff({ name: 'graphql', runs: profiles.graphql }, { name: 'baseline', runs: profiles.baseline }, log, 25);

  const summary = {};
  const ratios = {};
  const notes = [];
  const aims = { spread: 0.6, 'spread-half': 0.6, hot: 0.8 };
  for (const { name: scenario } of SCENARIOS) {
    const s = summarize(results.filter((r) => r.scenario === scenario));
    summary[`${scenario}/graphql`] = s.graphql;
    summary[`${scenario}/baseline`] = s.baseline;
    summary[`${scenario}/hot-row`] = s['hot-row'];
    const against = (base) => ({
      reqPerSec: s.graphql.reqPerSec / base.reqPerSec,
      p50: s.graphql.latencyMs.p50 / base.latencyMs.p50,
      p99: s.graphql.latencyMs.p99 / base.latencyMs.p99,
      serverCpuPerRequest: s.graphql.serverCpuMicrosPerRequest / base.serverCpuMicrosPerRequest,
    });
    ratios[scenario] = against(s.baseline);
    ratios[`${scenario} (baseline = one hot-row UPDATE)`] = against(s['hot-row']);
    notes.push(
      `${scenario}: against the physical limit: graphql ${s.graphql.reqPerSec.toFixed(0)} redemptions/s (p99 ${s.graphql.latencyMs.p99.toFixed(0)} ms), ` +
        `same-statement baseline ${s.baseline.reqPerSec.toFixed(0)}/s (p99 ${s.baseline.latencyMs.p99.toFixed(0)} ms, ratio ${(s.graphql.reqPerSec / s.baseline.reqPerSec).toFixed(2)}), ` +
        `one hot-row UPDATE ${s['hot-row'].reqPerSec.toFixed(0)}/s (p99 ${s['hot-row'].latencyMs.p99.toFixed(0)} ms, ratio ${(s.graphql.reqPerSec / s['hot-row'].reqPerSec).toFixed(3)})`,
    );
    const share = ratios[scenario].reqPerSec;
    const p99 = s.graphql.latencyMs.p99;
    const aim = scenario === 'spread-half' ? `graphql p99 < 50 ms at half load (and ≥ ${aims[scenario]} × baseline)` : `graphql ≥ ${aims[scenario]} × the baseline's req/s`;
    const meets = share >= aims[scenario] && (scenario !== 'spread-half' || p99 < 50);
    notes.push(
      `${scenario}: aim (${aim}): ${meets ? 'met' : 'NOT met'} — ${(share * 100).toFixed(0)}% of the baseline, graphql p99 ${p99.toFixed(0)} ms (baseline p99 ${s.baseline.latencyMs.p99.toFixed(0)} ms)`,
    );
  }
  return {
    description,
    operation: REDEEM,
    members: load.length,
    items: { spread: spreadItems.length, hot: hotItems.length, price: PRICE },
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
