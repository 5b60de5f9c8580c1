#!/usr/bin/env node
// npm run bench -- <suite> [--duration S] [--warmup S] [--connections N] [--rounds N] [--members N] [--keep-db] [--cpu-prof]
// A suite is bench/suites/<name>.mjs exporting `description` and `run(ctx)`; see bench/README.md.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { environment, printTable, writeResults } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(join(here, 'suites'))
  .filter((f) => f.endsWith('.mjs'))
  .map((f) => f.slice(0, -4))
  .sort();

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    members: { type: 'string', default: '10000' },
    'keep-db': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const usage = `usage: npm run bench -- <suite> [--duration 10] [--warmup 3] [--connections 50] [--rounds 2] [--members 10000] [--keep-db] [--cpu-prof]\nsuites: ${suites.join(', ')}\n`;
const name = positionals[0];
if (values.help || !name || !suites.includes(name)) {
  process.stderr.write(name && !values.help ? `unknown suite "${name}"\n${usage}` : usage);
  process.exit(values.help ? 0 : 2);
}

const positiveInt = (key, min = 1) => {
  const n = Number(values[key]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${key} must be an integer >= ${min}\n${usage}`);
    process.exit(2);
  }
  return n;
};
const options = {
  duration: positiveInt('duration'),
  warmup: positiveInt('warmup', 0),
  connections: positiveInt('connections'),
  rounds: positiveInt('rounds'),
  members: positiveInt('members', 100),
  keepDatabase: values['keep-db'],
  // Suites that support it run their servers under node --cpu-prof (profiles under bench/results/profiles/).
  cpuProfile: values['cpu-prof'],
};

const log = (line) => process.stdout.write(`${line}\n`);
const cleanups = [];
const aborts = [];
const ctx = {
  options,
  log,
  /** Run at the end, last registered first, whatever happened. */
  onCleanup: (label, fn) => cleanups.push({ label, fn }),
  /** Run only when the deadline passes: must be synchronous (kill a child). */
  onAbort: (fn) => aborts.push(fn),
};

async function cleanup() {
  for (const { label, fn } of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 15_000).unref())]);
    } catch (error) {
      process.stderr.write(`cleanup "${label}" failed: ${error?.message ?? error}\n`);
    }
  }
}

const suite = await import(pathToFileURL(join(here, 'suites', `${name}.mjs`)).href);

// A hard bound on the whole run: set-up, two targets x rounds x (warm-up + measurement), teardown;
// a suite that measures more (several scenarios) states its own bound with budgetSeconds(options).
const deadlineMs = (suite.budgetSeconds?.(options) ?? 45 + 2 * options.rounds * (options.warmup + options.duration + 3)) * 1000;
const deadline = setTimeout(() => {
  process.stderr.write(`bench: still running after ${deadlineMs / 1000} s; stopping everything\n`);
  for (const abort of aborts) {
    try {
      abort();
    } catch {
      // best effort on the way out: one failing abort must not stop the others
    }
  }
  process.exit(3);
}, deadlineMs);
deadline.unref();
// Ctrl-C: stop the servers and drop the bench database before leaving.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    cleanup().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  log(`bench ${name}: ${suite.description ?? ''}`);
  const startedAt = new Date().toISOString();
  const env = environment();
  const outcome = await suite.run(ctx);
  log('');
  printTable(outcome.results, outcome.summary);
  const ratios = outcome.ratios ?? (outcome.ratio ? { '': outcome.ratio } : {});
  for (const [label, r] of Object.entries(ratios)) {
    log(
      `${label ? `\n${label}: ` : '\n'}ratio graphql/baseline: req/s ${r.reqPerSec.toFixed(2)} (graphql serves ${(r.reqPerSec * 100).toFixed(0)}% of the baseline's throughput), p50 x${r.p50.toFixed(2)}, p99 x${r.p99.toFixed(2)}` +
        (Number.isFinite(r.serverCpuPerRequest) ? `, server CPU per request x${r.serverCpuPerRequest.toFixed(2)}` : ''),
    );
  }
  if (outcome.notes?.length) log(`\n${outcome.notes.join('\n')}`);
  const failures = Object.values(outcome.summary).reduce((n, s) => n + s.non2xx + s.errors + s.timeouts + s.badBodies, 0);
  if (failures) {
    log(`\n${failures} failed requests (errors, timeouts, non-2xx or bad bodies): the numbers above are not trustworthy`);
    exitCode = 1;
  }
  // Checks a suite makes after measuring (e.g. the ledger still reconciles): any problem fails the run.
  if (outcome.problems?.length) {
    log(`\nchecks after the run failed:\n${outcome.problems.map((p) => `  - ${p}`).join('\n')}`);
    exitCode = 1;
  }
  const file = writeResults(name, { suite: name, startedAt, finishedAt: new Date().toISOString(), options, environment: env, loadavgAfter: environment().loadavg, ...outcome });
  log(`results: ${file}`);
} catch (error) {
  process.stderr.write(`bench ${name} failed: ${error?.stack ?? error}\n`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
