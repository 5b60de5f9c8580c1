import 'reflect-metadata';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { RECONCILIATION_SQL } from '../../src/ledger/ledger.reconcile';
import { createDatabaseFromTemplate, dropDatabase } from './db';
import { spawnServer, type ServerProcess } from './server-process';
import { TcpProxy } from './tcp-proxy';
import { tokens } from './tokens';

/**
 * The fault scenarios, shared by the tests (test/faults/, small and asserted) and `npm run chaos`
 * (bench/chaos.ts, larger, printed as a table). Each runs the built server as a child process on
 * its own database (copied from the test template) and Redis prefix, on loopback only, bounded in
 * time and count, and checks PostgreSQL afterwards: every acknowledged operation present exactly
 * once, balances equal to what the clients were told, reconciliation clean, no lock left.
 */

export interface Tally {
  scenario: string;
  /** HTTP requests sent, retries included. */
  sent: number;
  /** Operations that ended in success (after retries). */
  succeeded: number;
  /** Requests that were retries of an operation (same orderId / idempotency key). */
  retried: number;
  /** Every failed response, by contract code or socket error (ECONNRESET, ECONNREFUSED, …). */
  failed: Record<string, number>;
  /** Postings or redemptions present more than once for one key, plus points over what clients were told. */
  duplicates: number;
  /** Acknowledged operations missing from the database, plus points under what clients were told. */
  lost: number;
  /** Rows the ledger reconciliation returns. */
  reconciliationOff: number;
  /** Locks or open transactions left in the database once the server stopped. */
  leftovers: number;
  /** Scenario-specific facts (exit code, shutdown time, close codes, …). */
  facts: Record<string, unknown>;
}

const newTally = (scenario: string): Tally => ({ scenario, sent: 0, succeeded: 0, retried: 0, failed: {}, duplicates: 0, lost: 0, reconciliationOff: 0, leftovers: 0, facts: {} });
const countFailure = (tally: Tally, code: string) => void (tally.failed[code] = (tally.failed[code] ?? 0) + 1);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP with keep-alive sockets, as a real client pool would send it.

export interface Reply {
  status?: number;
  data?: any;
  errors?: { message: string; extensions?: { code?: string; retryable?: boolean } }[];
  /** The server asked to close the connection after this response. */
  connectionClose?: boolean;
  /** A socket-level failure instead of a response (ECONNRESET, ECONNREFUSED, …). */
  socketError?: string;
}

export const outcomeOf = (reply: Reply): string =>
  reply.socketError ?? (reply.errors?.length ? String(reply.errors[0].extensions?.code ?? 'UNKNOWN') : reply.status === 200 ? 'OK' : `HTTP_${reply.status}`);

/** Failures a client may retry with the same key: the server said so, or the request may not have arrived. */
const retryable = (reply: Reply) => reply.socketError !== undefined || reply.errors?.[0]?.extensions?.retryable === true || reply.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE';

export function graphql(agent: http.Agent, url: string, query: string, variables: Record<string, unknown> = {}, token?: string, timeoutMs = 15_000): Promise<Reply> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ socketError: error.code ?? error.message }));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString()) as Reply;
            resolve({ ...parsed, status: res.statusCode, connectionClose: res.headers.connection === 'close' });
          } catch {
            resolve({ status: res.statusCode, socketError: 'BAD_BODY', connectionClose: res.headers.connection === 'close' });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ socketError: error.code ?? error.message }));
    req.end(body);
  });
}

const EARN = `mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points duplicate status } }`;
const REDEEM = `mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints redemption { id pointsSpent } } }`;

interface Fixture {
  members: { id: string; token: string }[];
  itemId: string;
  itemPrice: number;
  startingPoints: number;
}

/** Members with points, an item with plenty of stock, and risk limits out of the burst's way. */
async function prepare(agent: http.Agent, url: string, memberCount: number): Promise<Fixture> {
  const must = async (query: string, variables: Record<string, unknown>, token: string) => {
    const reply = await graphql(agent, url, query, variables, token);
    if (reply.errors || reply.socketError) throw new Error(`setup failed: ${JSON.stringify(reply.errors ?? reply.socketError)}`);
    return reply.data;
  };
  await must(`mutation { updateProgramSettings(input: { earnLimitPerHour: 100000, redeemLimitPer30Min: 100000 }) { earnLimitPerHour } }`, {}, tokens.admin());
  const item = await must(
    `mutation($input: CatalogItemInput!) { createCatalogItem(input: $input) { id } }`,
    { input: { sku: `CHAOS-${randomBytes(4).toString('hex')}`, name: '压测兑换券', category: 'chaos', type: 'VIRTUAL', pointsPrice: 10, stock: 1_000_000 } },
    tokens.admin(),
  );
  const startingPoints = 100_000;
  const members = [];
  for (let i = 0; i < memberCount; i++) {
    const mobile = `137${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}${String(i).padStart(4, '0')}`;
    const { registerMember } = await must(`mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }`, { input: { nickname: `压测${i}`, mobile } }, tokens.admin());
    await must(
      `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id } }`,
      { input: { memberId: registerMember.id, delta: startingPoints, reason: 'chaos fixture', idempotencyKey: `chaos-seed-${registerMember.id}` } },
      tokens.admin(),
    );
    members.push({ id: registerMember.id as string, token: tokens.member(registerMember.id) });
  }
  return { members, itemId: item.createCatalogItem.id, itemPrice: 10, startingPoints };
}

/** One client operation, identified by the key the client retries it with. */
interface Operation {
  kind: 'earn' | 'redeem';
  memberIndex: number;
  key: string;
  /** Points the client was told it moved (earn: +points; redeem: −pointsSpent), once acknowledged. */
  acknowledged?: number;
}

function send(agent: http.Agent, url: string, fixture: Fixture, op: Operation): Promise<Reply> {
  const member = fixture.members[op.memberIndex];
  return op.kind === 'earn'
    ? graphql(agent, url, EARN, { input: { memberId: member.id, orderId: op.key, amount: '10.00' } }, tokens.admin())
    : graphql(agent, url, REDEEM, { input: { itemId: fixture.itemId, idempotencyKey: op.key } }, member.token);
}

function acknowledge(op: Operation, reply: Reply) {
  op.acknowledged = op.kind === 'earn' ? reply.data.earnPoints.points : -reply.data.redeem.redemption.pointsSpent;
}

/** Sends `op` until it succeeds, retrying retryable failures with the same key, until `deadline`. */
async function untilDone(agent: http.Agent, url: () => string, fixture: Fixture, op: Operation, tally: Tally, deadline: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) tally.retried += 1;
    tally.sent += 1;
    const sentAt = Date.now();
    const reply = await send(agent, url(), fixture, op);
    if (outcomeOf(reply) === 'OK') {
      acknowledge(op, reply);
      tally.succeeded += 1;
      return;
    }
    countFailure(tally, outcomeOf(reply));
    // How long a failing request kept its client waiting: the bound the issue asks for.
    tally.facts.slowestFailureMs = Math.max(Number(tally.facts.slowestFailureMs ?? 0), Date.now() - sentAt);
    if (!retryable(reply) || Date.now() > deadline) return;
    await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
  }
}

// ---------------------------------------------------------------------------------------------
// The database's verdict.

async function withDb<T>(databaseUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Every acknowledged operation is in the ledger exactly once, and balances are what clients were told. */
async function audit(databaseUrl: string, database: string, fixture: Fixture, ops: Operation[], tally: Tally): Promise<void> {
  await withDb(databaseUrl, async (db) => {
    const earnKeys = ops.filter((o) => o.kind === 'earn').map((o) => o.key);
    const redeemKeys = ops.filter((o) => o.kind === 'redeem').map((o) => o.key);
    const purchases = await db.query<{ key: string; n: number }>(`select reference as key, count(*)::int as n from ledger_entry where type = 'PURCHASE' and reference = any($1) group by reference`, [
      earnKeys,
    ]);
    const redemptions = await db.query<{ key: string; n: number }>(`select idempotency_key as key, count(*)::int as n from redemption where idempotency_key = any($1) group by idempotency_key`, [
      redeemKeys,
    ]);
    const found = new Map([...purchases.rows, ...redemptions.rows].map((r) => [r.key, r.n]));
    for (const op of ops) {
      const n = found.get(op.key) ?? 0;
      if (n > 1) tally.duplicates += n - 1;
      if (op.acknowledged !== undefined && n === 0) tally.lost += 1;
    }
    const balances = await db.query<{ id: string; balance: number }>(`select id, balance from member where id = any($1)`, [fixture.members.map((m) => m.id)]);
    const told = new Map(fixture.members.map((m) => [m.id, fixture.startingPoints]));
    for (const op of ops) {
      const id = fixture.members[op.memberIndex].id;
      told.set(id, told.get(id)! + (op.acknowledged ?? 0));
    }
    let pointsOver = 0;
    let pointsUnder = 0;
    for (const { id, balance } of balances.rows) {
      const diff = balance - told.get(id)!;
      if (diff > 0) pointsOver += diff;
      if (diff < 0) pointsUnder -= diff;
    }
    tally.facts.pointsOver = pointsOver;
    tally.facts.pointsUnder = pointsUnder;
    if (pointsOver) tally.duplicates += 1;
    if (pointsUnder) tally.lost += 1;
    tally.reconciliationOff = (await db.query(RECONCILIATION_SQL)).rowCount ?? 0;
    const left = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
       where d.datname = $1 and l.pid <> pg_backend_pid()`,
      [database],
    );
    const open = await db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = $1 and state like 'idle in transaction%'`, [database]);
    tally.leftovers = left.rows[0].n + open.rows[0].n;
  });
}

// ---------------------------------------------------------------------------------------------
// Scenario plumbing: a database, a proxy in front of PostgreSQL, the server process.

interface Stage {
  database: string;
  databaseUrl: string;
  proxy: TcpProxy;
  redisPrefix: string;
  env: Record<string, string>;
  start(extra?: Record<string, string>): Promise<ServerProcess>;
  close(): Promise<void>;
}

async function stage(name: string, env: Record<string, string> = {}): Promise<Stage> {
  const database = `loyalty_chaos_${name}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = await createDatabaseFromTemplate(database);
  const proxy = await TcpProxy.start({ host: new URL(databaseUrl).hostname, port: Number(new URL(databaseUrl).port || 5432) });
  const redisPrefix = `chaos:${database}:`;
  const servers: ServerProcess[] = [];
  const base = { DATABASE_URL: proxy.via(databaseUrl), REDIS_PREFIX: redisPrefix, JOBS_ENABLED: 'false', LOG_LEVEL: 'warn', ...env };
  return {
    database,
    databaseUrl,
    proxy,
    redisPrefix,
    env: base,
    async start(extra = {}) {
      // spawnServer waits for the 'listening' line, logged at info.
      const server = await spawnServer({ ...base, LOG_LEVEL: 'info', ...extra });
      servers.push(server);
      return server;
    },
    async close() {
      for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      await Promise.all(servers.map((s) => s.exited));
      await proxy.close();
      await dropDatabase(database);
    },
  };
}

/** The server's http_requests_in_flight gauge. */
async function inFlightAt(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^http_requests_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
}

/** What the server logged as unexpected (masked as INTERNAL_SERVER_ERROR for the client). */
const unexpectedErrors = (server: ServerProcess) => server.logs.filter((l) => Number(l.level) >= 50).map((l) => String((l.err as { message?: string } | undefined)?.message ?? l.msg).slice(0, 160));

async function stopGracefully(server: ServerProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  server.child.kill('SIGTERM');
  const { code, at } = await server.exited;
  return { code, ms: at - started };
}

// ---------------------------------------------------------------------------------------------
// 1. PostgreSQL down and back under load.

export async function pgOutageScenario(options: { clients: number; durationMs: number; outageMs: number }): Promise<Tally> {
  const tally = newTally('PostgreSQL down under load');
  const st = await stage('outage', { DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_CONNECT_TIMEOUT_MS: '500' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  try {
    const server = await st.start();
    const fixture = await prepare(agent, server.url, options.clients);
    const ops: Operation[] = [];
    const started = Date.now();
    const end = started + options.durationMs;
    const outage = (async () => {
      await sleep(options.durationMs / 3);
      st.proxy.cut();
      await sleep(options.outageMs);
      st.proxy.restore();
    })();
    await Promise.all(
      fixture.members.map(async (_, memberIndex) => {
        for (let n = 0; Date.now() < end; n++) {
          const op: Operation = { kind: n % 2 ? 'redeem' : 'earn', memberIndex, key: `chaos-outage-${memberIndex}-${n}-${randomBytes(3).toString('hex')}` };
          ops.push(op);
          await untilDone(agent, () => server.url, fixture, op, tally, end + 10_000);
        }
      }),
    );
    await outage;
    tally.facts.operations = ops.length;
    tally.facts.notDone = ops.filter((o) => o.acknowledged === undefined).length;
    const stopped = await stopGracefully(server);
    tally.facts.exitCode = stopped.code;
    tally.facts.unexpectedErrors = unexpectedErrors(server);
    await audit(st.databaseUrl, st.database, fixture, ops, tally);
    return tally;
  } finally {
    agent.destroy();
    await st.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. SIGTERM with requests in flight and kept-alive sockets about to send more.

export async function sigtermScenario(options: { inFlight: number; late: number; graceMs: number }): Promise<Tally> {
  const tally = newTally('SIGTERM under load');
  // One pooled connection per request, so every request in flight has bytes held in the proxy.
  // Connections opened while the proxy stalls wait for it: the connect timeout is not what is tested here.
  const st = await stage('sigterm', { DATABASE_POOL_MAX: String(options.inFlight), DATABASE_CONNECT_TIMEOUT_MS: '15000', SHUTDOWN_GRACE_MS: String(options.graceMs) });
  const busy = new http.Agent({ keepAlive: true, maxSockets: options.inFlight });
  const idle = new http.Agent({ keepAlive: true, maxSockets: options.late });
  try {
    const server = await st.start();
    // Ten members, so the requests in flight do not all queue on one member's row lock.
    const fixture = await prepare(busy, server.url, 10);
    const member = fixture.members[0];
    // Kept-alive sockets, idle at the signal; their clients send again right after it.
    await Promise.all(Array.from({ length: options.late }, () => graphql(idle, server.url, '{ __typename }', {}, tokens.admin())));
    // A live subscription: it must be told 1001 (going away) and not just dropped.
    const socket = new WebSocket(server.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${member.token}` } })));
      socket.once('message', () => resolve());
      socket.once('error', reject);
    });

    // Requests that need PostgreSQL are held in flight: the proxy stalls until after the signal.
    st.proxy.stall();
    const ops: Operation[] = Array.from({ length: options.inFlight }, (_, i) => ({
      kind: i % 2 ? 'redeem' : 'earn',
      memberIndex: i % fixture.members.length,
      key: `chaos-term-${i}-${randomBytes(3).toString('hex')}`,
    }));
    const inFlight = ops.map(async (op) => {
      tally.sent += 1;
      const reply = await send(busy, server.url, fixture, op);
      if (outcomeOf(reply) === 'OK') {
        acknowledge(op, reply);
        tally.succeeded += 1;
      } else countFailure(tally, outcomeOf(reply));
      return reply;
    });
    // In flight: the server has received every one of them (its own gauge says so) and waits on PostgreSQL.
    for (const deadline = Date.now() + 10_000; (await inFlightAt(server.url)) < options.inFlight && Date.now() < deadline;) await sleep(20);
    tally.facts.inFlightAtSignal = await inFlightAt(server.url);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await sleep(50);
    const late = Array.from({ length: options.late }, async () => {
      tally.sent += 1;
      const reply = await graphql(idle, server.url, '{ __typename }', {}, tokens.admin());
      if (outcomeOf(reply) === 'OK') tally.succeeded += 1;
      else countFailure(tally, outcomeOf(reply));
      return reply;
    });
    const lateReplies = await Promise.all(late);
    // The listener is closed while requests are still running: a new connection is refused, not accepted and dropped.
    const fresh = await graphql(new http.Agent({ keepAlive: false }), server.url, '{ __typename }', {}, tokens.admin(), 2000);
    tally.facts.stillInFlightAtRestore = st.proxy.heldChunks > 0;
    st.proxy.restore();
    const replies = await Promise.all(inFlight);
    const { code, at } = await server.exited;
    tally.facts.slowestInFlightMs = Math.max(0, ...server.logs.filter((l) => l.msg === 'request').map((l) => Math.round(Number(l.ms))));
    Object.assign(tally.facts, {
      exitCode: code,
      shutdownMs: at - signalledAt,
      wsCloseCode: await closed,
      lateAnsweredWithConnectionClose: lateReplies.filter((r) => r.connectionClose).length,
      inFlightAnsweredWithConnectionClose: replies.filter((r) => r.connectionClose).length,
      newConnectionAfterSignal: outcomeOf(fresh),
    });
    await audit(st.databaseUrl, st.database, fixture, ops, tally);
    return tally;
  } finally {
    busy.destroy();
    idle.destroy();
    await st.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. kill -9 in the middle of a burst of redemptions and earnings, restart, retry everything.

/** `killAfter`: the process is killed once this many operations were answered (so it dies mid-burst whatever the machine's speed). */
export async function crashScenario(options: { clients: number; opsPerClient: number; killAfter: number }): Promise<Tally> {
  const tally = newTally('kill -9 mid-burst, restart, retry');
  const st = await stage('crash');
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  try {
    let server = await st.start();
    const fixture = await prepare(agent, server.url, options.clients);
    const ops: Operation[] = fixture.members.flatMap((_, memberIndex) =>
      Array.from({ length: options.opsPerClient }, (__, n) => ({
        kind: n % 2 ? ('redeem' as const) : ('earn' as const),
        memberIndex,
        key: `chaos-crash-${memberIndex}-${n}-${randomBytes(3).toString('hex')}`,
      })),
    );
    // The burst: every client sends its operations one after another; the process dies meanwhile.
    let killed = false;
    let answered = 0;
    let enoughAnswered!: () => void;
    const killTime = new Promise<void>((resolve) => (enoughAnswered = resolve));
    const burst = Promise.all(
      fixture.members.map(async (_, memberIndex) => {
        for (const op of ops.filter((o) => o.memberIndex === memberIndex)) {
          if (killed) return;
          tally.sent += 1;
          const reply = await send(agent, server.url, fixture, op);
          if (outcomeOf(reply) === 'OK') {
            acknowledge(op, reply);
            if (++answered === options.killAfter) enoughAnswered();
          } else countFailure(tally, outcomeOf(reply));
        }
      }),
    );
    // Woken by the killAfter-th answer itself (or by the burst ending short of it), not by polling.
    await Promise.race([killTime, burst]);
    killed = true;
    server.child.kill('SIGKILL');
    await Promise.all([burst, server.exited]);
    tally.facts.acknowledgedBeforeCrash = ops.filter((o) => o.acknowledged !== undefined).length;
    const toldBefore = new Map(ops.map((o) => [o.key, o.acknowledged]));

    // Restart on the same database and Redis; every client retries every operation with its key.
    server = await st.start();
    await Promise.all(
      fixture.members.map(async (_, memberIndex) => {
        for (const op of ops.filter((o) => o.memberIndex === memberIndex)) {
          const before = toldBefore.get(op.key);
          // Every operation is sent again after the restart: a client cannot know what the crash kept.
          tally.retried += 1;
          await untilDone(agent, () => server.url, fixture, op, tally, Date.now() + 15_000);
          // A retry of an acknowledged operation must return what the first answer said.
          if (before !== undefined && op.acknowledged !== before) tally.duplicates += 1;
        }
      }),
    );
    tally.facts.operations = ops.length;
    const stopped = await stopGracefully(server);
    tally.facts.exitCode = stopped.code;
    await audit(st.databaseUrl, st.database, fixture, ops, tally);
    tally.facts.notDone = ops.filter((o) => o.acknowledged === undefined).length;
    return tally;
  } finally {
    agent.destroy();
    await st.close();
  }
}

/** The table `npm run chaos` prints. */
export function formatTallies(tallies: Tally[]): string {
  const codes = [...new Set(tallies.flatMap((t) => Object.keys(t.failed)))].sort();
  const header = ['scenario', 'sent', 'succeeded', 'retried', 'failed by code', 'duplicates', 'lost', 'reconciliation rows off', 'locks left'];
  const rows = tallies.map((t) => [
    t.scenario,
    String(t.sent),
    String(t.succeeded),
    String(t.retried),
    codes
      .filter((c) => t.failed[c])
      .map((c) => `${c}: ${t.failed[c]}`)
      .join(', ') || '—',
    String(t.duplicates),
    String(t.lost),
    String(t.reconciliationOff),
    String(t.leftovers),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
