// The physical-limit baseline of the redeem suite: what this machine's PostgreSQL does when a
// request is ONE statement on ONE hot row. Bare node:http + pg.Pool (the app's pool size), the
// same JWT check as the other baselines (a member token), and per request one autocommitted
//   update bench_hot_row set stock = stock - 1 where id = $1 and stock > 0 returning stock
// answered in the shape of the app's `redeem` payload (so the suite's body check applies). It
// tells how far the redemption's design (statements, round trips, locks) is from the floor, which
// the same-statement baseline (redeem-baseline.mjs) cannot: it pays for the same design.
// The suite creates the table (in the baseline's database, outside everything it checks).
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import jwt from 'jsonwebtoken';
import { dist } from '../lib/dist.mjs';
import { serveUntilStopped } from '../lib/servers.mjs';

const config = dist('src/platform/config.js').loadConfig(process.env);
if (config.jwt.algorithm !== 'HS256') throw new Error('the baseline only does HS256');
const key = createSecretKey(Buffer.from(config.jwt.key));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolMax });
pool.on('error', () => {});

const HOT_ROW_ID = 1;
const TAKE = { name: 'hot-row-take', text: 'update bench_hot_row set stock = stock - 1 where id = $1 and stock > 0 returning stock' };
const BEARER = /^Bearer\s+(\S+)$/i;
let served = 0;

function send(res, status, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function memberOf(header) {
  const match = BEARER.exec(header?.trim() ?? '');
  if (!match) return null;
  try {
    const claims = jwt.verify(match[1], key, { algorithms: ['HS256'], issuer: config.jwt.issuer, audience: config.jwt.audience });
    if (typeof claims !== 'object' || typeof claims.exp !== 'number' || claims.role !== 'member' || typeof claims.sub !== 'string') return null;
    return claims.sub;
  } catch {
    return null;
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { errors: [{ message: 'body is not JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    if (!memberOf(req.headers.authorization)) return send(res, 401, { errors: [{ message: 'A valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] });
    try {
      const { rows } = await pool.query(TAKE, [HOT_ROW_ID]);
      if (!rows[0]) return send(res, 200, { errors: [{ message: 'Not enough stock', extensions: { code: 'OUT_OF_STOCK' } }], data: null });
      served++;
      send(res, 200, { data: { redeem: { remainingPoints: rows[0].stock, redemption: { id: String(served), status: 'COMPLETED' } } } });
    } catch (error) {
      process.stderr.write(`hot-row baseline: ${error?.stack ?? error}\n`);
      send(res, 200, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }], data: null });
    }
  });
});

// Every pooled connection opened before the server says it is ready: on a PostgreSQL shared with
// other benches, a connection opened mid-run can meet "too many clients" (seen on 2026-11-30).
await Promise.all(Array.from({ length: config.databasePoolMax }, () => pool.connect())).then((clients) => clients.forEach((c) => c.release()));

server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  serveUntilStopped(`http://127.0.0.1:${server.address().port}`, async () => {
    await new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await pool.end();
  });
});
