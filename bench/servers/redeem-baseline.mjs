// The baseline for the redeem suite: what `redeem` costs with no framework at all. Bare
// node:http + pg.Pool + ioredis, the same JWT checks as the app (a member token), and the same
// SQL statements, in the same order and in the same transactions, as
// src/catalog/redemption.service.ts `redeem` (through ledger.service.ts inTransaction and
// ledger.writer.ts lockMember/debit; the SQL modules' statements are imported from dist/), then the same after-commit
// Redis work (balance event PUBLISH; a REDEMPTION scores on no board; coalesced LEDGER_MOVED).
// Only the VIRTUAL path the bench drives is implemented (no coupons, VIP, shipping address);
// the suite checks on every run that both servers send the same statements (lib/sql-trace.mjs).
import { createSecretKey, randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import jwt from 'jsonwebtoken';
import { dist, projectRequire } from '../lib/dist.mjs';
import { serveUntilStopped } from '../lib/servers.mjs';
import { installSqlTrace } from '../lib/sql-trace.mjs';

installSqlTrace();

const config = dist('src/platform/config.js').loadConfig(process.env);
if (config.jwt.algorithm !== 'HS256') throw new Error('the baseline only does HS256');
const { isAvailable, redeemFingerprint } = dist('src/catalog/catalog.rules.js');
const { boardIncrements } = dist('src/leaderboard/leaderboard.rules.js');
const { balanceEvent } = dist('src/ledger/ledger.topics.js');
const { localDate } = dist('src/platform/time.js');
const { HISTORY_LIMIT } = dist('src/recommendations/recommendation.rules.js');
const { DEBIT_SQL } = dist('src/ledger/ledger.sql.js');
const { REDEEM_READ_SQL, INSERT_REDEMPTION_SQL } = dist('src/catalog/redemption.sql.js');
/** `?` → `$1`, `$2` … (the app's statements inline their values; a pg server binds them). */
function numbered(sql) {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
const { Redis } = projectRequire('ioredis');

const key = createSecretKey(Buffer.from(config.jwt.key));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolMax });
pool.on('error', () => {});
const redisOptions = { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 200, 2000) };
const command = new Redis(config.redisUrl, { ...redisOptions, keyPrefix: config.redisPrefix, enableOfflineQueue: false, commandTimeout: 1000 });
const publisher = new Redis(config.redisUrl, { ...redisOptions, enableOfflineQueue: false });
for (const client of [command, publisher]) client.on('error', () => {});
await Promise.all([command.connect(), publisher.connect()]);

const REDEEM = 'mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints redemption { id status } } }';
const BEARER = /^Bearer\s+(\S+)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_MAX = 128;

// ---- the statements (the app's text, literals → `$n`) ---------------------------------------
const SQL = {
  lockMember: `select id, status, balance, lifetime_earned, points_debt, total_spend, tier_level, segment,
              exists (select 1 from points_lot l where l.member_id = member.id and l.remaining > 0 and l.expires_at <= $1) as has_due
       from member where id = $2 for update`,
  expireDue: `with due as (
         select id, member_id, remaining from points_lot
         where member_id in (select jsonb_array_elements_text($1::jsonb)::uuid) and remaining > 0 and expires_at <= $2
         order by id for update
       )
       update points_lot p set remaining = 0, expired_at = $3 from due where p.id = due.id
       returning due.id, due.member_id, due.remaining`,
  // The app's own statements, from dist/ (their `?` numbered as pg binds).
  read: numbered(REDEEM_READ_SQL),
  previous: 'select "r0".* from "redemption" as "r0" where "r0"."id" = $1 limit 1',
  debit: numbered(DEBIT_SQL),
  insertRedemption: numbered(INSERT_REDEMPTION_SQL),
  notification: `insert into notification (id, member_id, kind, title, body, data, created_at)
       select gen_random_uuid(), n.member_id, n.kind, n.title, n.body, n.data, $1 from jsonb_to_recordset($2::jsonb) as n(member_id uuid, kind text, title text, body text, data jsonb)`,
  // The recommendations' hook (RedemptionHooks.recorded, recommendation.service.ts recordRedemption).
  recRedemption: `with daily as (
         insert into rec_item_daily (item_id, day, redemptions) values ($1, $2, 1)
         on conflict (day, item_id) do update set redemptions = rec_item_daily.redemptions + 1),
       first as (
         insert into rec_member_item (member_id, item_id, first_at) values ($3, $4, $5) on conflict do nothing returning item_id),
       redeemers as (
         insert into rec_item_redeemers (item_id, members) select item_id, 1 from first
         on conflict (item_id) do update set members = rec_item_redeemers.members + 1),
       others as (
         select item_id from rec_member_item where member_id = $6 and item_id <> $7 and exists (select 1 from first)
         order by first_at desc, item_id limit $8)
       insert into rec_co_redemption (item_id, other_item_id, members)
       select a, b, 1 from (select $9::uuid as a, item_id as b from others union all select item_id, $10::uuid from others) p order by a, b
       on conflict (item_id, other_item_id) do update set members = rec_co_redemption.members + 1`,
  takeStock: 'update catalog_item set stock = stock - $1, updated_at = $2 where id = $3 and stock >= $4 returning stock',
};

class Refusal extends Error {
  constructor(code, message, details = {}, status = 200) {
    super(message);
    this.code = code;
    this.details = details;
    this.status = status;
  }
}
const badInput = (message, field) => new Refusal('BAD_USER_INPUT', message, field ? { field } : {});

function send(res, status, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
const sendError = (res, e, path) => send(res, e.status, { errors: [{ message: e.message, ...(path ? { path: [path] } : {}), extensions: { ...e.details, code: e.code } }], data: null });

function principalOf(header) {
  const match = BEARER.exec(header?.trim() ?? '');
  if (!match) return null;
  try {
    const claims = jwt.verify(match[1], key, { algorithms: ['HS256'], issuer: config.jwt.issuer, audience: config.jwt.audience });
    if (typeof claims !== 'object' || typeof claims.exp !== 'number' || typeof claims.sub !== 'string' || !claims.sub) return null;
    if (!['member', 'admin', 'partner'].includes(claims.role)) return null;
    if (claims.role === 'member' && !UUID.test(claims.sub)) return null;
    if (claims.role === 'partner' && typeof claims.partnerId !== 'string') return null;
    return { role: claims.role, subject: claims.sub };
  } catch {
    return null;
  }
}

// ---- the writer: one pg client inside BEGIN … COMMIT ------------------------------------------
async function inTransaction(work) {
  const now = new Date();
  const client = await pool.connect();
  const posted = [];
  const w = { now, posted, q: async (sql, params) => (await client.query(sql, params)).rows };
  let result;
  try {
    await client.query('BEGIN');
    result = await work(w);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
    throw error;
  }
  client.release();
  committed(posted);
  return result;
}

async function lockMember(w, memberId) {
  const [row] = await w.q(SQL.lockMember, [w.now, memberId]);
  if (!row) throw new Refusal('NOT_FOUND', `Member ${memberId} not found`, { id: memberId });
  if (row.has_due) throw new Error('the baseline does not expire lots (the bench seeds none due)');
  return { id: row.id, status: row.status, balance: row.balance, lifetimeEarned: row.lifetime_earned, pointsDebt: row.points_debt, totalSpend: row.total_spend };
}

/** LedgerWriter.debit: one statement (DEBIT_SQL). */
async function debit(w, member, f) {
  const [row] = await w.q(SQL.debit, [
    member.id,
    w.now,
    null,
    f.points,
    f.points,
    f.points,
    member.id,
    f.type,
    member.balance,
    f.reference,
    f.source,
    f.description,
    w.now,
    w.now,
    null,
    f.points,
    false,
    member.lifetimeEarned,
    member.pointsDebt,
    member.totalSpend,
    w.now,
  ]);
  if (row.entry_id == null) {
    throw new Refusal('INSUFFICIENT_POINTS', `Not enough points: ${f.points} needed, ${member.balance} available`, { needed: f.points, available: member.balance });
  }
  const { entry_id: _, covered, ...entry } = row;
  member.balance -= covered;
  w.posted.push(entry);
  return entry;
}

// ---- after commit: the same Redis work as LedgerEvents + LeaderboardStore.record ------------
let movedTimer = null;
function committed(posted) {
  if (posted.length === 0) return;
  for (const entry of posted) publisher.publish(`${config.redisPrefix}BALANCE:${entry.member_id}`, JSON.stringify(balanceEvent(entry))).catch(() => {});
  const moved = () => {
    if (movedTimer) return;
    movedTimer = setTimeout(() => {
      movedTimer = null;
      publisher.publish(`${config.redisPrefix}LEDGER_MOVED`, '{}').catch(() => {});
    }, 100);
    movedTimer.unref();
  };
  if (boardIncrements(posted, config.timeZone).size > 0) throw new Error('a redemption scored on a board: the baseline does not expect that');
  moved();
}

async function redeem(principal, input) {
  if (principal.role !== 'member') throw new Refusal('FORBIDDEN', 'You may not do this');
  const memberId = principal.subject;
  const quantity = input?.quantity ?? 1;
  if (!Number.isInteger(quantity) || quantity < 1) throw badInput('quantity must be at least 1', 'quantity');
  const idKey = typeof input?.idempotencyKey === 'string' ? input.idempotencyKey.trim() : '';
  if (!idKey || idKey.length > KEY_MAX) throw badInput(`idempotencyKey must be 1 to ${KEY_MAX} characters`, 'idempotencyKey');
  const itemId = String(input?.itemId ?? '');
  if (!UUID.test(itemId)) throw new Refusal('NOT_FOUND', `Catalog item ${itemId} not found`, { id: itemId });
  if (input.shippingAddress != null) throw badInput('the baseline only redeems VIRTUAL items', 'shippingAddress');
  const fingerprint = redeemFingerprint(itemId, quantity, null);

  const result = await inTransaction(async (w) => {
    const member = await lockMember(w, memberId);
    const [row] = await w.q(SQL.read, [itemId, itemId, new Date(w.now.getTime() - 30 * 60_000), memberId, memberId, idKey]);
    if (row.previous_id) {
      if (row.previous_hash !== fingerprint) throw new Refusal('CONFLICT', 'This idempotencyKey was already used for another redemption', { idempotencyKey: idKey });
      const [previous] = await w.q(SQL.previous, [row.previous_id]);
      return { result: { id: previous.id, status: previous.status }, remainingPoints: member.balance };
    }
    if (member.status === 'FROZEN') throw new Refusal('MEMBER_FROZEN', 'This member is frozen', { memberId });
    if (!row.id) throw new Refusal('NOT_FOUND', `Catalog item ${itemId} not found`, { id: itemId });
    const item = { ...row, availableFrom: row.available_from, availableUntil: row.available_until };
    if (!isAvailable(item, w.now)) throw new Refusal('ITEM_UNAVAILABLE', 'This item cannot be redeemed now', { itemId });
    if (item.type !== 'VIRTUAL') throw new Error('the baseline only redeems VIRTUAL items');
    // The program's two limits come with the read (REDEEM_READ_SQL), as in the app.
    const { max_quantity_per_redemption: maxQuantity, redeem_limit_per_30min: rateLimit } = row;
    if (quantity > maxQuantity) throw new Refusal('LIMIT_EXCEEDED', `At most ${maxQuantity} units per redemption`, { limit: maxQuantity });
    const { used, recent } = row;
    if (item.per_member_limit != null && used + quantity > item.per_member_limit) {
      throw new Refusal('LIMIT_EXCEEDED', `At most ${item.per_member_limit} per member (${used} already redeemed)`, { limit: item.per_member_limit });
    }
    if (recent >= rateLimit) throw new Refusal('RATE_LIMITED', `More than ${rateLimit} redemptions in 30 minutes; try again later`, { limit: rateLimit });
    const cost = item.points_price * quantity;
    if (member.balance < cost) throw new Refusal('INSUFFICIENT_POINTS', `Not enough points: ${cost} needed, ${member.balance} available`, { needed: cost, available: member.balance });
    if (item.stock < quantity) throw new Refusal('OUT_OF_STOCK', `Not enough stock (${item.stock} left)`, { itemId, stock: item.stock });

    const redemptionId = randomUUID();
    const entry = await debit(w, member, {
      type: 'REDEMPTION',
      points: cost,
      reference: redemptionId,
      source: `member:${memberId}`,
      description: `兑换 ${item.name} ×${quantity}`,
    });
    const cashDue = item.cash_price == null ? null : (Number(item.cash_price) * quantity).toFixed(2);
    await w.q(SQL.insertRedemption, [w.now, memberId, redemptionId, memberId, item.id, quantity, cost, cashDue, 'COMPLETED', null, entry.id, idKey, fingerprint, null, null, w.now]);
    await w.q(SQL.notification, [
      w.now,
      JSON.stringify([
        {
          member_id: memberId,
          kind: 'REDEMPTION',
          title: '兑换成功',
          body: `您已使用${cost}积分兑换「${item.name}」×${quantity}。`,
          data: { redemptionId, itemId: item.id, quantity, points: cost },
        },
      ]),
    ]);
    await w.q(SQL.recRedemption, [item.id, localDate(w.now, config.timeZone), memberId, item.id, w.now, memberId, item.id, HISTORY_LIMIT * 2, item.id, item.id]);
    const [stock] = await w.q(SQL.takeStock, [quantity, w.now, item.id, quantity]);
    if (!stock) throw new Refusal('OUT_OF_STOCK', 'Not enough stock (0 left)', { itemId, stock: 0 });
    return { result: { id: redemptionId, status: 'COMPLETED' }, remainingPoints: member.balance };
  });
  // remainingPoints is the balance the transaction left (the app reads the member only when the payload's member is asked for).
  return { data: { redeem: { remainingPoints: result.remainingPoints, redemption: result.result } } };
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    let payload;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { errors: [{ message: 'body is not JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    if (payload?.query !== REDEEM) return send(res, 400, { errors: [{ message: 'the baseline knows only the bench operation', extensions: { code: 'BAD_USER_INPUT' } }] });
    const principal = principalOf(req.headers.authorization);
    if (!principal) return send(res, 401, { errors: [{ message: 'A valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] });
    try {
      send(res, 200, await redeem(principal, payload.variables?.input));
    } catch (error) {
      if (error instanceof Refusal) return sendError(res, error, 'redeem');
      process.stderr.write(`redeem baseline: ${error?.stack ?? error}\n`);
      send(res, 200, { errors: [{ message: 'Internal server error', path: ['redeem'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }], data: null });
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
    await Promise.all([command, publisher].map((c) => c.quit().catch(() => c.disconnect())));
  });
});
