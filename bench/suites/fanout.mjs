// fanout: graphql-ws subscriptions under a steady stream of earnings. 5,000 sockets each
// subscribed to leaderboardChanged (ALL_TIME, first 10) and 1,000 sockets each subscribed to
// their own member's balanceChanged, all opened by load-generator children (lib/fanout-clients.mjs),
// while the parent posts earnPoints at a steady rate for the balance members. Against a bare `ws`
// server (servers/fanout-baseline.mjs) pushing messages of the same byte sizes to the same sockets,
// triggered at the same rate. Reports deliveries/s, commit→receipt latency, server CPU and memory
// per connection. See bench/README.md ("What `fanout` measures").
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, ROOT } from '../lib/dist.mjs';
import { dropDatabase, freshDatabase, withClient } from '../lib/db.mjs';
import { clearPrefix } from '../lib/redis.mjs';
import { startServer } from '../lib/servers.mjs';
import { printProfileSummary } from '../lib/profile.mjs';
import { inviteCode } from '../lib/seed.mjs';

export const description = '5,000 leaderboardChanged + 1,000 balanceChanged graphql-ws subscribers under steady earnings — app vs bare ws broadcast baseline';

const intEnv = (name, fallback) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
// Overridable for quick trials; the issue's numbers by default.
const BOARD_SOCKETS = intEnv('BENCH_FANOUT_BOARD', 5000);
const BALANCE_SOCKETS = intEnv('BENCH_FANOUT_BALANCE', 1000);
const EARN_RATE = intEnv('BENCH_FANOUT_RATE', 20); // earnings per second
const CLIENT_PROCESSES = intEnv('BENCH_FANOUT_CLIENTS', 2);
const OPEN_CONCURRENCY = 100; // sockets being opened at once per client process
const SETTLE_MS = 3000; // after every socket is ready: Redis SUBSCRIBEs land, the initial pushes drain
const DRAIN_MS = 2000; // after the last earning: the last coalesced push arrives

/** Set-up ~25 s, then per target: open sockets (≤ 60 s), settle, warm-up, measure, drain, close. */
export const budgetSeconds = (o) => 60 + 2 * (40 + (SETTLE_MS + DRAIN_MS) / 1000 + o.warmup + o.duration + 5);

const DATABASE = 'loyalty_bench_fanout';
const REDIS_PREFIX = 'bench:fanout:';
const EARN = 'mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points status entry { id reference } } }';
const QUERIES = {
  board: 'subscription { leaderboardChanged(period: ALL_TIME, first: 10) { period totalMembers updatedAt entries { rank score member { id nickname tierLevel } } } }',
  balance: 'subscription { balanceChanged { memberId balance delta at entry { id type status delta balanceAfter reference source description expiresAt createdAt } } }',
};

/** Members from the lowest tier (total_spend 0); no earning rule; limits opened up (as the ledger suite does). */
async function seed(url, count, now) {
  const ids = Array.from({ length: count }, () => randomUUID());
  await withClient(url, async (client) => {
    await client.query(
      `insert into member (id, external_id, nickname, mobile, total_spend, balance, lifetime_earned, invite_code, joined_at, updated_at)
       select id, 'bench-fanout-' || n, '会员' || lpad(n::text, 5, '0'), '139' || lpad(n::text, 8, '0'), 0, 0, 0, code, $3::timestamptz, $3::timestamptz
       from unnest($1::uuid[], $2::text[]) with ordinality as r(id, code, n)`,
      [ids, ids.map((_, i) => inviteCode(3_000_000 + i)), new Date(now - 86_400_000)],
    );
    await client.query(`update program_settings set earn_limit_per_hour = 1000000000, review_threshold_amount = 999999999999.99, updated_at = now(), updated_by = 'bench'`);
    await client.query('analyze');
  });
  return ids;
}

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const latencyStats = (values) => {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : NaN };
};

/** A client child and a promise-based request/answer over its IPC channel. */
function startClient(ctx, index) {
  const child = fork(fileURLToPath(new URL('../lib/fanout-clients.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  ctx.onAbort(() => child.kill('SIGKILL'));
  const waiting = new Map();
  child.on('message', (m) => {
    const resolve = waiting.get(m.type);
    waiting.delete(m.type);
    resolve?.(m);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ask = (message, answer) =>
    new Promise((resolve, reject) => {
      waiting.set(answer, resolve);
      exited.then(() => reject(new Error(`client ${index} exited`)));
      child.send(message);
    });
  const ready = new Promise((resolve) => waiting.set('ready', resolve));
  const close = async () => {
    if (child.exitCode !== null || child.signalCode) return;
    if (child.connected) child.send({ type: 'close' });
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  ctx.onCleanup(`stop fanout client ${index}`, close);
  return { child, ask, ready, close, pid: child.pid };
}

function askServer(server, type) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m?.type !== type) return;
      server.child.off('message', on);
      resolve(m);
    };
    server.child.on('message', on);
    server.child.send({ type });
  });
}

/** CPU time of a process (user + system, µs) from /proc: works for any child, whatever its event loop is doing. */
function procCpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

function fdLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return line ? Number(line.split(/\s+/)[3]) : null;
  } catch {
    return null;
  }
}

/**
 * One target: open every socket from the client children, measure memory idle, then post
 * earnings at EARN_RATE for warm-up + duration (only the measured part counts), drain, collect.
 * `post(n, member, orderId)` sends earning n and resolves with its commit time (or throws).
 */
async function measureTarget(ctx, { name, server, mode, url, specs, post, boardKeyOf, options, coalesceWindowMs, profileFile }) {
  const { log } = ctx;
  const clients = Array.from({ length: CLIENT_PROCESSES }, (_, i) => startClient(ctx, `${name}-${i}`));
  await Promise.all(clients.map((c) => c.ready));
  const memBefore = await askServer(server, 'memory');
  const share = clients.map((_, i) => specs.filter((_, j) => j % clients.length === i));
  const opening = nowMs();
  const opened = await Promise.all(clients.map((c, i) => c.ask({ type: 'open', mode, url, sockets: share[i], concurrency: OPEN_CONCURRENCY, queries: QUERIES }, 'opened')));
  const ok = opened.reduce((n, o) => n + o.ok, 0);
  const failed = opened.reduce((n, o) => n + o.failed, 0);
  log(`  ${name}: ${ok} sockets ready (${failed} failed) in ${((nowMs() - opening) / 1000).toFixed(1)} s from ${clients.length} client processes`);
  for (const o of opened) for (const e of o.problems.firstErrors) log(`    ${e}`);
  await sleep(SETTLE_MS);
  const memAfter = await askServer(server, 'memory');
  const memory = {
    gc: memAfter.gc,
    rssBefore: memBefore.rss,
    rssAfter: memAfter.rss,
    heapBefore: memBefore.heapUsed,
    heapAfter: memAfter.heapUsed,
    externalBefore: memBefore.external,
    externalAfter: memAfter.external,
    rssPerSocket: (memAfter.rss - memBefore.rss) / ok,
    heapPerSocket: (memAfter.heapUsed - memBefore.heapUsed) / ok,
    externalPerSocket: (memAfter.external - memBefore.external) / ok,
  };
  log(
    `  ${name}: idle memory per socket: RSS ${(memory.rssPerSocket / 1024).toFixed(1)} KB, heap ${(memory.heapPerSocket / 1024).toFixed(1)} KB, external ${(memory.externalPerSocket / 1024).toFixed(1)} KB (after a full GC: ${memory.gc}); RSS ${(memBefore.rss / 2 ** 20).toFixed(0)} → ${(memAfter.rss / 2 ** 20).toFixed(0)} MB`,
  );

  // Earnings at a steady rate: earning n goes at start + n / rate, whatever the previous ones do.
  const commits = new Map(); // orderId → commit time (≈ the HTTP response)
  const sent = new Map(); // orderId → request sent
  const boardCommits = new Map(); // board key (app: member id; baseline: orderId) → commit time
  const failures = [];
  const inFlight = new Set();
  const total = EARN_RATE * (options.warmup + options.duration);
  const warmCount = EARN_RATE * options.warmup;
  const start = nowMs() + 50;
  let measuredFrom = NaN;
  let cpuStart = null;
  let clientCpuStart = null;
  for (let n = 0; n < total; n++) {
    const at = start + (n * 1000) / EARN_RATE;
    const wait = at - nowMs();
    if (wait > 0) await sleep(wait);
    if (n === warmCount) {
      // The measured part starts: receipts so far (initial boards, warm-up pushes) are dropped.
      await Promise.all(clients.map((c) => c.ask({ type: 'reset' }, 'reset')));
      server.child.send({ type: 'windows-reset' });
      // --cpu-prof: the measured part only (the delivery path), not the opening of 6,000 sockets.
      if (profileFile) await server.profile(true);
      measuredFrom = nowMs();
      cpuStart = { usage: await server.usage(), proc: procCpuMicros(server.pid) };
      clientCpuStart = clients.map((c) => procCpuMicros(c.pid));
    }
    const member = specs.balanceMembers[n % specs.balanceMembers.length];
    const orderId = `fanout-${name}-${n}`;
    sent.set(orderId, nowMs());
    const p = post(n, member, orderId).then(
      (t) => {
        commits.set(orderId, t);
        boardCommits.set(boardKeyOf(member, orderId), orderId);
      },
      (error) => failures.push(`${orderId}: ${error?.message ?? error}`),
    );
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  }
  const postedUntil = nowMs();
  await Promise.all(inFlight);
  await sleep(DRAIN_MS);
  const measuredUntil = nowMs();
  const cpuEnd = { usage: await server.usage(), proc: procCpuMicros(server.pid) };
  if (profileFile) await server.profile(false, profileFile);
  const clientCpu = clients.map((c, i) => procCpuMicros(c.pid) - clientCpuStart[i]);
  const receipts = await Promise.all(clients.map((c) => c.ask({ type: 'collect' }, 'receipts')));
  // When each pushed board's coalescing window closed, by the key the clients read from it.
  const windows = new Map((await askServer(server, 'windows')).windows);
  await Promise.all(clients.map((c) => c.close()));
  const seconds = (measuredUntil - measuredFrom) / 1000;

  // Latencies: balanceChanged from its own earning's commit (HTTP response), leaderboardChanged
  // from the commit of the earning now at #1 (the latest earner: amounts only grow, see below).
  // The commit happens before both the HTTP response and the balance event (published right after
  // commit); the earlier of the two bounds it from above: boards are timed from that.
  const firstBalance = new Map();
  for (const r of receipts) for (const [key, t] of r.balance) if (!firstBalance.has(key) || firstBalance.get(key) > t) firstBalance.set(key, t);
  const commitBound = (orderId) => Math.min(commits.get(orderId), firstBalance.get(orderId) ?? Infinity);
  const lastCommit = Math.max(...[...commits.keys()].map(commitBound));
  const steadyUntil = lastCommit - coalesceWindowMs;
  const balanceLat = [];
  const balanceLatFromSend = [];
  const boardLat = [];
  const boardLatFromWindow = [];
  let boardWithoutWindow = 0;
  let balanceUnmatched = 0;
  let boardUnmatched = 0;
  let boardTail = 0;
  const balanceSeen = new Set();
  let balanceDuplicates = 0;
  let balanceFromWarmup = 0;
  let boardPushes = 0;
  let balancePushes = 0;
  const sizes = { board: 0, balance: 0 };
  const problems = { closed: 0, closeCodes: {}, graphqlErrors: 0, errors: 0, firstErrors: [] };
  const boardReceiptsPerKey = new Map();
  for (const r of receipts) {
    sizes.board ||= r.sizes.board;
    sizes.balance ||= r.sizes.balance;
    problems.closed += r.problems.closed;
    problems.graphqlErrors += r.problems.graphqlErrors;
    problems.errors += r.problems.errors;
    for (const [code, count] of Object.entries(r.problems.closeCodes)) problems.closeCodes[code] = (problems.closeCodes[code] ?? 0) + count;
    problems.firstErrors.push(...r.problems.firstErrors);
    for (const [key, t] of r.balance) {
      balancePushes += 1;
      if (balanceSeen.has(key)) balanceDuplicates += 1;
      balanceSeen.add(key);
      const c = commits.get(key);
      if (c === undefined) balanceUnmatched += 1;
      else if (Number(key.slice(key.lastIndexOf('-') + 1)) < warmCount) balanceFromWarmup += 1;
      else {
        balanceLat.push(t - c);
        balanceLatFromSend.push(t - sent.get(key));
      }
    }
    for (const [key, t] of r.board) {
      boardPushes += 1;
      boardReceiptsPerKey.set(key, (boardReceiptsPerKey.get(key) ?? 0) + 1);
      // From the close of the coalescing window: the server's own cost of a push (every window counts).
      const closedAt = windows.get(key);
      if (closedAt === undefined) boardWithoutWindow += 1;
      else boardLatFromWindow.push(t - closedAt);
      const orderId = boardCommits.get(key);
      const c = orderId === undefined ? undefined : commitBound(orderId);
      if (c === undefined) boardUnmatched += 1;
      // The last window(s): earnings stopped, so the latest commit in the board is up to the whole
      // coalescing delay old when it is pushed; only steady-state windows count for latency.
      else if (c > steadyUntil) boardTail += 1;
      else boardLat.push(t - c);
    }
  }
  const measuredEarnings = total - warmCount;
  const balanceExpected = [...commits.keys()].filter((k) => Number(k.slice(k.lastIndexOf('-') + 1)) >= warmCount).length;
  const cpuMicros = cpuEnd.usage.cpuMicros - cpuStart.usage.cpuMicros;
  const deliveries = boardPushes + balancePushes;
  const all = latencyStats([...balanceLat, ...boardLat]);
  const result = {
    target: name,
    round: 1,
    sockets: ok,
    socketsFailed: failed,
    seconds,
    earnings: measuredEarnings,
    earningsPostedPerSecond: measuredEarnings / ((postedUntil - measuredFrom) / 1000),
    failedEarnings: failures.length,
    failures: failures.slice(0, 10),
    reqPerSec: deliveries / seconds,
    deliveries,
    boardPushes,
    boardPushesPerSecond: boardPushes / seconds,
    boardBroadcasts: boardReceiptsPerKey.size,
    balancePushes,
    balanceExpected,
    balanceMissing: Math.max(0, balanceExpected - balanceLat.length),
    balanceUnmatched,
    balanceDuplicates,
    balanceFromWarmup,
    boardUnmatched,
    boardTailExcludedFromLatency: boardTail,
    messageBytes: sizes,
    latencyMs: { p50: all.p50, p99: all.p99 },
    balanceLatencyMs: latencyStats(balanceLat),
    balanceLatencyFromRequestSentMs: latencyStats(balanceLatFromSend),
    earnResponseMs: latencyStats([...commits.keys()].filter((k) => Number(k.slice(k.lastIndexOf('-') + 1)) >= warmCount).map((k) => commits.get(k) - sent.get(k))),
    boardLatencyMs: latencyStats(boardLat),
    boardLatencyFromWindowMs: latencyStats(boardLatFromWindow),
    boardWithoutWindow,
    serverCpuMicros: cpuMicros,
    serverCpuMicrosProc: cpuEnd.proc - cpuStart.proc,
    serverCpuPercentOfACore: (cpuMicros / 1e6 / seconds) * 100,
    serverCpuMicrosPerRequest: deliveries ? cpuMicros / deliveries : NaN,
    clientCpuPercentOfACore: clientCpu.map((c) => (c / 1e6 / seconds) * 100),
    memory,
    problems,
    requests: deliveries,
    errors: failures.length + problems.errors + problems.graphqlErrors,
    timeouts: 0,
    non2xx: 0,
    badBodies: problems.closed,
  };
  log(
    `  ${name}: ${result.earnings} earnings measured in ${seconds.toFixed(1)} s (incl. ${DRAIN_MS / 1000} s drain); ${boardPushes} board pushes (${result.boardBroadcasts} distinct boards), ${balancePushes}/${balanceExpected} balance pushes; ` +
      `${result.reqPerSec.toFixed(0)} deliveries/s; server CPU ${result.serverCpuPercentOfACore.toFixed(0)}% of a core; clients ${result.clientCpuPercentOfACore.map((c) => `${c.toFixed(0)}%`).join(' + ')}`,
  );
  return result;
}

export async function run(ctx) {
  const { options, log } = ctx;
  const { loadConfig } = dist('src/platform/config.js');
  const { preflight } = dist('src/platform/preflight.js');
  const { mintToken } = dist('src/auth/jwt.js');
  const limit = fdLimit();
  const sockets = BOARD_SOCKETS + BALANCE_SOCKETS;
  log(
    `setting up: database ${DATABASE}, ${BALANCE_SOCKETS} members; ${BOARD_SOCKETS} leaderboardChanged sockets + ${BALANCE_SOCKETS} balanceChanged sockets (one subscription per socket), ${EARN_RATE} earnings/s; open files limit ${limit}`,
  );
  // Each server holds `sockets` fds (plus its own); each client child sockets / CLIENT_PROCESSES.
  if (limit && limit < sockets + 500)
    throw new Error(`the open files limit (${limit}) is below the ${sockets} sockets a server must hold: raise it (ulimit -n ${sockets + 1000}) or lower BENCH_FANOUT_BOARD / BENCH_FANOUT_BALANCE`);

  const setupStarted = Date.now();
  const { url: databaseUrl, migrations } = await freshDatabase(DATABASE);
  // Every socket comes from 127.0.0.1: the per-address cap (WS_MAX_CONNECTIONS_PER_IP, 200 by default)
  // would close all but 200 of them with 4429. The per-principal cap (10) holds: 6 sockets per member.
  const env = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', JOBS_ENABLED: 'false', REDIS_PREFIX, WS_MAX_CONNECTIONS_PER_IP: String(sockets + 100) };
  ctx.onCleanup(`drop database ${DATABASE}`, () => (options.keepDatabase ? undefined : dropDatabase(DATABASE)));
  const config = loadConfig(env);
  await preflight(config);
  await clearPrefix(config.redisUrl, REDIS_PREFIX);
  ctx.onCleanup(`clear ${REDIS_PREFIX} keys in Redis`, () => clearPrefix(config.redisUrl, REDIS_PREFIX));
  const memberIds = await seed(databaseUrl, BALANCE_SOCKETS, Date.now());
  const tokens = memberIds.map((id) => mintToken(config.jwt, { role: 'member', sub: id, expiresInSeconds: 3600 }));
  // Earnings are posted by an admin: partners reach earnPoints only through /partner/graphql.
  const admin = `Bearer ${mintToken(config.jwt, { role: 'admin', sub: 'bench-admin', expiresInSeconds: 3600 })}`;
  log(
    `  migrated (${migrations.join(', ')}), seeded ${memberIds.length} members (lowest tier), minted their tokens; ws: at most ${config.ws.maxSubscriptions} subscriptions per socket, LEADERBOARD_COALESCE_MS ${config.leaderboard.coalesceMs}`,
  );

  // The sockets: board sockets carry member tokens round-robin (5 sockets per member with the
  // defaults); balance socket i belongs to member i, who earns.
  const specs = [];
  for (let i = 0; i < BOARD_SOCKETS; i++) specs.push({ kind: 'board', token: tokens[i % tokens.length], member: memberIds[i % memberIds.length] });
  for (let i = 0; i < BALANCE_SOCKETS; i++) specs.push({ kind: 'balance', token: tokens[i], member: memberIds[i] });
  specs.balanceMembers = memberIds;

  const here = (file) => fileURLToPath(new URL(file, import.meta.url));
  const execArgv = { graphql: ['--expose-gc'], baseline: ['--expose-gc'] };
  const profileFiles = {};
  if (options.cpuProfile) {
    const dir = join(ROOT, 'bench', 'results', 'profiles');
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const name of ['baseline', 'graphql']) profileFiles[name] = join(dir, `fanout-${name}-${stamp}.cpuprofile`);
    log(`  both servers are profiled over their measured part (node:inspector; profiles in ${dir}; compare the profiles, not these numbers)`);
  }
  const [graphql, baseline] = await Promise.all([
    startServer(ctx, 'graphql', here('../servers/fanout-app.mjs'), env, { execArgv: execArgv.graphql }),
    startServer(ctx, 'baseline', here('../servers/fanout-baseline.mjs'), env, { execArgv: execArgv.baseline }),
  ]);
  log(`  graphql at ${graphql.url} (pid ${graphql.pid}), baseline at ${baseline.url} (pid ${baseline.pid}); set-up took ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

  // Check: one earning answers POSTED (the settings let it through).
  const earn = async (member, orderId, amount) => {
    const res = await fetch(`${graphql.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({ query: EARN, variables: { input: { memberId: member, orderId, amount } } }),
    });
    const t = nowMs();
    const body = await res.json();
    if (res.status !== 200 || body.errors || body.data?.earnPoints?.status !== 'POSTED') throw new Error(`HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    return t;
  };

  const loadBefore = os.loadavg();
  // Amounts only grow (100.00 + 10.00 per earning, each member earning once at most in a run
  // of ≤ 1,000 earnings): every earning tops the ALL_TIME board, so every coalesced computation
  // changes the top 10 and is pushed to every board subscriber (the worst case the feed allows),
  // and the #1 of a pushed board is the latest earner: its commit is the one the latency is from.
  // LEDGER_MOVED is coalesced over 100 ms (src/ledger/ledger.events.ts), then the feed over LEADERBOARD_COALESCE_MS.
  const coalesceWindowMs = 100 + config.leaderboard.coalesceMs;
  const amountOf = (n) => (100 + n * 10).toFixed(2);
  const totalEarnings = EARN_RATE * (options.warmup + options.duration);
  if (totalEarnings > memberIds.length) log(`  note: ${totalEarnings} earnings over ${memberIds.length} members: some members earn twice, the board's #1 is then matched to their latest earning`);
  // The app's CPU per delivery includes its earnings' own work (HTTP, Apollo, the ledger
  // transaction), which the baseline does not do. Measured alone first, no socket open, at the same
  // rate for --duration s (1-point earnings: later ones still top the board), so the fan-out's own
  // share can be told apart. A member earns here at most once, as below.
  // The first half warms the earning path up (the process is cold) and is not counted.
  const earnOnlyCount = Math.min(Math.floor(memberIds.length / 2), EARN_RATE * (options.warmup + options.duration));
  const earnOnlyWarm = Math.floor(earnOnlyCount / 2);
  const earnOnlyStart = nowMs();
  const earnOnly = [];
  let earnOnlyFrom = null;
  for (let n = 0; n < earnOnlyCount; n++) {
    const wait = earnOnlyStart + (n * 1000) / EARN_RATE - nowMs();
    if (wait > 0) await sleep(wait);
    if (n === earnOnlyWarm) {
      await Promise.all(earnOnly);
      earnOnlyFrom = await graphql.usage();
    }
    earnOnly.push(earn(memberIds[memberIds.length - 1 - n], `fanout-earn-only-${n}`, '1.00'));
  }
  await Promise.all(earnOnly);
  const earnCpuMicros = ((await graphql.usage()).cpuMicros - earnOnlyFrom.cpuMicros) / (earnOnlyCount - earnOnlyWarm);
  log(`  graphql: ${earnOnlyCount} earnings with no socket open (the first ${earnOnlyWarm} as warm-up): ${(earnCpuMicros / 1000).toFixed(2)} ms of server CPU per earning`);

  const app = await measureTarget(ctx, {
    name: 'graphql',
    server: graphql,
    mode: 'graphql',
    url: `${graphql.url.replace('http:', 'ws:')}/graphql`,
    specs,
    options,
    post: (n, member, orderId) => earn(member, orderId, amountOf(n)),
    boardKeyOf: (member) => member,
    coalesceWindowMs,
    profileFile: profileFiles.graphql,
  });

  // The baseline pushes what the app pushed, byte for byte in size.
  baseline.child.send({ type: 'config', boardBytes: app.messageBytes.board || 1200, balanceBytes: app.messageBytes.balance || 450, coalesceMs: config.leaderboard.coalesceMs, movedMs: 100 });
  const base = await measureTarget(ctx, {
    name: 'baseline',
    server: baseline,
    mode: 'baseline',
    url: `${baseline.url.replace('http:', 'ws:')}/ws`,
    specs,
    options,
    post: async (n, member, orderId) => {
      const t = nowMs();
      baseline.child.send({ type: 'earn', member, key: orderId, t });
      return t;
    },
    boardKeyOf: (_member, orderId) => orderId,
    coalesceWindowMs,
    profileFile: profileFiles.baseline,
  });
  for (const [name, file] of Object.entries(profileFiles)) printProfileSummary(file, log, 25, `${name} (measured part)`);
  const loadAfter = os.loadavg();

  const results = [app, base];
  const summary = Object.fromEntries(results.map((r) => [r.target, r]));
  // What the fan-out itself costs the app per delivery: its CPU less its earnings' own (measured alone above).
  const appFanoutMicrosPerDelivery = (app.serverCpuMicros - app.earnings * earnCpuMicros) / app.deliveries;
  app.earnCpuMicrosPerEarning = earnCpuMicros;
  app.fanoutCpuMicrosPerDelivery = appFanoutMicrosPerDelivery;
  const ratio = {
    fanoutCpuPerDelivery: appFanoutMicrosPerDelivery / base.serverCpuMicrosPerRequest,
    reqPerSec: app.reqPerSec / base.reqPerSec,
    p50: app.latencyMs.p50 / base.latencyMs.p50,
    p99: app.latencyMs.p99 / base.latencyMs.p99,
    serverCpuPerRequest: app.serverCpuMicrosPerRequest / base.serverCpuMicrosPerRequest,
    memoryPerSocket: app.memory.rssPerSocket / base.memory.rssPerSocket,
    boardP99FromWindow: app.boardLatencyFromWindowMs.p99 / base.boardLatencyFromWindowMs.p99,
    boardP99FromCommit: app.boardLatencyMs.p99 / base.boardLatencyMs.p99,
  };
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const notes = [];
  notes.push(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after (${os.cpus().length} cores)`);
  notes.push(`message sizes (app, copied by the baseline): leaderboardChanged ${app.messageBytes.board} B, balanceChanged ${app.messageBytes.balance} B`);
  for (const r of results) {
    notes.push(
      `${r.target}: ${r.sockets} sockets; ${f(r.earningsPostedPerSecond, 1)} earnings/s posted; board pushes ${r.boardPushes} (${f(r.boardPushesPerSecond)}/s, ${r.boardBroadcasts} distinct boards × up to ${BOARD_SOCKETS} sockets), latency (${r.boardLatencyMs.count} steady-state receipts; ${r.boardTailExcludedFromLatency} after the earnings stopped left out) p50 ${f(r.boardLatencyMs.p50)} / p90 ${f(r.boardLatencyMs.p90)} / p99 ${f(r.boardLatencyMs.p99)} / max ${f(r.boardLatencyMs.max)} ms; ` +
        `balance pushes ${r.balancePushes} for ${r.balanceExpected} earnings (missing ${r.balanceMissing}; ${r.balanceUnmatched} for other entries, ${r.balanceDuplicates} duplicates, ${r.balanceFromWarmup} from warm-up earnings), latency from the HTTP response p50 ${f(r.balanceLatencyMs.p50)} / p90 ${f(r.balanceLatencyMs.p90)} / p99 ${f(r.balanceLatencyMs.p99)} / max ${f(r.balanceLatencyMs.max)} ms (negative: pushed before the response came back), from the request sent p50 ${f(r.balanceLatencyFromRequestSentMs.p50)} / p99 ${f(r.balanceLatencyFromRequestSentMs.p99)} ms; earnPoints response p50 ${f(r.earnResponseMs.p50)} / p99 ${f(r.earnResponseMs.p99)} ms`,
    );
    notes.push(
      `${r.target}: server CPU ${f(r.serverCpuMicros / 1000)} ms in ${f(r.seconds, 1)} s = ${f(r.serverCpuPercentOfACore)}% of a core, ${f(r.serverCpuMicrosPerRequest, 1)} µs per delivery (→ at most ~${f(1e6 / r.serverCpuMicrosPerRequest)} deliveries per core-second); ` +
        `idle memory per socket: RSS ${f(r.memory.rssPerSocket / 1024, 1)} KB, JS heap ${f(r.memory.heapPerSocket / 1024, 1)} KB (RSS ${f(r.memory.rssBefore / 2 ** 20)} → ${f(r.memory.rssAfter / 2 ** 20)} MB)`,
    );
  }
  for (const r of results) {
    notes.push(
      `${r.target}: board latency from the close of the coalescing window (${r.boardLatencyFromWindowMs.count} receipts; ${r.boardWithoutWindow} of a window closed before the measured part) p50 ${f(r.boardLatencyFromWindowMs.p50)} / p90 ${f(r.boardLatencyFromWindowMs.p90)} / p99 ${f(r.boardLatencyFromWindowMs.p99)} / max ${f(r.boardLatencyFromWindowMs.max)} ms`,
    );
  }
  // Issue 14's bar, each figure against the baseline of this same run.
  notes.push(
    `issue 14, app vs baseline (same run): CPU per delivery ${f(app.serverCpuMicrosPerRequest, 1)} vs ${f(base.serverCpuMicrosPerRequest, 1)} µs = ×${f(ratio.serverCpuPerRequest, 2)} (aim ≤ ×3: ${ratio.serverCpuPerRequest <= 3 ? 'met' : 'NOT met'}); ` +
      `idle RSS per socket ${f(app.memory.rssPerSocket / 1024, 1)} vs ${f(base.memory.rssPerSocket / 1024, 1)} KB = ×${f(ratio.memoryPerSocket, 2)} (aim ≤ 20 KB: ${app.memory.rssPerSocket <= 20 * 1024 ? 'met' : 'NOT met'}); ` +
      `board p99 from the window's close ${f(app.boardLatencyFromWindowMs.p99)} vs ${f(base.boardLatencyFromWindowMs.p99)} ms = ×${f(ratio.boardP99FromWindow, 2)} (aim ≤ 100 ms: ${app.boardLatencyFromWindowMs.p99 <= 100 ? 'met' : 'NOT met'}); ` +
      `less the earnings' own CPU (${f(earnCpuMicros / 1000, 2)} ms each, measured alone) ${f(appFanoutMicrosPerDelivery, 1)} µs = ×${f(ratio.fanoutCpuPerDelivery, 2)}; ` +
      `board p99 from the commit ${f(app.boardLatencyMs.p99)} vs ${f(base.boardLatencyMs.p99)} ms = ×${f(ratio.boardP99FromCommit, 2)}; deliveries/s ×${f(ratio.reqPerSec, 2)}`,
  );
  notes.push(
    `aim (issue 5): deliveries/s ≥ 0.5 × baseline: ${f(ratio.reqPerSec, 2)} ${ratio.reqPerSec >= 0.5 ? 'met' : 'NOT met'} (both are offered the same load: see CPU per delivery for headroom, ×${f(ratio.serverCpuPerRequest, 1)}); ` +
      `p99 < 250 ms: ${f(app.latencyMs.p99)} ms ${app.latencyMs.p99 < 250 ? 'met' : 'NOT met'}; < 50 KB per idle connection: ${f(app.memory.rssPerSocket / 1024, 1)} KB RSS ${app.memory.rssPerSocket < 50 * 1024 ? 'met' : 'NOT met'}`,
  );
  const problems = [];
  for (const r of results) {
    if (r.socketsFailed) problems.push(`${r.target}: ${r.socketsFailed} sockets failed to open`);
    if (r.failedEarnings) problems.push(`${r.target}: ${r.failedEarnings} earnings failed: ${r.failures.slice(0, 3).join('; ')}`);
    if (r.balanceMissing) problems.push(`${r.target}: ${r.balanceMissing} balanceChanged events never arrived`);
    if (r.problems.closed)
      problems.push(`${r.target}: ${r.problems.closed} sockets closed by the server (codes ${JSON.stringify(r.problems.closeCodes)}): ${r.problems.firstErrors.slice(0, 3).join('; ')}`);
  }
  return {
    description,
    boardSockets: BOARD_SOCKETS,
    balanceSockets: BALANCE_SOCKETS,
    earnRate: EARN_RATE,
    clientProcesses: CLIENT_PROCESSES,
    queries: QUERIES,
    loadBefore,
    loadAfter,
    results,
    summary,
    ratio,
    notes,
    problems,
  };
}
