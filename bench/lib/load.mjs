// Load generation with autocannon: warm-up (discarded), then the measured run.
import autocannon from 'autocannon';

function run(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * One measurement of one target.
 * - `request(i)` returns { path, headers, body } for the i-th request (i counts up across
 *   every connection), so each request can carry a different member's token.
 * - `verifyBody(body)` is false for a response that is not what the client expected; those are
 *   counted as `badBodies` (autocannon's "mismatches").
 */
export async function measure({ target, request, verifyBody, connections, warmupSeconds, durationSeconds, timeoutSeconds = 10, aroundMeasured = null }) {
  const base = new URL(target.url);
  if (base.hostname !== '127.0.0.1') throw new Error(`refusing to load ${base.hostname}: the bench only targets 127.0.0.1`);
  let i = 0;
  const options = (duration) => ({
    url: base.origin,
    connections,
    duration,
    timeout: timeoutSeconds,
    verifyBody,
    requests: [
      {
        setupRequest: (req) => {
          const next = request(i++);
          return { ...req, method: 'POST', path: next.path, headers: next.headers, body: next.body };
        },
      },
    ],
  });

  if (warmupSeconds > 0) await run(options(warmupSeconds));
  const started = new Date();
  // `aroundMeasured` (optional): { before(), after() } awaited just inside the measured run (e.g.
  // a per-run CPU profile of the server), outside the CPU-usage window.
  await aroundMeasured?.before();
  const before = target.usage ? await target.usage() : null;
  const r = await run(options(durationSeconds));
  const after = target.usage ? await target.usage() : null;
  await aroundMeasured?.after();
  // Responses still in flight when autocannon stops are not counted; at 50 connections that
  // is noise next to thousands of requests.
  const cpuMicros = before && after ? after.cpuMicros - before.cpuMicros : null;
  return {
    target: target.name,
    startedAt: started.toISOString(),
    durationSeconds: r.duration,
    requests: r.requests.total,
    reqPerSec: r.requests.average,
    reqPerSecStddev: r.requests.stddev,
    latencyMs: { avg: r.latency.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    throughputBytesPerSec: r.throughput.average,
    serverCpuMicrosPerRequest: cpuMicros != null && r.requests.total > 0 ? cpuMicros / r.requests.total : null,
    serverCpuPercent: cpuMicros != null ? (cpuMicros / (r.duration * 1e6)) * 100 : null,
    serverRssBytes: after?.rss ?? null,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    badBodies: r.mismatches,
    statusCodes: r.statusCodeStats,
  };
}

/**
 * Measures every target `rounds` times, reversing the order each round (A B, B A, A B …), so a
 * machine that slows down or speeds up during the run does not favour one target.
 */
export async function alternate(targets, rounds, measureOne, log) {
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      log(`  round ${round}: ${target.name} …`);
      const result = await measureOne(target);
      results.push({ round, ...result });
      const cpu = result.serverCpuMicrosPerRequest != null ? `, server CPU ${result.serverCpuMicrosPerRequest.toFixed(0)} µs/req (${result.serverCpuPercent.toFixed(0)}% of a core)` : '';
      log(
        `  round ${round}: ${target.name}: ${result.reqPerSec.toFixed(0)} req/s, p99 ${result.latencyMs.p99} ms${cpu}, non-2xx ${result.non2xx}, errors ${result.errors}, bad bodies ${result.badBodies}`,
      );
    }
  }
  return results;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per target: the mean over rounds of req/s and latencies, and the sums of failures. */
export function summarize(results) {
  const byTarget = new Map();
  for (const r of results) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  return Object.fromEntries(
    [...byTarget].map(([target, rs]) => [
      target,
      {
        rounds: rs.length,
        reqPerSec: mean(rs.map((r) => r.reqPerSec)),
        latencyMs: { avg: mean(rs.map((r) => r.latencyMs.avg)), p50: mean(rs.map((r) => r.latencyMs.p50)), p99: mean(rs.map((r) => r.latencyMs.p99)) },
        serverCpuMicrosPerRequest: rs.every((r) => r.serverCpuMicrosPerRequest != null) ? mean(rs.map((r) => r.serverCpuMicrosPerRequest)) : null,
        requests: rs.reduce((a, r) => a + r.requests, 0),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
        badBodies: rs.reduce((a, r) => a + r.badBodies, 0),
      },
    ]),
  );
}
