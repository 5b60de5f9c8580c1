// partner: what the partner door costs. The same earnPoints mutation (the reviewed PostPurchase
// operation), on ONE app server, two ways, rounds alternating:
//   persisted — POST /partner/graphql with a partner token naming the operation by its manifest
//               id: token, per-partner token bucket in Redis (one Lua call), safelist lookup,
//               allow-list, then Apollo with the stored document, and an audit row batched to
//               PostgreSQL after the response;
//   free-form — POST /graphql with an admin token and the operation's text as `query` (the
//               baseline: no bucket, no lookup, no audit; Apollo's document cache on both).
// Every request posts a new order for the next member, so both do the same ledger work. The
// bar (issue 10): persisted throughput ≥ 90 % of free-form in the same run.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { dist, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { alternate, measure, summarize } from '../lib/load.mjs';
import { printProfileDiff } from '../lib/profile.mjs';
import { inviteCode } from '../lib/seed.mjs';

export const description = 'persisted PostPurchase (earnPoints) on /partner/graphql vs the same mutation free-form on /graphql, one server';

const DATABASE = 'loyalty_bench_partner';
const REDIS_PREFIX = 'bench:partner:';
const PARTNER = 'bench-partner';
const MAX_MEMBERS = 2000;
// The two doors differ by far less than a loaded 2-core machine drifts in a few seconds: at least
// this many rounds (ABBA order), and the verdict is the median of the per-round ratios (each
// round measures both doors back to back), not the ratio of means.
const MIN_ROUNDS = 4;
const roundsOf = (options) => Math.max(options.rounds, MIN_ROUNDS);
export const budgetSeconds = (options) => 60 + 2 * roundsOf(options) * (options.warmup + options.duration + 5);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function seed(url, count) {
  const now = Date.now();
  const ids = Array.from({ length: count }, () => randomUUID());
  await withClient(url, async (client) => {
    await client.query(
      `insert into member (id, external_id, nickname, mobile, total_spend, balance, lifetime_earned, invite_code, joined_at, updated_at)
       select id, 'bench-' || n, '会员' || n, '139' || lpad(n::text, 8, '0'), 0, 0, 0, code, $3, $3
       from unnest($1::uuid[], $2::text[]) with ordinality as r(id, code, n)`,
      [ids, ids.map((_, i) => inviteCode(3_000_000 + i)), new Date(now - 86_400_000)],
    );
    // Opened up for the bench: no hourly earn limit, nothing held for review.
    await client.query(`update program_settings set earn_limit_per_hour = 1000000000, review_threshold_amount = 999999999999.99, updated_at = now(), updated_by = 'bench'`);
    await client.query('analyze');
  });
  return ids;
}

const verifyBody = (body) => (body.startsWith('{"data":{"earnPoints":{') || body.startsWith('{"data":{"memberByExternalId":{')) && !body.includes('"errors"');

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'schema', 'persisted', 'partner-operations.json'), 'utf8'));
  // BENCH_PARTNER_OP=MemberByExternalId: a cheap read instead of the purchase, so the door's own
  // cost is a larger share of each request (the bar is about PostPurchase).
  const opName = process.env.BENCH_PARTNER_OP ?? 'PostPurchase';
  const operation = manifest.operations.find((op) => op.name === opName);

  log(`setting up: database ${DATABASE}`);
  const { url: databaseUrl } = await freshDatabase(DATABASE);
  // The bucket is real (every call runs the Lua script) but wide enough never to refuse the bench.
  const PARTNERS = JSON.stringify({ [PARTNER]: { name: 'Bench 商户', ratePerSecond: 1_000_000, burst: 1_000_000 } });
  const env = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', REDIS_PREFIX, PARTNERS };
  ctx.onCleanup(`drop database ${DATABASE}`, () => (options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  const config = loadConfig(env);
  await preflight(config);
  await clearPrefix(config.redisUrl, REDIS_PREFIX);
  ctx.onCleanup('clear bench: keys in Redis', () => clearPrefix(config.redisUrl, REDIS_PREFIX));
  const members = await seed(databaseUrl, Math.min(options.members, MAX_MEMBERS));
  log(`  seeded ${members.length} members; PostPurchase id ${operation.id.slice(0, 12)}…`);

  const token = (claims) => `Bearer ${mintToken(config.jwt, { ...claims, expiresInSeconds: 3600 })}`;
  const partnerHeaders = { 'content-type': 'application/json', authorization: token({ role: 'partner', sub: PARTNER, partnerId: PARTNER }) };
  const adminHeaders = { 'content-type': 'application/json', authorization: token({ role: 'admin', sub: 'bench-admin' }) };
  const runTag = Date.now().toString(36);
  let order = 0;
  const variables =
    opName === 'MemberByExternalId'
      ? (i) => ({ externalId: `bench-${(i % members.length) + 1}` })
      : (i) => ({ input: { memberId: members[i % members.length], orderId: `b-${runTag}-${++order}`, amount: (5 + (i % 500) / 100).toFixed(2) } });
  const requests = {
    persisted: (i) => ({
      path: '/partner/graphql',
      headers: partnerHeaders,
      body: JSON.stringify({ variables: variables(i), extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } }),
    }),
    'free-form': (i) => ({ path: '/graphql', headers: adminHeaders, body: JSON.stringify({ query: operation.body, variables: variables(i) }) }),
  };

  // --cpu-prof: one profile per measured run (node:inspector in the server, started and stopped
  // around the run), so the two doors, served by ONE process, are profiled apart and compared
  // per request. A whole-life --cpu-prof would mix them.
  const profileDir = join(ROOT, 'bench', 'results', 'profiles');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profiles = { persisted: [], 'free-form': [] };
  if (options.cpuProfile) mkdirSync(profileDir, { recursive: true });
  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  const server = await startServer(ctx, 'app', here('../servers/app.mjs'), env);
  log(`  app at ${server.url} (pid ${server.pid})`);
  // Two targets, one process: the same server answers both doors, measured one after the other.
  const targets = Object.keys(requests).map((name) => ({ ...server, name }));

  // Checks: both doors post a purchase; the partner door refuses a free-form query.
  for (const target of targets) {
    const req = requests[target.name](0);
    const res = await fetch(`${server.url}${req.path}`, { method: 'POST', headers: req.headers, body: req.body });
    const text = await res.text();
    if (!verifyBody(text)) throw new Error(`${target.name}: HTTP ${res.status} ${text}`);
  }
  const refused = await (await fetch(`${server.url}/partner/graphql`, { method: 'POST', headers: partnerHeaders, body: JSON.stringify({ query: operation.body, variables: variables(1) }) })).json();
  if (refused.errors?.[0]?.extensions?.code !== 'PERSISTED_QUERY_NOT_ALLOWED') throw new Error(`the partner door ran a free-form query: ${JSON.stringify(refused)}`);
  log('  both doors posted a purchase; /partner/graphql refused a free-form query');

  // Both doors warmed up before any measurement (twice, alternating): otherwise the first run
  // measured also pays for compiling its door's code, and ABBA puts persisted first.
  log(`warming up both doors: 2 × ${options.warmup} s each, discarded`);
  for (const target of [...targets, ...targets]) {
    await measure({ target, request: requests[target.name], verifyBody, connections: options.connections, warmupSeconds: 0, durationSeconds: Math.max(1, options.warmup) });
  }
  const rounds = roundsOf(options);
  log(`measuring: ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured, ${rounds} round(s), order alternating`);
  const results = await alternate(
    targets,
    rounds,
    async (target) => {
      const file = join(profileDir, `partner-${stamp}-${target.name}-${profiles[target.name].length + 1}.cpuprofile`);
      const aroundMeasured = options.cpuProfile ? { before: () => server.profile(true), after: () => server.profile(false, file) } : null;
      const result = await measure({
        target,
        request: requests[target.name],
        verifyBody,
        connections: options.connections,
        warmupSeconds: options.warmup,
        durationSeconds: options.duration,
        aroundMeasured,
      });
      if (options.cpuProfile) profiles[target.name].push({ file, requests: result.requests });
      return result;
    },
    log,
  );
  const summary = summarize(results);
  const audited = await withClient(databaseUrl, async (c) => Number((await c.query(`select count(*) from partner_call where partner_id = $1`, [PARTNER])).rows[0].count));
  // Per round: persisted ÷ free-form of the two runs measured back to back.
  const perRound = Array.from({ length: rounds }, (_, i) => {
    const of = (name) => results.find((r) => r.round === i + 1 && r.target === name);
    const p = of('persisted');
    const f = of('free-form');
    return { round: i + 1, reqPerSec: p.reqPerSec / f.reqPerSec, serverCpuPerRequest: p.serverCpuMicrosPerRequest / f.serverCpuMicrosPerRequest };
  });
  const medians = {
    reqPerSecRatio: median(perRound.map((r) => r.reqPerSec)),
    serverCpuPerRequestRatio: median(perRound.map((r) => r.serverCpuPerRequest)),
    cpuMicrosPerRequest: Object.fromEntries(targets.map((t) => [t.name, median(results.filter((r) => r.target === t.name).map((r) => r.serverCpuMicrosPerRequest))])),
  };
  log(`  per round, persisted ÷ free-form: ${perRound.map((r) => `${r.reqPerSec.toFixed(2)} (CPU ×${r.serverCpuPerRequest.toFixed(2)})`).join(', ')}`);
  log(
    `  MEDIAN: throughput ratio ${medians.reqPerSecRatio.toFixed(3)} (bar ≥ 0.90), CPU per request persisted ${medians.cpuMicrosPerRequest.persisted.toFixed(0)} µs vs free-form ${medians.cpuMicrosPerRequest['free-form'].toFixed(0)} µs (×${medians.serverCpuPerRequestRatio.toFixed(3)})`,
  );
  if (options.cpuProfile) printProfileDiff({ name: 'persisted', runs: profiles.persisted }, { name: 'free-form', runs: profiles['free-form'] }, log, 20);
  const ratio = {
    reqPerSec: summary.persisted.reqPerSec / summary['free-form'].reqPerSec,
    p50: summary.persisted.latencyMs.p50 / summary['free-form'].latencyMs.p50,
    p99: summary.persisted.latencyMs.p99 / summary['free-form'].latencyMs.p99,
    serverCpuPerRequest: summary.persisted.serverCpuMicrosPerRequest / summary['free-form'].serverCpuMicrosPerRequest,
  };
  log(`  persisted / free-form: ${(ratio.reqPerSec * 100).toFixed(1)} % of the throughput, CPU per request ×${ratio.serverCpuPerRequest.toFixed(3)}; ${audited} audit rows written (bar: ≥ 90 %)`);
  return { description, operation: operation.name, members: members.length, results, summary, ratio, perRound, medians, auditRows: audited };
}
