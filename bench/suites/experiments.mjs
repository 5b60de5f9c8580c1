// experiments: the results of the built app (ExperimentService.counts from dist/, which sums the
// running tallies) over one experiment with 1,000,000 metric events (200,000 exposed members,
// plus 250,000 events of another metric and 250,000 of another experiment in the same tables),
// timed in this process against the baseline measured in the same session: the same numbers
// aggregated from the event log itself, through a covering index the bench builds for it (the
// best a design without tallies could do). Then the price of the tallies on the write path:
// ExperimentService.track (event + conversion row + tally, one statement) against a bare insert
// of the event. EXPLAIN (ANALYZE, BUFFERS) of each read is printed: the plan is the profile.
import os from 'node:os';
import { dist } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { BULK_LOAD_SESSION, timedSteps } from '../lib/seed.mjs';

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
  const { timings, step } = timedSteps();
  await withClient(url, async (c) => {
    // Loading fast, as the jobs suite does: foreign-key triggers off for this session (the rows are
    // consistent by construction) and the results index built once after the load.
    await c.query(BULK_LOAD_SESSION);
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
    // What the service's statements would have kept, derived in bulk from the log.
    await step('conversions', () =>
      c.query(`insert into experiment_conversion (experiment_id, metric, member_id, variant, events, value_sum, first_at, last_at)
               select experiment_id, metric, member_id, min(variant), count(*), sum(value), min(created_at), max(created_at) from experiment_event group by 1, 2, 3`),
    );
    await step('tallies', async () => {
      await c.query(`insert into experiment_exposure_tally (experiment_id, variant, shard, exposures)
                     select experiment_id, variant, (hashtext(member_id::text) & 15), count(*) from experiment_exposure group by 1, 2, 3`);
      await c.query(`insert into experiment_metric_tally (experiment_id, metric, variant, shard, members, value_sum)
                     select experiment_id, metric, variant, (hashtext(member_id::text) & 15), count(*), sum(value_sum) from experiment_conversion group by 1, 2, 3, 4`);
    });
    // The baseline's index: what results from the log alone would need.
    await step('baseline index', () => c.query('create index experiment_event_results_idx on experiment_event (experiment_id, metric, variant, member_id) include (value)'));
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

const TALLY_EXPOSURES_SQL = 'select variant, sum(exposures)::int as n from experiment_exposure_tally where experiment_id = $1 group by variant';
const TALLY_CONVERSIONS_SQL =
  'select variant, sum(members)::int as members, sum(value_sum)::float8 as value_sum from experiment_metric_tally where experiment_id = $1 and metric = $2 group by variant';
const EXPOSURES_SQL = 'select variant, count(*)::int as n from experiment_exposure where experiment_id = $1 group by variant';
const CONVERSIONS_SQL = `select variant, count(*)::int as members, coalesce(sum(total), 0)::float8 as value_sum
  from (select variant, member_id, sum(value) as total from experiment_event where experiment_id = $1 and metric = $2 group by variant, member_id) per_member
  group by variant`;
const WRITES = 1_000;

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
  log(
    `seeded in ${Date.now() - t} ms (${Object.entries(seedSteps)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} ms): ${EVENTS.toLocaleString('en')} 'redeem' events of ${MEMBERS.toLocaleString('en')} exposed members, + ${(2 * NOISE_EVENTS).toLocaleString('en')} other events`,
  );

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
    const outcome = await service.results(em, 'bench', 'redeem');
    log(`results: srm p ${outcome.srmPValue}, significant ${outcome.significant}, winner ${outcome.winner}, B lift ${fmt(outcome.variants[1].lift * 100, 2)}% p ${outcome.variants[1].pValue}`);

    timings.app = await timed(seconds, () => service.counts(orm.em.fork(), experiment, 'redeem'));
    await withClient(url, async (c) => {
      const fromLog = async () => {
        const exposures = (await c.query(EXPOSURES_SQL, [EXPERIMENT_ID])).rows;
        const conversions = (await c.query(CONVERSIONS_SQL, [EXPERIMENT_ID, 'redeem'])).rows;
        return { exposures, conversions };
      };
      const check = await fromLog();
      const same = counts.every((v) => check.exposures.find((e) => e.variant === v.variant)?.n === v.exposures && check.conversions.find((e) => e.variant === v.variant)?.members === v.conversions);
      if (!same) problems.push(`tallies and log disagree: ${JSON.stringify(check)} vs ${JSON.stringify(counts)}`);
      timings.log = await timed(seconds, fromLog);
      const explain = async (label, sql, params) => {
        const { rows } = await c.query(`explain (analyze, buffers) ${sql}`, params);
        log(`\nEXPLAIN ANALYZE — ${label}:\n${rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
      };
      await explain('app: exposures per variant (tally)', TALLY_EXPOSURES_SQL, [EXPERIMENT_ID]);
      await explain('app: converting members per variant (tally)', TALLY_CONVERSIONS_SQL, [EXPERIMENT_ID, 'redeem']);
      await explain('baseline: exposures per variant (exposure rows)', EXPOSURES_SQL, [EXPERIMENT_ID]);
      await explain('baseline: converting members per variant (event log, covering index)', CONVERSIONS_SQL, [EXPERIMENT_ID, 'redeem']);

      // Writes: first events of members 150,001.. (exposed, not converted yet), one at a time.
      let next = 150_001;
      const writeEm = orm.em.fork();
      const ids = (await c.query(`select md5('exp-bench-' || i)::uuid::text as id from generate_series(150001, $1::int) i`, [150_000 + 4 * WRITES])).rows.map((r) => r.id);
      const track = async () => {
        const t = process.hrtime.bigint();
        for (let i = 0; i < WRITES / 2; i += 1) await service.track(writeEm, 'bench', ids[next++ - 150_001], 'redeem', 3);
        return Number(process.hrtime.bigint() - t) / 1e6 / (WRITES / 2);
      };
      const bare = async () => {
        const t = process.hrtime.bigint();
        for (let i = 0; i < WRITES / 2; i += 1) {
          await c.query(`insert into experiment_event (experiment_id, member_id, variant, metric, value, created_at) values ($1, $2, 'A', 'bench-bare', 3, now())`, [
            EXPERIMENT_ID,
            ids[next++ - 150_001],
          ]);
        }
        return Number(process.hrtime.bigint() - t) / 1e6 / (WRITES / 2);
      };
      // Alternating, twice each, so the machine's drift favours neither.
      timings.track = [];
      timings.bare = [];
      for (let round = 0; round < 2; round += 1) {
        timings.track.push(await track());
        timings.bare.push(await bare());
      }
      timings.track.sort((a, b) => a - b);
      timings.bare.sort((a, b) => a - b);
    });
  } finally {
    await orm.close();
  }

  const row = (label, runs) => ({ label, runs: runs.length, p50: quantile(runs, 0.5), p95: quantile(runs, 0.95), max: runs[runs.length - 1] });
  const rows = [row('app: ExperimentService.counts (tallies)', timings.app), row('baseline: the same from the log (covering idx)', timings.log)];
  const notes = [
    `experiments (${EVENTS.toLocaleString('en')} events; reads ${seconds} s each after one discarded run; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}):`,
  ];
  for (const r of rows)
    notes.push(`  ${r.label.padEnd(46)} runs ${String(r.runs).padStart(5)}  p50 ${fmt(r.p50, 2).padStart(8)} ms  p95 ${fmt(r.p95, 2).padStart(8)} ms  max ${fmt(r.max, 2).padStart(8)} ms`);
  const [app, fromLog] = rows;
  notes.push(`read ratio (p50): app / log ×${fmt(app.p50 / fromLog.p50, 4)} (the tallies answer ×${fmt(fromLog.p50 / app.p50, 0)} faster)`);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  notes.push(
    `writes (${WRITES / 2} sequential, twice, alternating): track ${fmt(mean(timings.track), 2)} ms/event, bare event insert ${fmt(mean(timings.bare), 2)} ms/event: the tallies cost ×${fmt(mean(timings.track) / mean(timings.bare), 2)} per event`,
  );
  if (app.p95 >= AIM_MS) problems.push(`p95 ${fmt(app.p95)} ms is not under the ${AIM_MS} ms aim`);
  notes.push('(the request table above is empty: this suite sends no HTTP load)');
  return { description, results: [], summary: {}, timings: rows, writes: { track: timings.track, bare: timings.bare }, seedSteps, notes, problems };
}
