// The printed table and the JSON file under bench/results/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from './dist.mjs';

const pad = (value, width, right = false) => (right ? String(value).padEnd(width) : String(value).padStart(width));
const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Results may carry a `scenario` (shown as scenario/target); summary keys are shown as they are. */
export function printTable(results, summary, write = (s) => process.stdout.write(s)) {
  const label = (r) => (r.scenario ? `${r.scenario}/${r.target}` : r.target);
  const w = Math.max(10, ...results.map((r) => label(r).length), ...Object.keys(summary).map((k) => k.length));
  const head = `${pad('target', w, true)} ${pad('round', 5, true)} ${pad('req/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('cpu µs/req', 10)} ${pad('requests', 9)} ${pad('errors', 7)} ${pad('non-2xx', 8)} ${pad('bad body', 9)}`;
  const lines = [head, '-'.repeat(head.length)];
  for (const r of results) {
    lines.push(
      `${pad(label(r), w, true)} ${pad(r.round, 5, true)} ${pad(fmt(r.reqPerSec, 0), 9)} ${pad(fmt(r.latencyMs.p50, 0), 8)} ${pad(fmt(r.latencyMs.p99, 0), 8)} ${pad(fmt(r.serverCpuMicrosPerRequest ?? NaN, 0), 10)} ${pad(r.requests, 9)} ${pad(r.errors + r.timeouts, 7)} ${pad(r.non2xx, 8)} ${pad(r.badBodies, 9)}`,
    );
  }
  lines.push('-'.repeat(head.length));
  for (const [target, s] of Object.entries(summary)) {
    lines.push(
      `${pad(target, w, true)} ${pad('mean', 5, true)} ${pad(fmt(s.reqPerSec, 0), 9)} ${pad(fmt(s.latencyMs.p50, 1), 8)} ${pad(fmt(s.latencyMs.p99, 1), 8)} ${pad(fmt(s.serverCpuMicrosPerRequest ?? NaN, 0), 10)} ${pad(s.requests, 9)} ${pad(s.errors + s.timeouts, 7)} ${pad(s.non2xx, 8)} ${pad(s.badBodies, 9)}`,
    );
  }
  write(`${lines.join('\n')}\n`);
}

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function environment() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    loadavg: os.loadavg(),
    gitCommit: git('rev-parse', 'HEAD'),
    gitDirty: (git('status', '--porcelain') ?? '') !== '',
  };
}

/** bench/results/<suite>-<timestamp>.json (gitignored). */
export function writeResults(suite, payload) {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${suite}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
