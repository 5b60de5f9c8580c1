// flash: a flash sale (issue 14, seed 001's high-concurrency path). 10,000 redeem requests for
// 1,000 units of ONE item, from many members at once, through the whole app; the same app
// process serves both targets in the same run, rounds alternating their order:
//   gate     — the item is flagged hot: the Redis admission gate (src/catalog/flash-sale.gate.ts)
//              refuses sold-out and over-limit requests before any SQL;
//   no-gate  — an identical item not flagged: every request runs the redemption transaction
//              (the baseline: the app as it was).
// Reported per target: time to sell out (the last unit's answer), time until all 10,000 are
// answered, redemption transactions opened (the server's BEGINs) and every PostgreSQL
// transaction (pg_stat_database's xact_commit + xact_rollback delta), latency of the refusals,
// server CPU per request. Checked after the run: 0 oversold (stock +
// units redeemed = 1,000, stock never negative, at most the per-member limit each), 0 points lost
// (every member's balance = its seeded balance − the price × its redemptions, the ledger
// reconciles), and the gate's counter equals PostgreSQL's stock.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, projectRequire, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { inviteCode, seedFundedMembers } from '../lib/seed.mjs';
import { printProfileDiff } from '../lib/profile.mjs';

export const description = 'flash sale: 10,000 redeem requests for 1,000 units of one item, Redis admission gate (item flagged hot) vs the same app without it (same run)';

const REQUESTS = 10_000;
const UNITS = 1_000;
const PRICE = 100;
const PER_MEMBER_LIMIT = 1;
/** Every 50th member cannot afford the item: a winner the gate admits and the transaction refuses (INSUFFICIENT_POINTS), so give-backs are exercised. */
const POOR_EVERY = 50;
const DATABASE = 'loyalty_bench_flash';
const REDIS_PREFIX = 'bench:flash:';
const TARGETS = ['gate', 'no-gate'];
const REFUSALS = new Set(['OUT_OF_STOCK', 'LIMIT_EXCEEDED', 'INSUFFICIENT_POINTS']);
const REDEEM = 'mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints redemption { id status } } }';

// Each measured run answers 10,000 requests; without the gate that is 10,000 transactions: 3 to 6 minutes on 2 cores shared with other work.
export const budgetSeconds = (o) => 120 + o.rounds * 2 * (480 + (2 * STATS_SETTLE_MS) / 1000) + (o.warmup > 0 ? 120 : 0);

function memberRows(count, startBalance, now) {
  return Array.from({ length: count }, (_, n) => ({
    id: randomUUID(),
    externalId: `bench-flash-${n}`,
    nickname: `会员${String(n).padStart(5, '0')}`,
    mobile: `139${String(n).padStart(8, '0')}`,
    balance: n % POOR_EVERY === 7 ? PRICE / 2 : startBalance,
    inviteCode: inviteCode(4_000_000 + n),
    joinedAt: new Date(now - (count + 2 - n) * 60_000),
  }));
}

async function seed(url, members, items, now) {
  const seededAt = new Date(now - 86_400_000);
  const expiresAt = new Date(now + 730 * 86_400_000);
  await withClient(url, async (client) => {
    await client.query('begin');
    await seedFundedMembers(client, members, { seededAt, expiresAt });
    await client.query(
      `insert into catalog_item (id, sku, name, description, category, tags, type, points_price, cash_price, stock, per_member_limit, available_from, available_until, image_url, active, hot, config, created_at, updated_at)
       select id, sku, name, '秒杀压测', '数码', '{}', 'VIRTUAL', $5, null, stock, $6, null, null, null, true, hot, null, $7, $7
       from unnest($1::uuid[], $2::text[], $3::int[], $4::boolean[]) as r(id, sku, stock, hot), lateral (select '秒杀商品 ' || sku as name) n`,
      [items.map((r) => r.id), items.map((r) => r.sku), items.map((r) => r.stock), items.map((r) => r.hot), PRICE, PER_MEMBER_LIMIT, seededAt],
    );
    // Opened up for the bench only: the 30-minute redemption rate limit never refuses.
    await client.query(`update program_settings set redeem_limit_per_30min = 1000000000, updated_at = now(), updated_by = 'bench'`);
    await client.query('commit');
    await client.query('analyze');
  });
}

/**
 * Redemption transactions in the server's statements: its BEGINs. (Statements outside a
 * transaction cannot be told apart here: the trace interleaves the pool's connections; the
 * PostgreSQL-wide count comes from pg_stat_database.)
 */
function transactionsIn(statements) {
  const begins = statements.filter((text) => /^\s*(begin|start transaction)\b/i.test(text)).length;
  return { begins, statements: statements.length };
}

/** PostgreSQL's own count of transactions committed and rolled back in the bench database. */
const xacts = (url) => withClient(url, async (c) => Number((await c.query('select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()')).rows[0].n));
/**
 * Backends report their counts at most once a second while busy and within 10 s once idle
 * (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): wait that long around a run so the delta is complete.
 * The delta includes the app's background work during the run and the settle, and this
 * function's own reads (a handful).
 */
const STATS_SETTLE_MS = 11_000;

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/**
 * Fires `total` requests over `connections` kept-alive connections (closed loop: each connection
 * sends its next request when the previous one is answered), as fast as the server answers.
 */
async function fire({ url, total, connections, requestFor }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(`${url}/graphql`);
  const outcomes = [];
  let next = 0;
  const started = performance.now();
  const send = (req) =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const r = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) } },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const at = performance.now();
            let code = 'BAD_BODY';
            try {
              const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (body.data?.redeem?.redemption?.status === 'COMPLETED' && !body.errors) code = 'OK';
              else if (body.errors?.[0]?.extensions?.code) code = body.errors[0].extensions.code;
            } catch {
              // counted as a bad body
            }
            resolve({ code, status: res.statusCode, ms: at - sentAt, at: at - started });
          });
        },
      );
      r.on('error', () => resolve({ code: 'ERROR', status: 0, ms: performance.now() - sentAt, at: performance.now() - started }));
      r.end(req.body);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < total) {
        const n = next++;
        outcomes.push(await send(requestFor(n)));
      }
    }),
  );
  agent.destroy();
  return { outcomes, wallMs: performance.now() - started };
}

function summarizeRun(outcomes, wallMs) {
  const codes = {};
  for (const o of outcomes) codes[o.code] = (codes[o.code] ?? 0) + 1;
  const sold = outcomes.filter((o) => o.code === 'OK').sort((a, b) => a.at - b.at);
  const refused = outcomes
    .filter((o) => REFUSALS.has(o.code))
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  const all = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const wins = sold.map((o) => o.ms).sort((a, b) => a - b);
  return {
    codes,
    sold: sold.length,
    sellOutMs: sold.length >= UNITS ? sold[UNITS - 1].at : NaN,
    // The shape of the sale: when half and nine tenths of the units were sold, and when the first OUT_OF_STOCK came.
    halfSoldMs: sold.length >= UNITS / 2 ? sold[UNITS / 2 - 1].at : NaN,
    ninetyPercentSoldMs: sold.length >= (UNITS * 9) / 10 ? sold[(UNITS * 9) / 10 - 1].at : NaN,
    firstSoldOutMs: Math.min(...outcomes.filter((o) => o.code === 'OUT_OF_STOCK').map((o) => o.at)),
    lastOkMs: sold.length ? sold[sold.length - 1].at : NaN,
    allAnsweredMs: wallMs,
    latencyMs: { p50: quantile(all, 0.5), p99: quantile(all, 0.99) },
    winnersMs: { p50: quantile(wins, 0.5), p99: quantile(wins, 0.99) },
    refusalsMs: { p50: quantile(refused, 0.5), p99: quantile(refused, 0.99) },
    badBodies: outcomes.filter((o) => !(o.code === 'OK' || REFUSALS.has(o.code) || o.code === 'ERROR' || o.code === 'SERVICE_UNAVAILABLE')).length,
    // Transport errors, and SERVICE_UNAVAILABLE (retryable: a pool wait or a statement past its timeout on an overloaded machine).
    errors: (codes.ERROR ?? 0) + (codes.SERVICE_UNAVAILABLE ?? 0),
    non2xx: outcomes.filter((o) => o.status !== 200 && o.status !== 0).length,
  };
}

/** 0 oversold, 0 points lost, the ledger reconciles, the gate agrees with PostgreSQL. */
async function afterRun(url, RECONCILIATION_SQL, members, items, gateStock) {
  const problems = [];
  const discrepancies = await withClient(url, async (c) => (await c.query(RECONCILIATION_SQL)).rows);
  if (discrepancies.length) problems.push(`reconciliation found ${discrepancies.length} discrepancies, e.g. ${JSON.stringify(discrepancies.slice(0, 3))}`);
  const seededStock = new Map(items.map((i) => [i.id, i.stock]));
  const perItem = await withClient(
    url,
    async (c) =>
      (
        await c.query(
          `select ci.id, ci.sku, ci.stock, ci.hot, coalesce(sum(r.quantity), 0)::int as units, count(distinct r.member_id)::int as buyers,
            coalesce(max(per.n), 0)::int as most_by_one
     from catalog_item ci
     left join redemption r on r.item_id = ci.id
     left join lateral (select count(*) as n from redemption r2 where r2.item_id = ci.id group by r2.member_id order by 1 desc limit 1) per on true
     where ci.id = any($1::uuid[]) group by ci.id order by ci.sku`,
          [items.map((i) => i.id)],
        )
      ).rows,
  );
  for (const row of perItem) {
    row.seeded = seededStock.get(row.id);
    row.oversold = Math.max(0, row.units - row.seeded);
    if (row.stock < 0 || row.stock + row.units !== row.seeded) problems.push(`${row.sku}: stock ${row.stock} + ${row.units} units redeemed ≠ ${row.seeded} seeded`);
    if (row.most_by_one > PER_MEMBER_LIMIT) problems.push(`${row.sku}: a member got ${row.most_by_one} units (limit ${PER_MEMBER_LIMIT})`);
    if (row.hot) {
      const counter = await gateStock(row.id);
      row.gate = counter;
      if (counter !== row.stock) problems.push(`${row.sku}: the gate holds ${counter} units, PostgreSQL ${row.stock}`);
    }
  }
  const points = await withClient(
    url,
    async (c) =>
      (
        await c.query(
          `select count(*)::int as mismatches
     from member m
     join ledger_entry s on s.member_id = m.id and s.idempotency_key = 'bench-seed:' || m.id
     left join (select member_id, count(*)::int as n from redemption where status <> 'CANCELLED' group by member_id) r on r.member_id = m.id
     where m.balance <> s.delta - $1 * coalesce(r.n, 0)`,
          [PRICE],
        )
      ).rows[0],
  );
  const totals = await withClient(
    url,
    async (c) => (await c.query(`select (select coalesce(sum(balance), 0)::bigint from member) as balances, (select coalesce(sum(points_spent), 0)::bigint from redemption) as spent`)).rows[0],
  );
  const seeded = members.reduce((sum, m) => sum + m.balance, 0);
  const lost = seeded - Number(totals.balances) - Number(totals.spent);
  if (points.mismatches) problems.push(`${points.mismatches} members' balances differ from seeded − price × redemptions`);
  if (lost !== 0) problems.push(`points lost: seeded ${seeded}, balances ${totals.balances} + spent ${totals.spent} (${lost} missing)`);
  return { discrepancies: discrepancies.length, perItem, balanceMismatches: points.mismatches, pointsLost: lost, problems };
}

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');
  const { RECONCILIATION_SQL } = dist('src/ledger/ledger.reconcile.js');
  const warmup = options.warmup > 0;
  const memberCount = options.members;
  const connections = options.connections;

  log(
    `setting up: database ${DATABASE}, ${memberCount} members (every ${POOR_EVERY}th too poor for the item), per round one hot item and one plain item of ${UNITS} units at ${PRICE} points (limit ${PER_MEMBER_LIMIT} per member)`,
  );
  ctx.onCleanup(`drop database ${DATABASE}`, () => (options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  const { url } = await freshDatabase(DATABASE);
  const env = { ...process.env, DATABASE_URL: url, REDIS_PREFIX, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', BENCH_SQL_TRACE: '1' };
  const config = loadConfig(env);
  await preflight(config);
  await clearPrefix(config.redisUrl, REDIS_PREFIX);
  ctx.onCleanup(`clear ${REDIS_PREFIX} keys in Redis`, () => clearPrefix(config.redisUrl, REDIS_PREFIX));

  const now = Date.now();
  const rounds = options.rounds;
  const startBalance = PRICE * (2 * rounds + 2);
  const members = memberRows(memberCount, startBalance, now);
  const items = [];
  const addItem = (target, round, stock) => items.push({ id: randomUUID(), sku: `bench-flash-${target}-${round}`, target, round, stock, hot: target === 'gate' });
  for (let r = 0; r < rounds; r++) for (const t of TARGETS) addItem(t, r, UNITS);
  // Warm-up items: a tenth of the sale, on both paths, not measured.
  if (warmup) for (const t of TARGETS) addItem(t, 'warmup', UNITS / 10);
  await seed(url, members, items, now);
  log(`  seeded ${members.length} members and ${items.length} items`);

  const tokenOf = members.map((m) => `Bearer ${mintToken(config.jwt, { role: 'member', sub: m.id, expiresInSeconds: 3600 })}`);
  const requestFor = (item, runTag) => (n) => {
    const m = n % members.length;
    return {
      headers: { 'content-type': 'application/json', authorization: tokenOf[m] },
      body: JSON.stringify({ query: REDEEM, variables: { input: { itemId: item.id, idempotencyKey: `flash-${runTag}-${n}` } } }),
    };
  };

  const profileDir = join(ROOT, 'bench', 'results', 'profiles');
  if (options.cpuProfile) mkdirSync(profileDir, { recursive: true });
  const server = await startServer(ctx, 'app', fileURLToPath(new URL('../servers/app.mjs', import.meta.url)), env);
  log(`  app at ${server.url} (pid ${server.pid}); the gate built its counters at start`);

  const { Redis } = projectRequire('ioredis');
  const redis = new Redis(config.redisUrl, { keyPrefix: REDIS_PREFIX, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect();
  ctx.onCleanup('close the bench Redis client', () => redis.quit());
  const gateStock = async (itemId) => {
    const v = await redis.hget(`{flash:${itemId}}:item`, 'stock');
    return v == null ? null : Number(v);
  };
  for (const item of items.filter((i) => i.hot)) {
    if ((await gateStock(item.id)) !== item.stock) throw new Error(`the gate has no counter for ${item.sku}: ${await gateStock(item.id)}`);
  }

  const runOne = async (item, label, total, measured) => {
    const profileFile = join(profileDir, `flash-${label}-${item.round}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    let xactBefore = null;
    if (measured) {
      await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
      xactBefore = await xacts(url);
    }
    await server.trace(true);
    if (options.cpuProfile && measured) await server.profile(true);
    const cpuBefore = await server.usage();
    const { outcomes, wallMs } = await fire({ url: server.url, total, connections, requestFor: requestFor(item, `${label}-${item.round}-${now.toString(36)}`) });
    const cpuAfter = await server.usage();
    if (options.cpuProfile && measured) await server.profile(false, profileFile);
    const statements = await server.trace(false);
    let pgTransactions = NaN;
    if (measured) {
      await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
      pgTransactions = (await xacts(url)) - xactBefore;
    }
    const summary = summarizeRun(outcomes, wallMs);
    // The gate's rebuilds so far, by reason (/metrics): a rebuild mid-run resets the counter while requests are admitted.
    const metricsText = await (await fetch(`${server.url}/metrics`)).text();
    summary.gateRebuilds = Object.fromEntries([...metricsText.matchAll(/^loyalty_flash_gate_rebuilds\{reason="([^"]+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    return {
      ...summary,
      transactions: { ...transactionsIn(statements), pg: pgTransactions },
      serverCpuMicrosPerRequest: (cpuAfter.cpuMicros - cpuBefore.cpuMicros) / total,
      profileFile: options.cpuProfile && measured ? profileFile : null,
    };
  };

  if (warmup) {
    for (const item of items.filter((i) => i.round === 'warmup')) {
      const w = await runOne(item, item.target, REQUESTS / 10, false);
      log(`  warm-up ${item.target}: ${REQUESTS / 10} requests, ${w.sold} sold in ${(w.allAnsweredMs / 1000).toFixed(1)} s`);
    }
  }

  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? TARGETS : [...TARGETS].reverse();
    for (const target of order) {
      const item = items.find((i) => i.round === r && i.target === target);
      log(`measuring round ${r + 1}, ${target}: ${REQUESTS} requests for ${UNITS} units over ${connections} connections`);
      const result = await runOne(item, target, REQUESTS, true);
      runs.push({ target, round: r + 1, ...result });
      log(
        `  ${target}: sold ${result.sold} (half at ${(result.halfSoldMs / 1000).toFixed(2)} s, 90 % at ${(result.ninetyPercentSoldMs / 1000).toFixed(2)} s, ` +
          `the first OUT_OF_STOCK at ${(result.firstSoldOutMs / 1000).toFixed(2)} s, sold out at ${(result.sellOutMs / 1000).toFixed(2)} s), all answered in ${(result.allAnsweredMs / 1000).toFixed(2)} s; ` +
          `${result.transactions.begins} redemption transactions (BEGIN), ${result.transactions.pg} PostgreSQL transactions (pg_stat_database), ${result.transactions.statements} statements; ` +
          `refusals p50 ${result.refusalsMs.p50.toFixed(1)} ms p99 ${result.refusalsMs.p99.toFixed(1)} ms; ${JSON.stringify(result.codes)}; gate rebuilds so far ${JSON.stringify(result.gateRebuilds)}`,
      );
    }
  }

  const checked = await afterRun(url, RECONCILIATION_SQL, members, items, gateStock);
  log(
    `  after the run: reconciliation ${checked.discrepancies === 0 ? 'clean' : `${checked.discrepancies} discrepancies`}; ` +
      `per item stock + redeemed = seeded: ${checked.perItem.every((i) => i.stock + i.units === i.seeded) ? 'yes' : 'NO'} (oversold: ${Math.max(0, ...checked.perItem.map((i) => i.oversold))}); ` +
      `balances = seeded − price × redemptions for every member: ${checked.balanceMismatches === 0 ? 'yes' : `NO (${checked.balanceMismatches})`}; points lost: ${checked.pointsLost}; ` +
      `gate counters = PostgreSQL stock: ${checked.perItem.filter((i) => i.hot).every((i) => i.gate === i.stock) ? 'yes' : 'NO'}`,
  );

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const byTarget = Object.fromEntries(TARGETS.map((t) => [t, runs.filter((r) => r.target === t)]));
  const summary = {};
  const results = runs.map((r) => ({
    target: r.target,
    round: r.round,
    reqPerSec: REQUESTS / (r.allAnsweredMs / 1000),
    latencyMs: r.latencyMs,
    serverCpuMicrosPerRequest: r.serverCpuMicrosPerRequest,
    requests: REQUESTS,
    errors: r.errors,
    timeouts: 0,
    non2xx: r.non2xx,
    badBodies: r.badBodies,
  }));
  const agg = {};
  for (const t of TARGETS) {
    const rs = byTarget[t];
    agg[t] = {
      sellOutMs: mean(rs.map((r) => r.sellOutMs)),
      allAnsweredMs: mean(rs.map((r) => r.allAnsweredMs)),
      transactions: mean(rs.map((r) => r.transactions.pg)),
      begins: mean(rs.map((r) => r.transactions.begins)),
      statements: mean(rs.map((r) => r.transactions.statements)),
      sold: mean(rs.map((r) => r.sold)),
      refusalsP50: mean(rs.map((r) => r.refusalsMs.p50)),
      refusalsP99: mean(rs.map((r) => r.refusalsMs.p99)),
      cpu: mean(rs.map((r) => r.serverCpuMicrosPerRequest)),
    };
    summary[t] = {
      reqPerSec: REQUESTS / (agg[t].allAnsweredMs / 1000),
      latencyMs: { p50: mean(rs.map((r) => r.latencyMs.p50)), p99: mean(rs.map((r) => r.latencyMs.p99)) },
      serverCpuMicrosPerRequest: agg[t].cpu,
      requests: REQUESTS * rs.length,
      errors: rs.reduce((n, r) => n + r.errors, 0),
      timeouts: 0,
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      badBodies: rs.reduce((n, r) => n + r.badBodies, 0),
    };
  }
  const g = agg.gate;
  const b = agg['no-gate'];
  const notes = [
    `time to sell out ${UNITS} units: gate ${(g.sellOutMs / 1000).toFixed(2)} s, no gate ${(b.sellOutMs / 1000).toFixed(2)} s: ratio ${(g.sellOutMs / b.sellOutMs).toFixed(2)}`,
    `all ${REQUESTS} answered: gate ${(g.allAnsweredMs / 1000).toFixed(2)} s, no gate ${(b.allAnsweredMs / 1000).toFixed(2)} s: ratio ${(g.allAnsweredMs / b.allAnsweredMs).toFixed(2)}`,
    `redemption transactions opened (BEGIN): gate ${g.begins.toFixed(0)} (${(g.begins / g.sold).toFixed(2)} per unit sold), no gate ${b.begins.toFixed(0)} (${(b.begins / b.sold).toFixed(2)} per unit sold): ratio ${(g.begins / b.begins).toFixed(3)}`,
    `all PostgreSQL transactions (pg_stat_database: single statements and background work included): gate ${g.transactions.toFixed(0)}, no gate ${b.transactions.toFixed(0)}: ratio ${(g.transactions / b.transactions).toFixed(3)}`,
    `SQL statements: gate ${g.statements.toFixed(0)}, no gate ${b.statements.toFixed(0)}: ratio ${(g.statements / b.statements).toFixed(3)}`,
    `refusals: gate p50 ${g.refusalsP50.toFixed(1)} ms / p99 ${g.refusalsP99.toFixed(1)} ms, no gate p50 ${b.refusalsP50.toFixed(1)} ms / p99 ${b.refusalsP99.toFixed(1)} ms`,
    `server CPU per request: gate ${g.cpu.toFixed(0)} µs, no gate ${b.cpu.toFixed(0)} µs: ratio ${(g.cpu / b.cpu).toFixed(2)}`,
    `oversold: ${Math.max(0, ...checked.perItem.map((i) => i.oversold))}; points lost: ${checked.pointsLost}; balance mismatches: ${checked.balanceMismatches}`,
  ];
  if (options.cpuProfile) {
    const profiles = (t) => ({ name: t, runs: byTarget[t].map((r) => ({ file: r.profileFile, requests: REQUESTS })) });
    ctx.onCleanup('compare the CPU profiles', async () => printProfileDiff(profiles('no-gate'), profiles('gate'), log));
  }
  return {
    description,
    requests: REQUESTS,
    units: UNITS,
    price: PRICE,
    perMemberLimit: PER_MEMBER_LIMIT,
    members: memberCount,
    connections,
    runs: runs.map(({ profileFile, ...r }) => ({ ...r, profileFile })),
    aggregate: agg,
    afterRun: { discrepancies: checked.discrepancies, perItem: checked.perItem, balanceMismatches: checked.balanceMismatches, pointsLost: checked.pointsLost },
    results,
    summary,
    notes,
    problems: checked.problems,
  };
}
