// The baseline for the members suite: what `{ me { nickname tier { name } balance } }` costs
// with no framework at all. Bare node:http + pg, the same JWT checks as the app (HS256 pinned,
// same secret, issuer, audience, exp required), one SQL statement, the same JSON out.
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import jwt from 'jsonwebtoken';
import { dist } from '../lib/dist.mjs';
import { serveUntilStopped } from '../lib/servers.mjs';

const config = dist('src/platform/config.js').loadConfig(process.env);
if (config.jwt.algorithm !== 'HS256') throw new Error('the baseline only does HS256');
// Parsed once: given a string, jsonwebtoken first tries (and fails) to parse it as a public key
// on every call, which costs ~0.5 ms of CPU per verification (auth0/node-jsonwebtoken#1046).
const key = createSecretKey(Buffer.from(config.jwt.key));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolMax });
pool.on('error', () => {});

const BEARER = /^Bearer\s+(\S+)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Tier = the tier held (member.tier_level, issue 17): the highest tier at or below that level.
// Balance = the contract's "spendable points now": the cached balance less lots past their expiry
// that the expiry job has not posted yet (src/ledger/ledger.sql.ts), as the app computes it; reading
// m.balance alone would be a different (sometimes wrong) answer, and less work than the app's.
const ME = `select m.nickname,
  greatest(0, m.balance - coalesce((select sum(l.remaining) from points_lot l
    where l.member_id = m.id and l.remaining > 0 and l.expires_at <= $2), 0))::int as balance,
  (select t.name from tier t where t.level <= m.tier_level order by t.level desc limit 1) as tier_name
  from member m where m.id = $1`;

function send(res, status, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const unauthenticated = (res) => send(res, 401, { errors: [{ message: 'A valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] });

function memberIdOf(header) {
  const match = BEARER.exec(header?.trim() ?? '');
  if (!match) return null;
  try {
    const claims = jwt.verify(match[1], key, { algorithms: ['HS256'], issuer: config.jwt.issuer, audience: config.jwt.audience });
    if (typeof claims !== 'object' || typeof claims.exp !== 'number') return null;
    if (claims.role !== 'member' || typeof claims.sub !== 'string' || !UUID.test(claims.sub)) return null;
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
      // Parsed, like any JSON API would; the operation itself is fixed.
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof payload?.query !== 'string') return send(res, 400, { errors: [{ message: 'query is required' }] });
    } catch {
      return send(res, 400, { errors: [{ message: 'body is not JSON' }] });
    }
    const memberId = memberIdOf(req.headers.authorization);
    if (!memberId) return unauthenticated(res);
    try {
      const { rows } = await pool.query(ME, [memberId, new Date()]);
      const row = rows[0];
      send(res, 200, { data: { me: row ? { nickname: row.nickname, tier: { name: row.tier_name }, balance: row.balance } : null } });
    } catch {
      send(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    }
  });
});

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
