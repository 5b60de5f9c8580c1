// members: `{ me { nickname tier { name } balance } }` through the whole app (express, Apollo,
// type-graphql, MikroORM) against a bare node:http + pg server answering the same, over
// ~10,000 seeded members, each request carrying a different member's token. A third target,
// `{ __typename }` with the same tokens on the same app server, is the floor of HTTP + auth +
// Apollo alone (no resolver, no database), so a profile can tell the stack from the read.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { alternate, measure, summarize } from '../lib/load.mjs';
import { inviteCode } from '../lib/seed.mjs';
import { printProfileDiff, printTopFrames } from '../lib/profile.mjs';

export const description = 'me { nickname tier { name } balance } — GraphQL app vs bare http+pg baseline';

const DATABASE = 'loyalty_bench';
const REDIS_PREFIX = 'bench:';
const QUERY = '{ me { nickname tier { name } balance } }';
const FLOOR_QUERY = '{ __typename }';
const SAMPLE = 25;

/** Valid members: uuid ids, unique 139xxxxxxxx mobiles and invite codes, spends over all tiers. */
function memberRows(count, now) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    // Deterministic spread of lifetime spend over 0..29999.99, so every tier has members.
    const spendCents = (i * 7_919_003) % 3_000_000;
    const joinedAt = new Date(now - (count - i) * 60_000);
    rows.push({
      id: randomUUID(),
      externalId: `bench-${i}`,
      nickname: `会员${String(i).padStart(5, '0')}`,
      mobile: `139${String(i).padStart(8, '0')}`,
      totalSpend: (spendCents / 100).toFixed(2),
      balance: (i * 37) % 5000,
      inviteCode: inviteCode(1_000_000 + i),
      joinedAt,
    });
  }
  return rows;
}

/** One INSERT for all rows (unnest of arrays: one statement, no parameter limit). */
async function seed(url, rows) {
  await withClient(url, async (client) => {
    await client.query(
      `insert into member (id, external_id, nickname, mobile, total_spend, balance, lifetime_earned, invite_code, joined_at, updated_at)
       select id, external_id, nickname, mobile, total_spend, balance, balance, invite_code, joined_at, joined_at
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::int[], $7::text[], $8::timestamptz[])
         as r(id, external_id, nickname, mobile, total_spend, balance, invite_code, joined_at)`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.externalId),
        rows.map((r) => r.nickname),
        rows.map((r) => r.mobile),
        rows.map((r) => r.totalSpend),
        rows.map((r) => r.balance),
        rows.map((r) => r.inviteCode),
        rows.map((r) => r.joinedAt),
      ],
    );
    // The tier shown is the one held (member.tier_level, issue 17), which a member reaches by
    // lifetime spend: set it as the lifecycle migration does for existing members.
    await client.query('update member m set tier_level = coalesce((select max(t.level) from tier t where t.min_spend <= m.total_spend), 1)');
    // Hint bits set and dead versions (of the update above) gone before measuring: otherwise the
    // first server to read each row pays for that write (the graphql target in round 1 did).
    await client.query('vacuum (freeze, analyze) member');
  });
  return withClient(url, async (client) => (await client.query('select level, name, min_spend from tier order by level')).rows);
}

/** The answer both servers must give, computed here from the seed and the tier table. */
function expectedMe(row, tiers) {
  let tier = tiers[0];
  for (const t of tiers) if (Number(row.totalSpend) >= Number(t.min_spend)) tier = t;
  return { data: { me: { nickname: row.nickname, tier: { name: tier.name }, balance: row.balance } } };
}

const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Before measuring: every sampled member gets exactly its own data from both servers. */
async function checkAnswers(targets, members, tiers, requestFor, log) {
  const step = Math.max(1, Math.floor(members.length / SAMPLE));
  for (const target of targets) {
    for (let i = 0; i < members.length; i += step) {
      const req = requestFor(i);
      const res = await fetch(`${target.url}${req.path}`, { method: 'POST', headers: req.headers, body: req.body });
      const body = await res.json();
      const expected = expectedMe(members[i], tiers);
      if (res.status !== 200 || !sameJson(body, expected)) {
        throw new Error(`${target.name} answered member ${i} wrongly: HTTP ${res.status} ${JSON.stringify(body)}; expected ${JSON.stringify(expected)}`);
      }
    }
    const refused = await fetch(`${target.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: QUERY }),
    });
    const refusedBody = await refused.json();
    if (refusedBody.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED') {
      throw new Error(`${target.name} did not refuse a bad token: HTTP ${refused.status} ${JSON.stringify(refusedBody)}`);
    }
    log(`  ${target.name}: ${Math.ceil(members.length / step)} sampled members answered correctly; a bad token is refused (HTTP ${refused.status})`);
  }
}

/** A response is good when it is a member's data and carries no error. */
const verifyBody = (body) => body.startsWith('{"data":{"me":{"nickname":') && !body.includes('"errors"');
const verifyFloor = (body) => body.trimEnd() === '{"data":{"__typename":"Query"}}';

/** Three targets and two budgets: bound the run like the runner's default, for three targets. */
export const budgetSeconds = (options) => 60 + 3 * options.rounds * (options.warmup + options.duration + 3);

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');

  log(`setting up: database ${DATABASE}, ${options.members} members`);
  const { url: databaseUrl, migrations } = await freshDatabase(DATABASE);
  // The app's own configuration, as `npm run serve` would read it, pointed at the bench's data.
  const env = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', REDIS_PREFIX };
  ctx.onCleanup(`drop database ${DATABASE}`, () => (options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  const config = loadConfig(env);
  await preflight(config); // PostgreSQL and Redis reachable, with a one-line hint when not
  await clearPrefix(config.redisUrl, REDIS_PREFIX);
  ctx.onCleanup('clear bench: keys in Redis', () => clearPrefix(config.redisUrl, REDIS_PREFIX));

  const members = memberRows(options.members, Date.now());
  const seeding = Date.now();
  const tiers = await seed(databaseUrl, members);
  log(`  migrations: ${migrations.join(', ') || '(none)'}; seeded ${members.length} members in ${Date.now() - seeding} ms; tiers: ${tiers.map((t) => `${t.name}≥${t.min_spend}`).join(', ')}`);

  // Tokens are minted up front (as the identity provider would have): no signing during the run.
  // mintToken keeps one KeyObject per secret (see src/auth/jwt.ts).
  const signing = config.jwt;
  const minting = Date.now();
  const body = JSON.stringify({ query: QUERY });
  const headers = members.map((m) => ({
    'content-type': 'application/json',
    authorization: `Bearer ${mintToken(signing, { role: 'member', sub: m.id, expiresInSeconds: 3600 })}`,
  }));
  log(`  minted ${headers.length} member tokens in ${Date.now() - minting} ms`);
  const requestFor = (i) => ({ path: '/graphql', headers: headers[i % headers.length], body });
  const floorBody = JSON.stringify({ query: FLOOR_QUERY });
  const floorFor = (i) => ({ path: '/graphql', headers: headers[i % headers.length], body: floorBody });

  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  const [graphql, baseline] = await Promise.all([startServer(ctx, 'graphql', here('../servers/app.mjs'), env), startServer(ctx, 'baseline', here('../servers/members-baseline.mjs'), env)]);
  log(`  graphql at ${graphql.url} (pid ${graphql.pid}), baseline at ${baseline.url} (pid ${baseline.pid})`);
  await checkAnswers([graphql, baseline], members, tiers, requestFor, log);
  // The floor: the same app process, the same tokens, a document that reads nothing.
  const floor = { ...graphql, name: 'typename' };
  const floorCheck = await fetch(`${floor.url}/graphql`, { method: 'POST', headers: headers[0], body: floorBody });
  const floorText = await floorCheck.text();
  if (!verifyFloor(floorText)) throw new Error(`typename answered HTTP ${floorCheck.status} ${floorText}`);
  const targets = [graphql, floor, baseline];

  // --cpu-prof: one profile per measured run (node:inspector in each server, around the run), so
  // the member read and the floor, served by ONE process, are profiled apart.
  const profileDir = join(ROOT, 'bench', 'results', 'profiles');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profiles = { graphql: [], typename: [], baseline: [] };
  if (options.cpuProfile) mkdirSync(profileDir, { recursive: true });

  log(`measuring: ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured, ${options.rounds} round(s), order alternating`);
  const results = await alternate(
    targets,
    options.rounds,
    async (target) => {
      const file = join(profileDir, `members-${stamp}-${target.name}-${profiles[target.name].length + 1}.cpuprofile`);
      const result = await measure({
        target,
        request: target.name === 'typename' ? floorFor : requestFor,
        verifyBody: target.name === 'typename' ? verifyFloor : verifyBody,
        connections: options.connections,
        warmupSeconds: options.warmup,
        durationSeconds: options.duration,
        aroundMeasured: options.cpuProfile ? { before: () => target.profile(true), after: () => target.profile(false, file) } : null,
      });
      if (options.cpuProfile) profiles[target.name].push({ file, requests: result.requests });
      return result;
    },
    log,
  );
  const summary = summarize(results);
  if (options.cpuProfile) {
    printTopFrames({ name: 'graphql', runs: profiles.graphql }, log, 25);
    printTopFrames({ name: 'typename', runs: profiles.typename }, log, 15);
    printTopFrames({ name: 'baseline', runs: profiles.baseline }, log, 10);
    printProfileDiff({ name: 'graphql', runs: profiles.graphql }, { name: 'typename', runs: profiles.typename }, log, 20);
  }
  const ratio = (name) => ({
    reqPerSec: summary[name].reqPerSec / summary.baseline.reqPerSec,
    p50: summary[name].latencyMs.p50 / summary.baseline.latencyMs.p50,
    p99: summary[name].latencyMs.p99 / summary.baseline.latencyMs.p99,
    serverCpuPerRequest: summary[name].serverCpuMicrosPerRequest / summary.baseline.serverCpuMicrosPerRequest,
  });
  return {
    description,
    query: QUERY,
    floorQuery: FLOOR_QUERY,
    members: members.length,
    databasePoolMax: config.databasePoolMax,
    results,
    summary,
    // The member read is THE figure; the floor says how much of the gap is HTTP + Apollo alone.
    ratios: { 'member read (graphql)': ratio('graphql'), 'floor ({ __typename }, same app)': ratio('typename') },
  };
}
