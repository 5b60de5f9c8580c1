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
import { printProfileSummary } from '../lib/profile.mjs';
import { inviteCode } from '../lib/seed.mjs';

export const description = 'persisted PostPurchase (earnPoints) on /partner/graphql vs the same mutation free-form on /graphql, one server';

const DATABASE = 'loyalty_bench_partner';
const REDIS_PREFIX = 'bench:partner:';
const PARTNER = 'bench-partner';
const MAX_MEMBERS = 2000;

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

const verifyBody = (body) => body.startsWith('{"data":{"earnPoints":{') && !body.includes('"errors"');

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'schema', 'persisted', 'partner-operations.json'), 'utf8'));
  const operation = manifest.operations.find((op) => op.name === 'PostPurchase');

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
  const variables = (i) => ({ input: { memberId: members[i % members.length], orderId: `b-${runTag}-${++order}`, amount: (5 + (i % 500) / 100).toFixed(2) } });
  const requests = {
    persisted: (i) => ({ path: '/partner/graphql', headers: partnerHeaders, body: JSON.stringify({ variables: variables(i), extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } }) }),
    'free-form': (i) => ({ path: '/graphql', headers: adminHeaders, body: JSON.stringify({ query: operation.body, variables: variables(i) }) }),
  };

  const execArgv = [];
  if (options.cpuProfile) {
    const dir = join(ROOT, 'bench', 'results', 'profiles');
    mkdirSync(dir, { recursive: true });
    const file = `partner-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${file}`);
    ctx.onCleanup('summarize the CPU profile', async () => printProfileSummary(join(dir, file), log, 25, 'app'));
  }
  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  const server = await startServer(ctx, 'app', here('../servers/app.mjs'), env, { execArgv });
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

  log(`measuring: ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured, ${options.rounds} round(s), order alternating`);
  const results = await alternate(
    targets,
    options.rounds,
    (target) => measure({ target, request: requests[target.name], verifyBody, connections: options.connections, warmupSeconds: options.warmup, durationSeconds: options.duration }),
    log,
  );
  const summary = summarize(results);
  const audited = await withClient(databaseUrl, async (c) => Number((await c.query(`select count(*) from partner_call where partner_id = $1`, [PARTNER])).rows[0].count));
  const ratio = {
    reqPerSec: summary.persisted.reqPerSec / summary['free-form'].reqPerSec,
    p50: summary.persisted.latencyMs.p50 / summary['free-form'].latencyMs.p50,
    p99: summary.persisted.latencyMs.p99 / summary['free-form'].latencyMs.p99,
    serverCpuPerRequest: summary.persisted.serverCpuMicrosPerRequest / summary['free-form'].serverCpuMicrosPerRequest,
  };
  log(`  persisted / free-form: ${(ratio.reqPerSec * 100).toFixed(1)} % of the throughput, CPU per request ×${ratio.serverCpuPerRequest.toFixed(3)}; ${audited} audit rows written (bar: ≥ 90 %)`);
  return { description, operation: operation.name, members: members.length, results, summary, ratio, auditRows: audited };
}
