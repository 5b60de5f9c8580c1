// experiments: the results aggregate of the built app (ExperimentService.counts from dist/) over
// one experiment with 1,000,000 metric events (200,000 exposed members, plus 250,000 events of
// another metric and 250,000 of another experiment in the same table), timed in this process,
// against two baselines measured in the same session: the least work that touches the same rows
// (a count(*) through the same index) and the same aggregate with index scans disabled (what the
// covering index buys). EXPLAIN (ANALYZE, BUFFERS) of each is printed: the plan is the profile.
import { dist } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';

export const description = 'experimentResults aggregate over a 1M-event experiment (ms per computation; aim: under 200 ms)';

const DATABASE = 'loyalty_bench_experiments';
const MEMBERS = 200_000;
const EVENTS = 1_000_000;
const NOISE_EVENTS = 250_000;
const EXPERIMENT_ID = '00000000-0000-4000-8000-00000000e001';
const OTHER_ID = '00000000-0000-4000-8000-00000000e002';
const AIM_MS = 200;

/** Set-up (~1.5M rows: 1-4 min on a busy 2-core machine), then a few seconds of timing per query. */
export const budgetSeconds = () => 540;

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Members 1..200,000, each exposed (A for odd, B for even); 1,000,000 'redeem' events spread over
 * the first 150,000 members (A converts a little less: members ≡ 1 mod 4 beyond 100,000 never
 * convert), values 1..50; then 250,000 'click' events and 250,000 events of another experiment.
 */
async function seed(url) {
  const timings = {};
  const step = async (name, fn) => {
    const t = Date.now();
    await fn();
    timings[name] = Date.now() - t;
  };
  await withClient(url, async (c) => {
    // Loading fast, as the jobs suite does: foreign-key triggers off for this session (the rows are
    // consistent by construction) and the results index built once after the load.
    await c.query(`set synchronous_commit = off; set work_mem = '256MB'; set maintenance_work_mem = '512MB'; set session_replication_role = replica`);
    const { rows: [index] } = await c.query(`select pg_get_indexdef('experiment_event_results_idx'::regclass) as def`);
    await c.query('drop index experiment_event_results_idx');
    await step('members', () =>
      c.query(
        `insert into member (id, external_id, nickname, mobile, invite_code, balance, lifetime_earned, joined_at, updated_at)
         select md5('exp-bench-' || i)::uuid, 'eb-' || i, '会员' || i, '139' || lpad(i::text, 8, '0'), 'EB' || lpad(i::text, 8, '0'), 0, 0, now(), now()
         from generate_series(1, $1::int) i`,
        [MEMBERS],
      ),
    );
    await step('experiments', () =>
      c.query(
        `insert into experiment (id, key, name, status, variants, primary_metric, traffic_share, created_at, created_by, started_at)
         values ($1, 'bench', 'bench', 'RUNNING', '[{"key":"A","weight":1,"payload":null},{"key":"B","weight":1,"payload":null}]', 'redeem', 1, now(), 'bench', now()),
                ($2, 'bench-other', 'other', 'RUNNING', '[{"key":"A","weight":1,"payload":null},{"key":"B","weight":1,"payload":null}]', 'redeem', 1, now(), 'bench', now())`,
        [EXPERIMENT_ID, OTHER_ID],
      ),
    );
    await step('exposures', () =>
      c.query(
        `insert into experiment_exposure (experiment_id, member_id, variant, exposed_at)
         select x, md5('exp-bench-' || i)::uuid, case when i % 2 = 1 then 'A' else 'B' end, now()
         from generate_series(1, $1::int) i, unnest(array[$2::uuid, $3::uuid]) x`,
        [MEMBERS, EXPERIMENT_ID, OTHER_ID],
      ),
    );
    const events = (experiment, metric, count, span) =>
      c.query(
        `insert into experiment_event (experiment_id, member_id, variant, metric, value, created_at)
         select $1, md5('exp-bench-' || m)::uuid, case when m % 2 = 1 then 'A' else 'B' end, $2, 1 + (j * 7) % 50, now()
         from (select j, case when (((j - 1) % $4::int) + 1) % 4 = 1 and (((j - 1) % $4::int) + 1) > 100000 then (((j - 1) % $4::int) + 1) + 1
                              else ((j - 1) % $4::int) + 1 end as m
               from generate_series(1, $3::int) j) s`,
        [experiment, metric, count, span],
      );
    await step('events', () => events(EXPERIMENT_ID, 'redeem', EVENTS, 150_000));
    await step('noise', async () => {
      await events(EXPERIMENT_ID, 'click', NOISE_EVENTS, MEMBERS);
      await events(OTHER_ID, 'redeem', NOISE_EVENTS, MEMBERS);
    });
    await step('index', () => c.query(index.def));
    await c.query('set session_replication_role = origin');
    await step('vacuum analyze', () => c.query('vacuum analyze'));
  });
  return timings;
}

/** Runs `fn` for about `seconds` after one discarded run: sorted milliseconds of each run. */
async function timed(seconds, fn) {
  await fn();
  const runs = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until || runs.length < 5) {
    const t = process.hrtime.bigint();
    await fn();
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return runs.sort((a, b) => a - b);
}

const EXPOSURES_SQL = 'select variant, count(*)::int as n from experiment_exposure where experiment_id = $1 group by variant';
const CONVERSIONS_SQL = `select variant, count(*)::int as members, coalesce(sum(total), 0)::float8 as value_sum
  from (select variant, member_id, sum(value) as total from experiment_event where experiment_id = $1 and metric = $2 group by variant, member_id) per_member
  group by variant`;
const FLOOR_SQL = 'select count(*) from experiment_event where experiment_id = $1 and metric = $2';

export async function run(ctx) {
  const { log } = ctx;
  const { openOrm } = dist('src/platform/db/orm.js');
  const { ExperimentService } = dist('src/experiments/experiment.service.js');
  const { Experiment } = dist('src/experiments/experiment.entity.js');
  const { systemClock } = dist('src/platform/clock.js');
  const seconds = Math.max(2, Math.min(ctx.options.duration, 5));

  ctx.onCleanup(`drop database ${DATABASE}`, () => (ctx.options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  const { url } = await freshDatabase(DATABASE);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname)) throw new Error('the bench only runs against 127.0.0.1');
  let t = Date.now();
  const seedSteps = await seed(url);
  log(`seeded in ${Date.now() - t} ms (${Object.entries(seedSteps).map(([k, v]) => `${k} ${v}`).join(', ')} ms): ${EVENTS.toLocaleString('en')} 'redeem' events of ${MEMBERS.toLocaleString('en')} exposed members, + ${(2 * NOISE_EVENTS).toLocaleString('en')} other events`);

  const orm = await openOrm(url, 2);
  const problems = [];
  const timings = {};
  try {
    const service = new ExperimentService({ clock: systemClock });
    const em = orm.em.fork();
    const experiment = await em.findOneOrFail(Experiment, { id: EXPERIMENT_ID });
    const counts = await service.counts(em, experiment, 'redeem');
    log(`counts: ${JSON.stringify(counts)}`);
    const events = counts.reduce((n, c) => n + c.conversions, 0);
    if (events !== 150_000 - 12_500) problems.push(`expected 137,500 converting members, got ${events}`);
    const outcome = (await service.results(em, 'bench', 'redeem'));
    log(`results: srm p ${outcome.srmPValue}, significant ${outcome.significant}, winner ${outcome.winner}, B lift ${fmt(outcome.variants[1].lift * 100, 2)}% p ${outcome.variants[1].pValue}`);

    timings.app = await timed(seconds, () => service.counts(orm.em.fork(), experiment, 'redeem'));
    await withClient(url, async (c) => {
      timings.floor = await timed(seconds, () => c.query(FLOOR_SQL, [EXPERIMENT_ID, 'redeem']));
      const explain = async (label, sql, params) => {
        const { rows } = await c.query(`explain (analyze, buffers) ${sql}`, params);
        log(`\nEXPLAIN ANALYZE — ${label}:\n${rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
      };
      await explain('exposures per variant', EXPOSURES_SQL, [EXPERIMENT_ID]);
      await explain('converting members per variant', CONVERSIONS_SQL, [EXPERIMENT_ID, 'redeem']);
      await c.query('set enable_indexscan = off; set enable_indexonlyscan = off; set enable_bitmapscan = off');
      timings.noIndex = await timed(seconds, async () => {
        await c.query(EXPOSURES_SQL, [EXPERIMENT_ID]);
        await c.query(CONVERSIONS_SQL, [EXPERIMENT_ID, 'redeem']);
      });
      await explain('converting members per variant, index scans disabled', CONVERSIONS_SQL, [EXPERIMENT_ID, 'redeem']);
    });
  } finally {
    await orm.close();
  }

  const row = (label, runs) => ({ label, runs: runs.length, p50: quantile(runs, 0.5), p95: quantile(runs, 0.95), max: runs[runs.length - 1] });
  const rows = [row('app: ExperimentService.counts (2 queries)', timings.app), row('baseline: count(*) of the same rows', timings.floor), row('baseline: same aggregate, no index scans', timings.noIndex)];
  const notes = [`experiments (${EVENTS.toLocaleString('en')} events; ${seconds} s per query after one discarded run):`];
  for (const r of rows) notes.push(`  ${r.label.padEnd(44)} runs ${String(r.runs).padStart(4)}  p50 ${fmt(r.p50).padStart(7)} ms  p95 ${fmt(r.p95).padStart(7)} ms  max ${fmt(r.max).padStart(7)} ms`);
  const [app, floor, noIndex] = rows;
  notes.push(`ratios (p50): app / count(*) floor ×${fmt(app.p50 / floor.p50, 2)}; app / no-index ×${fmt(app.p50 / noIndex.p50, 2)} (the index makes it ×${fmt(noIndex.p50 / app.p50, 2)} faster)`);
  if (app.p95 >= AIM_MS) problems.push(`p95 ${fmt(app.p95)} ms is not under the ${AIM_MS} ms aim`);
  notes.push('(the request table above is empty: this suite sends no HTTP load)');
  return { description, results: [], summary: {}, timings: rows, seedSteps, notes, problems };
}
