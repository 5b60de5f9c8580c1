// A child process that runs ONE scheduled job of the built app (dist/) once, as `npm run jobs`
// would (its own ORM, Redis and services; jobs from dist/src/jobs), on a fixed clock, and reports
// over IPC: the job's result, its wall time, the process's memory (RSS and heap sampled every
// 50 ms while the job runs, the heap right after each major GC, the kernel's high-water mark
// VmHWM) and where the time went in PostgreSQL: every statement the job sent, timed from send to
// result and grouped by its shape (the job is I/O-bound: a CPU profile of this process shows
// mostly idle time; this shows which statements it waited for).
// Environment: DATABASE_URL, REDIS_PREFIX, BENCH_JOB (expiry-warning | expiry | tier-evaluation | rfm-segments), BENCH_NOW (ISO).
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { dist, projectRequire } from './dist.mjs';

const SAMPLE_MS = 50;

function vmHwmBytes() {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Wall time per statement shape, measured around pg.Client#query (what MikroORM and knex call). */
function timeStatements() {
  const pg = projectRequire('pg');
  const original = pg.Client.prototype.query;
  const byShape = new Map();
  // The head of the text only: MikroORM inlines the values, so a batch's statement can be a
  // megabyte of JSON, and a regex over all of it was measurable CPU (and GC) of this process.
  const shapeOf = (text) =>
    text
      .slice(0, 400)
      .replace(/\s+/g, ' ')
      .replace(/'(?:[^']|'')*'?/g, '?')
      .trim()
      .slice(0, 90);
  pg.Client.prototype.query = function query(config, values, callback) {
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text !== 'string') return original.call(this, config, values, callback);
    const started = process.hrtime.bigint();
    const done = () => {
      const shape = shapeOf(text);
      const s = byShape.get(shape) ?? { statement: shape, count: 0, ms: 0 };
      s.count += 1;
      s.ms += Number(process.hrtime.bigint() - started) / 1e6;
      byShape.set(shape, s);
    };
    const wrap =
      (cb) =>
      (...args) => {
        done();
        return cb(...args);
      };
    if (typeof values === 'function') return original.call(this, config, wrap(values));
    if (typeof callback === 'function') return original.call(this, config, values, wrap(callback));
    if (typeof config === 'object' && typeof config.callback === 'function') config.callback = wrap(config.callback);
    const result = original.call(this, config, values, callback);
    if (typeof result?.then === 'function') result.then(done, done);
    return result;
  };
  return () => [...byShape.values()].sort((a, b) => b.ms - a.ms);
}

async function main() {
  const job = process.env.BENCH_JOB;
  const now = new Date(process.env.BENCH_NOW);
  if (!['expiry-warning', 'expiry', 'tier-evaluation', 'rfm-segments'].includes(job) || Number.isNaN(now.getTime())) throw new Error(`bad BENCH_JOB/BENCH_NOW: ${job} ${process.env.BENCH_NOW}`);

  const { loadConfig } = dist('src/platform/config.js');
  const { openOrm } = dist('src/platform/db/orm.js');
  const { createRedis, connectRedis } = dist('src/platform/redis.js');
  const { createLogger } = dist('src/platform/logger.js');
  const { ManualClock } = dist('src/platform/clock.js');
  const { RedisPubSubAdapter } = dist('src/realtime/pubsub.js');
  const { createServices } = dist('src/app.js');
  const { ExpiryWarningJob } = dist('src/jobs/expiry-warning.job.js');
  const { ExpiryJob } = dist('src/jobs/expiry.job.js');
  const { TierEvaluationJob } = dist('src/jobs/tier-evaluation.job.js');
  const { RfmJob } = dist('src/jobs/rfm.job.js');

  const statements = timeStatements();
  const config = loadConfig(process.env);
  const log = createLogger('silent');
  const clock = new ManualClock(now);
  // The pool `npm run jobs` opens (src/cli/jobs.ts).
  const orm = await openOrm(config.databaseUrl, 4);
  const redis = createRedis(config.redisUrl, config.redisPrefix);
  await connectRedis(redis);
  const pubSub = new RedisPubSubAdapter(redis, log);
  const services = createServices({ clock, config, orm, redis, pubSub, log });
  // BENCH_JOBS_*_BATCH (bench/suites/jobs.mjs): a batch size to try; undefined keeps the job's own.
  const batch = (name) => (process.env[name] ? Number(process.env[name]) : undefined);
  const instance = {
    'expiry-warning': () => new ExpiryWarningJob({ orm, clock, pubSub, program: services.program, batchSize: batch('BENCH_JOBS_WARNING_BATCH') }),
    expiry: () => new ExpiryJob({ orm, clock, events: services.events, batchSize: batch('BENCH_JOBS_EXPIRY_BATCH') }),
    // As the runner builds them (src/jobs/runner.ts).
    'tier-evaluation': () => new TierEvaluationJob({ orm, tiers: services.tiers }),
    'rfm-segments': () => new RfmJob({ orm, segments: services.segments }),
  }[job]();

  if (global.gc) global.gc();
  const rssBefore = process.memoryUsage.rss();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = rssBefore;
  let peakHeap = heapBefore;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peakRss) peakRss = m.rss;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  }, SAMPLE_MS);
  // What the job keeps alive, as opposed to garbage V8 has not collected yet: the heap right
  // after each major (mark-compact) GC V8 chooses to run. Observed, never forced, so the RSS
  // figures stay those of an undisturbed process.
  let peakLiveHeap = heapBefore;
  let majorGcs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      majorGcs += 1;
      peakLiveHeap = Math.max(peakLiveHeap, process.memoryUsage().heapUsed);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await instance.run();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  gcObserver.disconnect();
  const end = process.memoryUsage();
  peakRss = Math.max(peakRss, end.rss);
  peakHeap = Math.max(peakHeap, end.heapUsed);

  // Let the fire-and-forget publishes drain before closing Redis.
  await new Promise((r) => setTimeout(r, 200));
  pubSub.close();
  await redis.close();
  await orm.close();
  process.send({
    type: 'done',
    job,
    result,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBefore,
    rssEnd: end.rss,
    peakRss,
    heapBefore,
    peakHeap,
    peakLiveHeap,
    majorGcs,
    vmHwm: vmHwmBytes(),
    statements: statements().slice(0, 8),
  });
}

main().then(
  () => process.disconnect?.(),
  (error) => {
    process.send?.({ type: 'failed', error: String(error?.stack ?? error) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
