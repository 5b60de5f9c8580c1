// What AsyncLocalStorage costs every promise on this Node (issue 14: "measure MikroORM's
// AsyncLocalStorage cost on Node 20"). On Node 20 an AsyncLocalStorage that has been run once
// installs async_hooks promise hooks for the whole process (init hook + store propagation on every
// promise), and MikroORM runs one in em.transactional (TransactionContext), in every flush
// (UnitOfWork's insideFlush) and in every em.find (RawQueryFragment.run). Node 22+ can use
// AsyncContextFrame instead, which has no per-promise hook.
//
//   node bench/als-cost.mjs [iterations]
//
// Each mode runs in its own process (once enabled, the hooks stay), the same work: `iterations`
// "requests" of 200 awaited async calls each (about the promises a redemption makes through
// MikroORM and knex), and prints ns per awaited call and the difference.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODES = ['off', 'enabled', 'inside-run'];

async function work(iterations) {
  const step = async (i) => i + 1;
  const request = async () => {
    let x = 0;
    for (let i = 0; i < 200; i++) x = await step(x);
    return x;
  };
  for (let i = 0; i < 2000; i++) await request(); // warm-up (JIT)
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await request();
  return Number(process.hrtime.bigint() - started) / (iterations * 200);
}

async function child(mode, iterations) {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  const storage = new AsyncLocalStorage();
  let ns;
  if (mode === 'off') ns = await work(iterations);
  if (mode === 'enabled') {
    storage.run(1, () => {}); // enabled once, as MikroORM's first transaction, flush or find does
    ns = await work(iterations);
  }
  if (mode === 'inside-run') ns = await storage.run({ em: 'fork' }, () => work(iterations)); // inside em.transactional
  process.stdout.write(JSON.stringify({ mode, ns }));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], Number(process.argv[4]));
} else {
  const iterations = Number(process.argv[2]) || 20_000;
  const file = fileURLToPath(import.meta.url);
  const results = {};
  for (let round = 0; round < 3; round++) {
    for (const mode of MODES) {
      const { ns } = JSON.parse(execFileSync(process.execPath, [file, '--child', mode, String(iterations)], { encoding: 'utf8' }));
      (results[mode] ??= []).push(ns);
    }
  }
  const best = Object.fromEntries(Object.entries(results).map(([mode, xs]) => [mode, Math.min(...xs)]));
  process.stdout.write(`node ${process.version}, ${iterations} × 200 awaited async calls, best of 3 per mode (ns per awaited call):\n`);
  for (const mode of MODES) {
    const extra = best[mode] - best.off;
    process.stdout.write(`  ${mode.padEnd(11)} ${best[mode].toFixed(1).padStart(7)} ns${mode === 'off' ? '' : `  (+${extra.toFixed(1)} ns, ×${(best[mode] / best.off).toFixed(2)})`}\n`);
  }
}
