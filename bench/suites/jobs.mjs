// jobs: the expiry-warning job and the expiry job of the built app (dist/src/jobs), each run once in
// its own child process over a freshly seeded database, at 100k lots / 20k members and at
// 1M lots / 200k members: lots per second and the child's peak memory, then the results checked
// against the seed (every due lot expired once, the ledger reconciles, one warning per member and
// reminder band).
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { lifecycleBaselines, lifecycleExpectations, seedLifecycle, verifyLifecycle } from '../lib/lifecycle-seed.mjs';
import { BULK_LOAD_SESSION, timedSteps } from '../lib/seed.mjs';

export const description = 'expiry warnings and expiry over 100k and 1M lots, tier evaluation and RFM segments over 200k members (items/s, peak RSS of the job process)';

/** BENCH_JOBS_PHASES=expiry,lifecycle (default both): run only some parts on a busy machine. */
const PHASES = (process.env.BENCH_JOBS_PHASES || 'expiry,lifecycle').split(',').map((p) => p.trim());
const LIFECYCLE = { label: '200k members', members: 200_000 };
const LIFECYCLE_JOBS = ['tier-evaluation', 'rfm-segments'];

/** BENCH_JOBS_DATABASE: another name, so two worktrees can run the suite at once on one server. */
const DATABASE = process.env.BENCH_JOBS_DATABASE || 'loyalty_bench_jobs';
const REDIS_PREFIX = 'bench-jobs:';
const SCALES = [
  { label: '100k', members: 20_000, lots: 100_000 },
  { label: '1M', members: 200_000, lots: 1_000_000 },
];
/** Only on request (BENCH_JOBS_SCALES=200k): a step's trial that shows batch-size effects in a few minutes on a loaded machine. */
const TRIAL_SCALES = [{ label: '200k', members: 40_000, lots: 200_000 }];
/** BENCH_JOBS_SCALES=1M (default 100k,1M): only some scales, for a quick trial on a busy machine. */
const SCALE_FILTER = (process.env.BENCH_JOBS_SCALES || SCALES.map((s) => s.label).join(',')).split(',').map((s) => s.trim());
const JOBS = ['expiry-warning', 'expiry'];
/** The bench's "now": the jobs run on a ManualClock set to it. */
const NOW = new Date('2026-06-15T02:00:00.000Z');
const DAY_MS = 86_400_000;
const CHILD_TIMEOUT_MS = 300_000;
/** Batches the baseline runs (each rolled back): enough to average, few enough to leave the table as seeded. */
const BASELINE_BATCHES = 10;
/**
 * BENCH_JOBS_WARNING_BATCH / BENCH_JOBS_EXPIRY_BATCH: another batch size for both the job and its
 * baseline (default: the job's own constant), to tune it by measurement.
 */
const batchOverride = (name) => (process.env[name] ? Number(process.env[name]) : undefined);
/** The reminder thresholds of a fresh database (the contract's defaults). */
const THRESHOLDS = [1, 3, 7];

/** Set-up, two scales (seed + two jobs + checks), teardown: at most 5 minutes. */
export const budgetSeconds = () => Number(process.env.BENCH_JOBS_BUDGET_SECONDS) || (PHASES.includes('expiry') ? 295 : 0) + (PHASES.includes('lifecycle') ? 240 : 0);

const MB = (bytes) => (bytes == null ? NaN : bytes / 1024 / 1024);
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/**
 * One member per i (1..members), `lots / members` lots each, lot j belonging to member
 * ((j - 1) % members) + 1, so a member's lots are spread over the id range as if earned over
 * time. One ADJUSTMENT credit entry per lot (posted 400 days ago), each lot's `remaining` =
 * its amount, balances = the sum of the member's lots: the reconciliation holds from the start.
 * Expiries (h = a hash of j over 0..999): 30 % already due (up to 300 hours ago), 40 % inside the
 * 7-day warning window, 30 % later (8 to 307 days on).
 *
 * Loading fast: foreign-key triggers off for the seeding session (session_replication_role =
 * replica; the rows are consistent by construction and the reconciliation checks them after),
 * and the two big tables' plain indexes (not those behind constraints) dropped before the load
 * and rebuilt after it from their own definitions. Then VACUUM ANALYZE, as a live database
 * would have been: hint bits set, visibility map and statistics current.
 */
export async function seed(url, { members, lots }) {
  if (lots % members !== 0) throw new Error('lots must be a multiple of members');
  const perMember = lots / members;
  const createdAt = new Date(NOW.getTime() - 400 * DAY_MS);
  const points = (j) => `(10 + ((${j})::bigint * 37) % 491)::int`;
  const hash = `((j::bigint * 2654435761) % 4294967296) % 1000`;
  const { timings, step } = timedSteps();
  await withClient(url, async (c) => {
    await c.query(BULK_LOAD_SESSION);
    const { rows: indexes } = await c.query(
      `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i
       where i.indrelid in ('ledger_entry'::regclass, 'points_lot'::regclass)
         and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
    );
    await step('drop indexes', () => c.query(indexes.map((i) => `drop index ${i.name};`).join('\n')));
    await step('members', () =>
      c.query(
        `insert into member (id, external_id, nickname, mobile, invite_code, balance, lifetime_earned, joined_at, updated_at)
         select md5('jobs-bench-' || i)::uuid, 'jb-' || i, '会员' || i, '139' || lpad(i::text, 8, '0'), 'JB' || lpad(i::text, 8, '0'),
                (select sum(${points(`i + k * $1::int`)}) from generate_series(0, $2::int - 1) k), 0, $3, $3
         from generate_series(1, $1::int) i`,
        [members, perMember, createdAt],
      ),
    );
    await step('entries', () =>
      c.query(
        `insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at)
         select md5('jobs-bench-' || m)::uuid, 'ADJUSTMENT', 'POSTED', pts,
                sum(pts) over (partition by m order by j), 'seed-' || j, 'bench:seed', '基准数据: ' || pts || ' 积分',
                expires_at, $2, $2
         from (
           select j, ((j - 1) % $3::int) + 1 as m, ${points('j')} as pts,
                  case when ${hash} < 300 then $4::timestamptz - (${hash} + 1) * interval '1 hour'
                       when ${hash} < 700 then $4::timestamptz + (${hash} - 299) * interval '25.2 minutes'
                       else $4::timestamptz + interval '8 days' + (${hash} - 700) * interval '1 day' end as expires_at
           from generate_series(1, $1::int) j
         ) s
         order by j`,
        [lots, createdAt, members, NOW],
      ),
    );
    await step('lots', () => c.query(`insert into points_lot (member_id, entry_id, amount, remaining, expires_at) select member_id, id, delta, delta, expires_at from ledger_entry order by id`));
    await step('rebuild indexes', () => c.query(indexes.map((i) => `${i.def};`).join('\n')));
    await c.query('set session_replication_role = origin');
    await step('vacuum analyze', () => c.query('vacuum analyze'));
  });
  return timings;
}

/** What the jobs must do, computed from the seed before they run. */
export async function expectations(url) {
  return withClient(url, async (c) => {
    const [due] = (
      await c.query(
        `select count(*)::int as lots, coalesce(sum(remaining), 0)::bigint::text as points, count(distinct member_id)::int as members
         from points_lot where remaining > 0 and expires_at <= $1`,
        [NOW],
      )
    ).rows;
    // One pass over the thresholds: each lot is claimed at its band — (0, 1], (1, 3], (3, 7]
    // days — only, and a member gets one warning per band that holds at least one of its lots.
    const bands = THRESHOLDS.map((t, i) => `when expires_at <= $1::timestamptz + interval '${t} days' then ${i}`).join(' ');
    const [warn] = (
      await c.query(
        `with w as (select member_id, case ${bands} end as band from points_lot
                    where remaining > 0 and expires_at > $1 and expires_at <= $1::timestamptz + interval '${Math.max(...THRESHOLDS)} days')
         select count(*)::int as lots, count(distinct member_id)::int as members, count(distinct (member_id, band))::int as warnings,
                count(*)::int as claims
         from w`,
        [NOW],
      )
    ).rows;
    return { due: { lots: due.lots, points: due.points, members: due.members }, warn };
  });
}

/**
 * The same-run baseline of a job: the job's own statements (exported beside it: the claim and
 * notification SQL of the warnings, the ledger's expiry batch), with the same parameters and
 * payloads, on one bare pg client with bound parameters: no ORM, no knex, no pool, no retry
 * wrapper, no events. BASELINE_BATCHES batches from the start of the walk, each in BEGIN …
 * ROLLBACK so the job then finds the table as seeded (the rollback also spares the baseline the
 * commit's WAL flush, 2-3 % of a job run). job lots/s ÷ baseline lots/s is the job's overhead.
 */
async function baseline(url, job) {
  const toPg = (sql) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return withClient(url, async (c) => {
    let lots = 0;
    let batches = 0;
    const started = process.hrtime.bigint();
    if (job === 'expiry-warning') {
      const { CLAIM_BATCH_SQL, NOTIFY_SQL, WARNING_BATCH_MEMBERS, claimPlan, warningsOf } = dist('src/jobs/expiry-warning.job.js');
      const plan = claimPlan(NOW, THRESHOLDS);
      const [claim, notify] = [toPg(CLAIM_BATCH_SQL), toPg(NOTIFY_SQL)];
      const size = batchOverride('BENCH_JOBS_WARNING_BATCH') ?? WARNING_BATCH_MEMBERS;
      let cursor = '00000000-0000-0000-0000-000000000000';
      while (batches < BASELINE_BATCHES) {
        await c.query('begin');
        const { rows } = await c.query(claim, plan.params(cursor, size));
        const batch = warningsOf(rows, NOW);
        if (batch.payloads.length) await c.query(notify, [NOW, batch.notifications]);
        await c.query('rollback');
        lots += batch.lots;
        batches += 1;
        if (rows[0].members < size) break;
        cursor = rows[0].last;
      }
    } else {
      const { EXPIRE_DUE_BATCH_SQL } = dist('src/ledger/ledger.writer.js');
      const { EXPIRY_BATCH_LOTS } = dist('src/jobs/expiry.job.js');
      const expire = toPg(EXPIRE_DUE_BATCH_SQL);
      const size = batchOverride('BENCH_JOBS_EXPIRY_BATCH') ?? EXPIRY_BATCH_LOTS;
      let cursor = { expiresAt: new Date(0), id: '0' };
      while (batches < BASELINE_BATCHES) {
        await c.query('begin');
        const { rows } = await c.query(expire, [NOW, cursor.expiresAt, cursor.id, size, NOW, NOW, NOW, NOW, NOW]);
        await c.query('rollback');
        lots += rows[0].lots;
        batches += 1;
        if (rows[0].read < size) break;
        cursor = { expiresAt: rows[0].last_expires_at, id: rows[0].last_id };
      }
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return { lots, batches, ms, perSecond: lots / (ms / 1000) };
  });
}

/** Row updates per table since the last reset, and how many were HOT (no index touched). */
async function tableUpdates(url) {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `select relname as table, n_tup_upd::int as updates, n_tup_hot_upd::int as hot from pg_stat_user_tables
       where relname in ('points_lot', 'member', 'ledger_entry') order by relname`,
    );
    return Object.fromEntries(rows.map((r) => [r.table, { updates: r.updates, hot: r.hot }]));
  });
}

const updatesSince = (before, after) => Object.fromEntries(Object.entries(after).map(([t, a]) => [t, { updates: a.updates - (before[t]?.updates ?? 0), hot: a.hot - (before[t]?.hot ?? 0) }]));

const hotText = (updates) =>
  Object.entries(updates)
    .filter(([, u]) => u.updates > 0)
    .map(([t, u]) => `${t} ${u.hot.toLocaleString('en')}/${u.updates.toLocaleString('en')} HOT (${fmt((u.hot / u.updates) * 100)} %)`)
    .join(', ') || 'no row updated';

function runChild(ctx, job, url, scale) {
  const env = { ...process.env, DATABASE_URL: url, REDIS_PREFIX, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', BENCH_JOB: job, BENCH_NOW: NOW.toISOString() };
  const execArgv = ['--expose-gc'];
  let profileFile = null;
  if (ctx.options.cpuProfile) {
    const dir = join(ROOT, 'bench', 'results', 'profiles');
    mkdirSync(dir, { recursive: true });
    const name = `jobs-${job}-${scale.label}-${Date.now()}.cpuprofile`;
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name);
    profileFile = join(dir, name);
  }
  const child = fork(fileURLToPath(new URL('../lib/job-worker.mjs', import.meta.url)), [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  const kill = () => child.kill('SIGKILL');
  ctx.onAbort(kill);
  return new Promise((resolve, reject) => {
    let report = null;
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`${job} at ${scale.label} did not finish within ${CHILD_TIMEOUT_MS / 1000} s`));
    }, CHILD_TIMEOUT_MS);
    child.on('message', (message) => {
      if (message?.type === 'done') report = message;
      if (message?.type === 'failed') reject(new Error(`${job} at ${scale.label} failed: ${message.error}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (report) resolve({ ...report, profileFile });
      else reject(new Error(`${job} at ${scale.label}: the child exited (code ${code}, signal ${signal}) without a report`));
    });
  });
}

/** After both jobs: what the database says against what the seed said it must. */
async function verify(url, expected, runs, reconciliationSql) {
  const problems = [];
  const check = (ok, message) => {
    if (!ok) problems.push(message);
  };
  const warning = runs['expiry-warning'].result;
  const expiry = runs.expiry.result;
  const facts = await withClient(url, async (c) => {
    const one = async (sql, params = []) => (await c.query(sql, params)).rows[0];
    const started = Date.now();
    const discrepancies = (await c.query(reconciliationSql)).rows;
    const reconcileMs = Date.now() - started;
    return {
      notifications: (await one(`select count(*)::int as n from notification where kind = 'EXPIRY_WARNING'`)).n,
      claims: (await one('select count(*)::int as n from expiry_warning')).n,
      warnedMembers: (await one('select count(distinct member_id)::int as n from expiry_warning')).n,
      stillDue: (await one('select count(*)::int as n from points_lot where remaining > 0 and expires_at <= $1', [NOW])).n,
      expiredLots: (await one('select count(*)::int as n from points_lot where expired_at is not null')).n,
      expiryEntries: await one(`select count(*)::int as n, coalesce(-sum(delta), 0)::bigint::text as points from ledger_entry where type = 'EXPIRY'`),
      twice: (
        await one(`select count(*)::int as n from (select a.lot_id from lot_allocation a join ledger_entry e on e.id = a.entry_id where e.type = 'EXPIRY' group by a.lot_id having count(*) > 1) x`)
      ).n,
      discrepancies,
      reconcileMs,
    };
  });
  check(warning.warnings === expected.warn.warnings, `warnings: the job sent ${warning.warnings}, the seed has ${expected.warn.warnings} (member, band) pairs`);
  check(facts.notifications === expected.warn.warnings, `EXPIRY_WARNING notifications: ${facts.notifications}, expected ${expected.warn.warnings}`);
  check(warning.lots === expected.warn.lots, `warned lots: ${warning.lots}, expected ${expected.warn.lots} lots inside the windows`);
  check(facts.claims === expected.warn.claims, `expiry_warning rows: ${facts.claims}, expected ${expected.warn.claims}`);
  check(facts.warnedMembers === expected.warn.members, `warned members: ${facts.warnedMembers}, expected ${expected.warn.members} members with lots in the windows`);
  check(facts.stillDue === 0, `${facts.stillDue} due lots were not expired`);
  check(facts.expiredLots === expected.due.lots, `expired lots: ${facts.expiredLots}, expected ${expected.due.lots}`);
  check(facts.twice === 0, `${facts.twice} lots were expired more than once`);
  check(
    expiry.members === expected.due.members && facts.expiryEntries.n === expected.due.members,
    `EXPIRY entries: job ${expiry.members}, ledger ${facts.expiryEntries.n}, expected one per member with due lots (${expected.due.members})`,
  );
  check(
    String(expiry.points) === expected.due.points && facts.expiryEntries.points === expected.due.points,
    `expired points: job ${expiry.points}, ledger ${facts.expiryEntries.points}, expected ${expected.due.points}`,
  );
  check(facts.discrepancies.length === 0, `reconciliation: ${facts.discrepancies.length} discrepancies, e.g. ${JSON.stringify(facts.discrepancies.slice(0, 3))}`);
  return { problems, facts };
}

export async function run(ctx) {
  const { log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { RECONCILIATION_SQL } = dist('src/ledger/ledger.reconcile.js');

  const probe = loadConfig({ ...process.env, LOG_LEVEL: 'silent', REDIS_PREFIX });
  for (const [name, raw] of [
    ['DATABASE_URL', probe.databaseUrl],
    ['REDIS_URL', probe.redisUrl],
  ]) {
    const host = new URL(raw).hostname;
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`${name} points at ${host}: the bench only runs against 127.0.0.1`);
  }
  await preflight(probe);
  ctx.onCleanup(`drop database ${DATABASE}`, () => (ctx.options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  ctx.onCleanup(`clear ${REDIS_PREFIX} keys in Redis`, () => clearPrefix(probe.redisUrl, REDIS_PREFIX));

  const rows = [];
  const problems = [];
  const scales = [];
  const scalesToRun = [...TRIAL_SCALES, ...SCALES].filter((s) => SCALE_FILTER.includes(s.label));
  for (const scale of PHASES.includes('expiry') ? scalesToRun : []) {
    const last = scale === scalesToRun[scalesToRun.length - 1];
    log(`\n${scale.label}: ${scale.lots.toLocaleString('en')} lots across ${scale.members.toLocaleString('en')} members`);
    await clearPrefix(probe.redisUrl, REDIS_PREFIX);
    let t = Date.now();
    const { url } = await freshDatabase(DATABASE);
    const migrateMs = Date.now() - t;
    t = Date.now();
    const seedSteps = await seed(url, scale);
    const seedMs = Date.now() - t;
    const expected = await expectations(url);
    log(
      `  fresh database in ${migrateMs} ms, seeded in ${seedMs} ms (set-based SQL; ${Object.entries(seedSteps)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} ms): ${expected.due.lots.toLocaleString('en')} lots of ${expected.due.members.toLocaleString('en')} members due, ` +
        `${expected.warn.lots.toLocaleString('en')} lots of ${expected.warn.members.toLocaleString('en')} members inside the 7-day window (${expected.warn.warnings.toLocaleString('en')} warnings to send)`,
    );

    const runs = {};
    for (const job of JOBS) {
      // Null when the built app does not export the job's statements (an older commit measured with this suite).
      const base = await baseline(url, job).catch((error) => (log(`      no baseline: ${error.message}`), { lots: 0, batches: 0, ms: NaN, perSecond: NaN }));
      // The child's backends flush their statistics when they exit (the child closes its pool).
      const updatesBefore = await tableUpdates(url);
      const report = await runChild(ctx, job, url, scale);
      runs[job] = report;
      const updates = updatesSince(updatesBefore, await tableUpdates(url));
      const handled = job === 'expiry' ? expected.due.lots : report.result.lots;
      const row = {
        scale: scale.label,
        job,
        lotsInTable: scale.lots,
        lotsHandled: handled,
        seconds: report.ms / 1000,
        handledPerSecond: handled / (report.ms / 1000),
        tablePerSecond: scale.lots / (report.ms / 1000),
        cpuSeconds: report.cpuMs / 1000,
        rssBeforeMb: MB(report.rssBefore),
        rssEndMb: MB(report.rssEnd),
        peakRssMb: MB(report.peakRss),
        vmHwmMb: MB(report.vmHwm),
        peakHeapMb: MB(report.peakHeap),
        heapBeforeMb: MB(report.heapBefore),
        peakLiveHeapMb: MB(report.peakLiveHeap),
        result: report.result,
        baseline: base,
        ratio: handled / (report.ms / 1000) / base.perSecond,
        updates,
        profileFile: report.profileFile,
      };
      rows.push(row);
      const waited = report.statements.reduce((n, st) => n + st.ms, 0);
      log(
        `  ${job.padEnd(14)} ${fmt(row.seconds, 1).padStart(6)} s  ${fmt(row.handledPerSecond).padStart(8)} lots/s handled (${row.lotsHandled.toLocaleString('en')})  ` +
          `${fmt(row.tablePerSecond).padStart(8)} lots/s of the table  child CPU ${fmt(row.cpuSeconds, 1)} s, waiting on SQL ${fmt(waited / 1000, 1)} s  RSS ${fmt(row.rssBeforeMb)} → peak ${fmt(row.peakRssMb)} MB (VmHWM ${fmt(row.vmHwmMb)} MB; heap ${fmt(row.heapBeforeMb)} → peak ${fmt(row.peakHeapMb)} MB, after major GCs ≤ ${fmt(row.peakLiveHeapMb)} MB)  ${JSON.stringify(report.result)}`,
      );
      for (const st of report.statements.slice(0, 4)) {
        log(`      ${fmt(st.ms / 1000, 1).padStart(6)} s ${fmt((st.ms / report.ms) * 100).padStart(3)}% of the run  ×${String(st.count).padEnd(4)} ${st.statement}`);
      }
      log(
        `      baseline (the same statements on bare pg, ${base.batches} batches rolled back, just before): ${fmt(base.perSecond)} lots/s (${base.lots.toLocaleString('en')} lots in ${fmt(base.ms)} ms) → job/baseline ${fmt(row.ratio, 2)}`,
      );
      log(`      row updates: ${hotText(updates)}`);
      row.sqlSeconds = waited / 1000;
      row.statements = report.statements;
      if (report.profileFile) {
        try {
          const { printProfileSummary } = await import('../lib/profile.mjs');
          printProfileSummary(report.profileFile, log, 15, `${job} at ${scale.label}`);
        } catch (error) {
          log(`  CPU profile written to ${report.profileFile} (${error.message})`);
        }
      }
    }
    const checked = await verify(url, expected, runs, RECONCILIATION_SQL);
    log(
      `  checks: ${checked.problems.length ? `${checked.problems.length} FAILED` : 'all passed'} (reconciliation ${checked.facts.discrepancies.length} rows in ${checked.facts.reconcileMs} ms; ` +
        `${checked.facts.notifications.toLocaleString('en')} warnings, ${checked.facts.expiredLots.toLocaleString('en')} lots expired once in ${checked.facts.expiryEntries.n.toLocaleString('en')} EXPIRY entries)`,
    );
    problems.push(...checked.problems.map((p) => `${scale.label}: ${p}`));
    scales.push({ ...scale, migrateMs, seedMs, seedSteps, expected, facts: { ...checked.facts, discrepancies: checked.facts.discrepancies.length } });
    if (!last) await dropDatabase(DATABASE);
  }

  const lifecycleRows = PHASES.includes('lifecycle') ? await runLifecycle(ctx, RECONCILIATION_SQL, problems) : [];

  const notes = ['jobs (one child process per job and scale; lots/s = lots the job acted on ÷ its wall time):'];
  notes.push(
    `${'scale'.padEnd(6)} ${'job'.padEnd(15)} ${'seconds'.padStart(8)} ${'lots'.padStart(9)} ${'lots/s'.padStart(8)} ${'base/s'.padStart(8)} ${'ratio'.padStart(6)} ${'table/s'.padStart(8)} ${'RSS start'.padStart(9)} ${'RSS end'.padStart(9)} ${'RSS peak'.padStart(9)} ${'VmHWM'.padStart(7)} ${'heap pk'.padStart(8)} ${'live pk'.padStart(8)}  HOT updates`,
  );
  for (const r of rows) {
    notes.push(
      `${r.scale.padEnd(6)} ${r.job.padEnd(15)} ${fmt(r.seconds, 1).padStart(8)} ${String(r.lotsHandled).padStart(9)} ${fmt(r.handledPerSecond).padStart(8)} ${fmt(r.baseline.perSecond).padStart(8)} ${fmt(r.ratio, 2).padStart(6)} ${fmt(r.tablePerSecond).padStart(8)} ` +
        `${fmt(r.rssBeforeMb).padStart(7)}MB ${fmt(r.rssEndMb).padStart(7)}MB ${fmt(r.peakRssMb).padStart(7)}MB ${fmt(r.vmHwmMb).padStart(5)}MB ${fmt(r.peakHeapMb).padStart(6)}MB ${fmt(r.peakLiveHeapMb).padStart(6)}MB  ${hotText(r.updates)}`,
    );
  }
  for (const job of JOBS) {
    const [small, large] = SCALES.map((s) => rows.find((r) => r.scale === s.label && r.job === job));
    if (!small || !large) continue;
    notes.push(
      `${job}: ×${(large.lotsHandled / small.lotsHandled).toFixed(1)} lots → peak RSS ×${(large.peakRssMb / small.peakRssMb).toFixed(2)} ` +
        `(+${fmt(large.peakRssMb - large.rssBeforeMb)} MB over its start at 1M vs +${fmt(small.peakRssMb - small.rssBeforeMb)} MB at 100k), heap after major GCs ${fmt(small.peakLiveHeapMb)} → ${fmt(large.peakLiveHeapMb)} MB, lots/s ×${(large.handledPerSecond / small.handledPerSecond).toFixed(2)}`,
    );
  }
  const slow = rows.filter((r) => r.scale === '1M' && r.handledPerSecond < 20_000);
  if (slow.length) notes.push(`below the 20,000 lots/s aim at 1M: ${slow.map((r) => `${r.job} ${fmt(r.handledPerSecond)} lots/s`).join(', ')}`);
  if (lifecycleRows.length) {
    notes.push(`member lifecycle at ${LIFECYCLE.label} (members/s = members the job decided or scored ÷ its wall time; baseline = one bare SQL statement reading the same rows, same run):`);
    for (const r of lifecycleRows) {
      notes.push(
        `${r.job.padEnd(16)} ${fmt(r.seconds, 1).padStart(6)} s  ${String(r.handled).padStart(7)} members  ${fmt(r.perSecond).padStart(7)} members/s (${fmt(r.membersPerSecond)} of all members/s)  ` +
          `baseline ${fmt(r.baselineMs)} ms → job/baseline ×${fmt(r.ratio, 1)}  RSS ${fmt(r.rssBeforeMb)} → peak ${fmt(r.peakRssMb)} MB, heap after major GCs ≤ ${fmt(r.peakLiveHeapMb)} MB`,
      );
    }
  }
  notes.push('(the request table above is empty: this suite sends no HTTP load)');
  return { description, now: NOW.toISOString(), results: [], summary: {}, jobs: rows, lifecycle: lifecycleRows, scales, notes, problems };
}

/** The tier evaluation and the RFM job over a fresh 200k-member database, each in its own child. */
async function runLifecycle(ctx, reconciliationSql, problems) {
  const { log } = ctx;
  log(`\nmember lifecycle: ${LIFECYCLE.members.toLocaleString('en')} members`);
  let t = Date.now();
  const { url } = await freshDatabase(DATABASE);
  const steps = await seedLifecycle(url, LIFECYCLE.members, NOW);
  const expected = await lifecycleExpectations(url, NOW);
  log(
    `  seeded in ${Date.now() - t} ms (${Object.entries(steps)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} ms): ${expected.due.toLocaleString('en')} members due for evaluation, ${expected.active.toLocaleString('en')} active in 90 days`,
  );
  const baselines = await lifecycleBaselines(url, NOW);
  const runs = {};
  const rows = [];
  for (const job of LIFECYCLE_JOBS) {
    const report = await runChild(ctx, job, url, { label: '200k' });
    runs[job] = report;
    const handled = job === 'tier-evaluation' ? report.result.members : report.result.active;
    const row = {
      job,
      handled,
      seconds: report.ms / 1000,
      perSecond: handled / (report.ms / 1000),
      membersPerSecond: LIFECYCLE.members / (report.ms / 1000),
      baselineMs: baselines[job],
      ratio: report.ms / baselines[job],
      rssBeforeMb: MB(report.rssBefore),
      peakRssMb: MB(report.peakRss),
      peakLiveHeapMb: MB(report.peakLiveHeap),
      result: report.result,
      statements: report.statements,
    };
    rows.push(row);
    log(
      `  ${job.padEnd(16)} ${fmt(row.seconds, 1).padStart(6)} s  ${fmt(row.perSecond).padStart(7)} members/s (${handled.toLocaleString('en')})  baseline ${fmt(row.baselineMs)} ms (×${fmt(row.ratio, 1)})  ` +
        `RSS ${fmt(row.rssBeforeMb)} → peak ${fmt(row.peakRssMb)} MB, live heap ≤ ${fmt(row.peakLiveHeapMb)} MB  ${JSON.stringify(report.result)}`,
    );
    for (const st of report.statements.slice(0, 4)) {
      log(`      ${fmt(st.ms / 1000, 1).padStart(6)} s ${fmt((st.ms / report.ms) * 100).padStart(3)}% of the run  ×${String(st.count).padEnd(4)} ${st.statement}`);
    }
  }
  const checked = await verifyLifecycle(url, NOW, expected, runs, reconciliationSql);
  log(
    `  checks: ${checked.problems.length ? `${checked.problems.length} FAILED: ${checked.problems.join('; ')}` : 'all passed'}; segments ${checked.bySegment.map((s) => `${s.segment} ${s.n}`).join(', ')}`,
  );
  problems.push(...checked.problems.map((p) => `lifecycle: ${p}`));
  return rows;
}
