// recs: recommendations(first: 5) over a 10,000-item catalog for members with 50 past
// redemptions each, at 20 concurrent clients, against `{ me { id } }` on the same server in the
// same run (the stack's floor: auth, parse, execute, one member read). Two recs scenarios: the
// cache as it serves (after warm-up nearly every list is cached, each hit re-checked with one
// query), and uncached (on the other half of the members, whose lists the bench deletes every 100 ms, so almost every
// request ranks the whole catalog, reads the history and the co-redemption neighbours).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, projectRequire, ROOT } from '../lib/dist.mjs';
import { printProfileDiff } from '../lib/profile.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { alternate, measure, summarize } from '../lib/load.mjs';
import { inviteCode } from '../lib/seed.mjs';

export const description = 'recommendations(first: 5), cached and uncached, vs { me { id } } on the same server';

// Its own database and Redis prefix per run: with one shared name (`loyalty_bench`, `bench:`),
// another bench started meanwhile (members drops and recreates `loyalty_bench`; any suite clears
// `bench:`) killed this run's connections mid-run ("terminating connection due to administrator
// command") and could empty its cache.
const DATABASE = `loyalty_bench_recs_${process.pid}`;
const REDIS_PREFIX = `bench:recs-${process.pid}:`;
const ITEMS = 10_000;
const CATEGORIES = 50;
const HISTORY = 50;
const CLIENTS = 20;
const MAX_MEMBERS = 500;
const RECS = '{ recommendations(first: 5) { score reasonCode reason item { id name pointsPrice } } }';
const ME = '{ me { id } }';

// Seeding (≈0.5 M co-redemption pairs) and priming every list take most of a minute on a quiet machine.
export const budgetSeconds = (options) => 420 + 3 * options.rounds * (options.warmup + options.duration + 3);

async function seed(url, memberCount) {
  const members = Array.from({ length: memberCount }, (_, i) => ({ id: randomUUID(), i }));
  await withClient(url, async (client) => {
    // Items: 50 categories, 4 styles each, prices 100..4000 spread over every category.
    await client.query(
      `insert into catalog_item (id, sku, name, description, category, tags, type, points_price, stock, active, created_at, updated_at)
       select gen_random_uuid(), 'B-' || i, '商品' || i, '', 'cat-' || (i % $1), array['style-' || (i % $1) || '-' || ((i / $1) % 4), 'tag-' || (i % 7)],
              'VIRTUAL', 100 * (1 + (i * 7) % 40), 1000000, true, now(), now()
       from generate_series(0, $2 - 1) i`,
      [CATEGORIES, ITEMS],
    );
    await client.query(
      `insert into member (id, external_id, nickname, mobile, total_spend, balance, lifetime_earned, invite_code, joined_at, updated_at)
       select id, 'bench-' || i, '会员' || i, '139' || lpad(i::text, 8, '0'), 0, 3000, 3000, code, now(), now()
       from unnest($1::uuid[], $2::int[], $3::text[]) as r(id, i, code)`,
      [members.map((m) => m.id), members.map((m) => m.i), members.map((m) => inviteCode(2_000_000 + m.i))],
    );
    // 50 redemptions per member over three favourite categories, each paid by a ledger entry.
    await client.query(
      `with m as (select id, row_number() over (order by external_id) as k from member),
       picks as materialized (
         select gen_random_uuid() as rid, m.id as member_id, j,
                ((m.k * 13 + (j % 3) * 17) % $1) + $1 * ((m.k * 31 + j * 7) % ($2 / $1)) as item_no,
                now() - interval '1 hour' * ($3 - j) as at
         from m cross join generate_series(1, $3) j),
       items as (select id, points_price, substring(sku from 3)::int as no from catalog_item),
       entries as (
         insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, created_at, posted_at)
         select p.member_id, 'REDEMPTION', 'POSTED', -it.points_price, 3000, p.rid::text, 'bench', 'bench', p.at, p.at
         from picks p join items it on it.no = p.item_no
         returning id, reference)
       insert into redemption (id, member_id, item_id, quantity, points_spent, status, entry_id, idempotency_key, request_hash, created_at)
       select p.rid, p.member_id, it.id, 1, it.points_price, 'COMPLETED', e.id, 'bench-' || p.rid, 'bench', p.at
       from picks p join entries e on e.reference = p.rid::text join items it on it.no = p.item_no`,
      [CATEGORIES, ITEMS, HISTORY],
    );
    // What the after-commit handler would have built, in bulk.
    await client.query(`insert into rec_member_item select member_id, item_id, min(created_at) from redemption group by 1, 2`);
    await client.query(`insert into rec_item_redeemers select item_id, count(*) from rec_member_item group by 1`);
    await client.query(
      `insert into rec_co_redemption select a.item_id, b.item_id, count(*) from rec_member_item a
       join rec_member_item b on a.member_id = b.member_id and a.item_id <> b.item_id group by 1, 2`,
    );
    await client.query(`insert into rec_item_daily select item_id, (created_at at time zone 'Asia/Shanghai')::date, count(*) from redemption group by 1, 2`);
    // vacuum, not only analyze: the fresh list's neighbour read is an index-only scan, which
    // fetches every heap row until a vacuum marks the pages all-visible. Autovacuum does that in
    // service (and after this bulk load, at a moment of its choosing mid-run); done here, every
    // run measures the same state.
    await client.query('vacuum analyze');
  });
  const counts = await withClient(
    url,
    async (client) =>
      (await client.query(`select (select count(*) from catalog_item)::int as items, (select count(*) from redemption)::int as redemptions, (select count(*) from rec_co_redemption)::int as pairs`))
        .rows[0],
  );
  return { members, counts };
}

const verifyRecs = (body) => body.startsWith('{"data":{"recommendations":[') && !body.includes('"errors"') && body.split('"reasonCode"').length === 6;
const verifyMe = (body) => body.startsWith('{"data":{"me":{"id":') && !body.includes('"errors"');

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');
  const memberCount = Math.min(options.members, MAX_MEMBERS);

  log(`setting up: database ${DATABASE}, ${ITEMS} items, ${memberCount} members × ${HISTORY} redemptions`);
  const { url: databaseUrl } = await freshDatabase(DATABASE);
  const env = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', REDIS_PREFIX };
  ctx.onCleanup(`drop database ${DATABASE}`, () => (options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  const config = loadConfig(env);
  await preflight(config);
  await clearPrefix(config.redisUrl, REDIS_PREFIX);
  ctx.onCleanup(`clear ${REDIS_PREFIX} keys in Redis`, () => clearPrefix(config.redisUrl, REDIS_PREFIX));
  const seeding = Date.now();
  const { members, counts } = await seed(databaseUrl, memberCount);
  log(`  seeded ${counts.items} items, ${counts.redemptions} redemptions, ${counts.pairs} co-redemption pairs in ${Date.now() - seeding} ms`);

  const headers = members.map((m) => ({
    'content-type': 'application/json',
    authorization: `Bearer ${mintToken(config.jwt, { role: 'member', sub: m.id, expiresInSeconds: 3600 })}`,
  }));
  const bodies = { recs: JSON.stringify({ query: RECS }), 'recs-uncached': JSON.stringify({ query: RECS }), me: JSON.stringify({ query: ME }) };

  // Two disjoint halves of the members: `recs` serves the first (lists primed), `recs-uncached`
  // the second (its lists deleted every 100 ms, key by key), so the uncached run does not wipe
  // the cached run's lists and round 2's priming is hits, not 500 fresh computations.
  const half = Math.ceil(headers.length / 2);
  const servedBy = { recs: headers.slice(0, half), 'recs-uncached': headers.slice(half), me: headers };
  const uncachedKeys = members.slice(half).map((m) => `${REDIS_PREFIX}recs:member:${m.id}`);
  const { Redis } = projectRequire('ioredis');
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  ctx.onCleanup('close the bench Redis client', () => redis.disconnect());

  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  // --cpu-prof: one profile per measured run (node:inspector in the server, around the run), so
  // each scenario is profiled apart and compared per request with `me` on the same server.
  const profileDir = join(ROOT, 'bench', 'results', 'profiles');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profiles = { recs: [], 'recs-uncached': [], me: [] };
  if (options.cpuProfile) mkdirSync(profileDir, { recursive: true });
  const server = await startServer(ctx, 'graphql', here('../servers/app.mjs'), env);
  log(`  graphql at ${server.url} (pid ${server.pid})`);
  // Checks and priming go over a FRESH connection each (node:http, agent: false), not fetch's
  // pooled keep-alive ones: in round 2, after the load runs, fetches on the pool went unanswered
  // (three 15 s timeouts in a row, "the priming stall") while a request from another process was
  // answered in 18 ms by the same server, which sat idle: the requests never left the pool.
  const post = (h, body) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(`${server.url}/graphql`, { method: 'POST', headers: { ...h, 'content-length': Buffer.byteLength(body) }, agent: false, timeout: 15_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
      req.on('error', reject);
      req.end(body);
    });
  // Before measuring: every sampled member gets five recommendations, the first one affordable.
  for (let i = 0; i < members.length; i += Math.ceil(members.length / 20)) {
    const text = await post(headers[i], bodies.recs);
    const list = JSON.parse(text).data?.recommendations;
    if (!verifyRecs(text) || list[0].item.pointsPrice > 3000) throw new Error(`member ${i} got ${text}`);
  }
  log('  20 sampled members got 5 recommendations each, the first affordable');

  // Priming a list: one more try if the first fails (a loaded machine), then the run stops.
  const primed = (h) => post(h, bodies.recs).catch(() => post(h, bodies.recs));
  const targets = ['recs', 'recs-uncached', 'me'].map((name) => ({ ...server, name }));
  log(`measuring: ${CLIENTS} connections, ${options.warmup} s warm-up + ${options.duration} s measured, ${options.rounds} round(s), order alternating`);
  const results = await alternate(
    targets,
    options.rounds,
    async (target) => {
      let clearing = null;
      if (target.name === 'recs') {
        // Every member's list cached before the measured run (the warm-up alone would not reach them all).
        const priming = Date.now();
        const cached = servedBy.recs;
        for (let i = 0; i < cached.length; i += CLIENTS) {
          await Promise.all(cached.slice(i, i + CLIENTS).map((h) => primed(h)));
        }
        log(`  primed ${cached.length} lists in ${Date.now() - priming} ms`);
      }
      if (target.name === 'recs-uncached') {
        let busy = false;
        clearing = setInterval(() => {
          if (busy) return;
          busy = true;
          redis
            .unlink(...uncachedKeys)
            .catch(() => undefined)
            .finally(() => (busy = false));
        }, 100);
      }
      const file = join(profileDir, `recs-${stamp}-${target.name}-${profiles[target.name].length + 1}.cpuprofile`);
      const aroundMeasured = options.cpuProfile ? { before: () => server.profile(true), after: () => server.profile(false, file) } : null;
      try {
        const result = await measure({
          target,
          request: (i) => ({ path: '/graphql', headers: servedBy[target.name][i % servedBy[target.name].length], body: bodies[target.name] }),
          verifyBody: target.name === 'me' ? verifyMe : verifyRecs,
          connections: CLIENTS,
          warmupSeconds: options.warmup,
          durationSeconds: options.duration,
          aroundMeasured,
        });
        if (options.cpuProfile) profiles[target.name].push({ file, requests: result.requests });
        return result;
      } finally {
        if (clearing) clearInterval(clearing);
      }
    },
    log,
  );
  const summary = summarize(results);
  if (options.cpuProfile) {
    for (const name of ['recs', 'recs-uncached']) printProfileDiff({ name, runs: profiles[name] }, { name: 'me', runs: profiles.me }, log, 25);
  }
  const ratio = (name) => ({
    reqPerSec: summary[name].reqPerSec / summary.me.reqPerSec,
    p50: summary[name].latencyMs.p50 / summary.me.latencyMs.p50,
    p99: summary[name].latencyMs.p99 / summary.me.latencyMs.p99,
    serverCpuPerRequest: summary[name].serverCpuMicrosPerRequest / summary.me.serverCpuMicrosPerRequest,
  });
  return {
    description,
    query: RECS,
    baselineQuery: ME,
    items: ITEMS,
    members: members.length,
    clients: CLIENTS,
    results,
    summary,
    ratios: { 'recs (cached) vs me': ratio('recs'), 'recs (uncached) vs me': ratio('recs-uncached') },
  };
}
