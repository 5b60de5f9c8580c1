// Summary of a V8 CPU profile (node --cpu-prof): where the process spent its time, by package
// and by function (self time). Also a CLI: node bench/lib/profile.mjs <file.cpuprofile> [top]
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** node_modules/<package>, dist/<dir>, node:internal, or a V8 pseudo-node such as (garbage collector). */
function bucketOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const d = url.indexOf('/dist/');
  if (d >= 0) {
    const rest = url.slice(d + 1).split('/');
    return rest.slice(0, Math.min(3, rest.length - 1)).join('/');
  }
  if (url.startsWith('node:')) return 'node (core)';
  if (url.includes('/bench/')) return 'bench';
  return url;
}

export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // Self time per node from the samples and their time deltas (µs).
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const packages = new Map();
  const functions = new Map();
  for (const [id, micros] of self) {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    total += micros;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const bucket = bucketOf(url, functionName);
    packages.set(bucket, (packages.get(bucket) ?? 0) + micros);
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + micros);
  }
  const busy = total - idle;
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, ms: micros / 1000, percentOfBusy: (micros / busy) * 100 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, idleMs: idle / 1000, packages: rank(packages), functions: rank(functions) };
}

export function printProfileSummary(file, log = (line) => process.stdout.write(`${line}\n`), top = 25, label = '') {
  if (!existsSync(file)) {
    log(`no CPU profile at ${file} (the app did not exit cleanly?)`);
    return null;
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), top);
  log(`\nCPU profile${label ? ` of ${label}` : ''} (${file}): ${summary.busyMs.toFixed(0)} ms busy, ${summary.idleMs.toFixed(0)} ms idle`);
  log('  self time by package / directory:');
  for (const p of summary.packages.slice(0, 15)) log(`    ${p.percentOfBusy.toFixed(1).padStart(5)}%  ${p.ms.toFixed(0).padStart(7)} ms  ${p.name}`);
  log('  self time by function:');
  for (const f of summary.functions) log(`    ${f.percentOfBusy.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  return summary;
}

/**
 * Self time (µs) per function key of one profile, idle left out. Each sample counts as ONE
 * sampling interval (`intervalMicros`), not its time delta: on a loaded machine a thread
 * descheduled for 20 ms shows as one sample with a 20 ms delta on whatever frame it was in, which
 * spreads the machine's load over random functions; counting samples approximates CPU time.
 * The profiler's own stop (`dispatch` under node:inspector's `post`) is left out.
 */
function selfByFunction(profile, intervalMicros = 1000) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const { functionName, url, lineNumber } = byId.get(profile.samples[i]).callFrame;
    if (functionName === '(idle)' || (functionName === 'dispatch' && !url)) continue;
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    out.set(key, (out.get(key) ?? 0) + intervalMicros);
  }
  return out;
}

/**
 * What target `a` spends per request that target `b` does not: each side's profiles (one per
 * measured run, `{ file, requests }`) summed, self time per function divided by the requests
 * answered, and the functions ranked by the difference (µs per request, a − b). Wall-clock
 * samples: on a loaded machine the I/O lines (writeBuffer, writev) are mostly the machine.
 */
export function printProfileDiff(a, b, log = (line) => process.stdout.write(`${line}\n`), top = 20) {
  const perRequest = (runs) => {
    const sum = new Map();
    let requests = 0;
    for (const run of runs) {
      requests += run.requests;
      for (const [key, micros] of selfByFunction(JSON.parse(readFileSync(run.file, 'utf8')))) sum.set(key, (sum.get(key) ?? 0) + micros);
    }
    return { map: new Map([...sum].map(([k, v]) => [k, v / requests])), total: [...sum.values()].reduce((x, y) => x + y, 0) / requests };
  };
  const pa = perRequest(a.runs);
  const pb = perRequest(b.runs);
  log(
    `\nper-run CPU profiles, busy (non-idle) samples × 1 ms per request: ${a.name} ${pa.total.toFixed(0)} µs, ${b.name} ${pb.total.toFixed(0)} µs (difference ${(pa.total - pb.total).toFixed(0)} µs)`,
  );
  const keys = new Set([...pa.map.keys(), ...pb.map.keys()]);
  const rows = [...keys].map((k) => ({ k, a: pa.map.get(k) ?? 0, b: pb.map.get(k) ?? 0 })).map((r) => ({ ...r, d: r.a - r.b }));
  const line = (r) => `    ${r.d >= 0 ? '+' : ''}${r.d.toFixed(1).padStart(7)} µs  (${r.a.toFixed(1).padStart(7)} vs ${r.b.toFixed(1).padStart(7)})  ${r.k}`;
  log(`  functions ${a.name} spends more on (µs/request, ${a.name} vs ${b.name}):`);
  for (const r of [...rows].sort((x, y) => y.d - x.d).slice(0, top)) log(line(r));
  log(`  functions ${a.name} spends less on:`);
  for (const r of [...rows].sort((x, y) => x.d - y.d).slice(0, Math.ceil(top / 2))) log(line(r));
  log(`  top frames of ${a.name} (µs/request):`);
  for (const r of [...rows].sort((x, y) => y.a - x.a).slice(0, top)) log(`    ${r.a.toFixed(1).padStart(8)} µs  ${r.k}`);
  return { a: pa.total, b: pb.total, rows };
}

/**
 * The top self-time frames of one target per request (its per-run profiles summed, samples × 1 ms
 * divided by the requests answered), and the same by package: where its CPU goes.
 */
export function printTopFrames(target, log = (line) => process.stdout.write(`${line}\n`), top = 20) {
  const sum = new Map();
  let requests = 0;
  for (const run of target.runs) {
    requests += run.requests;
    for (const [key, micros] of selfByFunction(JSON.parse(readFileSync(run.file, 'utf8')))) sum.set(key, (sum.get(key) ?? 0) + micros);
  }
  const total = [...sum.values()].reduce((x, y) => x + y, 0);
  log(`\ntop self-time frames of ${target.name}: ${(total / requests).toFixed(0)} µs busy per request (${target.runs.length} run(s), ${requests} requests)`);
  for (const [key, micros] of [...sum].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    log(`    ${(micros / requests).toFixed(1).padStart(7)} µs  ${((micros / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
  return { perRequest: total / requests };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/lib/profile.mjs <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  printProfileSummary(file, undefined, Number(top) || 25);
}
