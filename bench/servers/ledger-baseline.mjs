// The baseline for the ledger suite: what earnPoints and adjustPoints (a spend: negative delta)
// cost with no framework at all. Bare node:http + pg.Pool + ioredis, the same JWT checks as the
// app, and for each operation the same SQL statements, in the same order and in the same
// transactions, as src/ledger/ledger.service.ts + ledger.writer.ts run (captured from the app's
// own connection and listed in bench/README.md), then the same after-commit Redis work (balance
// event PUBLISH, leaderboard ZINCRBY pipeline, coalesced LEDGER_MOVED) and the same JSON out.
//
// What it does not have: GraphQL (the operation is recognised by its exact text), express,
// Apollo, type-graphql, MikroORM (no entities, no identity map, no hydration), logging,
// metrics. Business arithmetic that is not "stack" is reused from the app's pure functions in
// dist/ (points formula, rule matching, tier choice, lot allocation, board keys), so both
// sides compute exactly the same numbers.
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import jwt from 'jsonwebtoken';
import { Decimal } from 'decimal.js';
import { dist, projectRequire } from '../lib/dist.mjs';
import { serveUntilStopped } from '../lib/servers.mjs';
import { installSqlTrace } from '../lib/sql-trace.mjs';

installSqlTrace(); // with BENCH_SQL_TRACE=1 the suite checks that these are the app's statements

const config = dist('src/platform/config.js').loadConfig(process.env);
if (config.jwt.algorithm !== 'HS256') throw new Error('the baseline only does HS256');
const { purchasePoints, ruleApplies, allocate, expiryFor, moneyProblem } = dist('src/ledger/ledger.rules.js');
const { tierFor } = dist('src/members/member.rules.js');
const { boardIncrements } = dist('src/leaderboard/leaderboard.rules.js');
const { balanceEvent } = dist('src/ledger/ledger.topics.js');
const { Redis } = projectRequire('ioredis');

const key = createSecretKey(Buffer.from(config.jwt.key));
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolMax });
pool.on('error', () => {});
// The same three clients as src/platform/redis.ts: commands (key prefix), publisher, and no subscriber (nothing listens here).
const redisOptions = { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 200, 2000) };
const command = new Redis(config.redisUrl, { ...redisOptions, keyPrefix: config.redisPrefix, enableOfflineQueue: false, commandTimeout: 1000 });
const publisher = new Redis(config.redisUrl, { ...redisOptions, enableOfflineQueue: false });
for (const client of [command, publisher]) client.on('error', () => {});
await Promise.all([command.connect(), publisher.connect()]);

const EARN = 'mutation($input: EarnPointsInput!) { earnPoints(input: $input) { points status member { balance } } }';
const SPEND = 'mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { delta balanceAfter } }';
const BEARER = /^Bearer\s+(\S+)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_MAX = 128;
const TEXT_MAX = 500;
const CLOCK_SKEW_MS = 5 * 60_000;
const MAX_ADJUSTMENT = 10_000_000;
const DAY_MS = 86_400_000;

// ---- the statements (the app's text, `?` → `$n`) -------------------------------------------
const SQL = {
  settings: `select points_per_currency_unit::text as "pointsPerCurrencyUnit", validity_days as "validityDays", reminder_days as "reminderDays",
         earn_limit_per_hour as "earnLimitPerHour", review_threshold_amount::text as "reviewThresholdAmount",
         redeem_limit_per_30min as "redeemLimitPer30Min", max_quantity_per_redemption as "maxQuantityPerRedemption",
         referral_inviter_points as "referralInviterPoints", referral_invitee_points as "referralInviteePoints"
  from program_settings where id = 1`,
  tiers: `select id, level, name, min_spend::text as "minSpend", multiplier::text as multiplier, benefits from tier order by level`,
  rules: `select multiplier::text as multiplier, bonus_points as "bonusPoints", starts_at as "startsAt", ends_at as "endsAt", weekdays, categories,
              first_order_only as "firstOrderOnly", min_tier_level as "minTierLevel", active
       from earning_rule where active`,
  lockMember: 'select id, status, balance, lifetime_earned, points_debt, total_spend from member where id = $1 for update',
  expireDue: `with due as (
         select id, member_id, remaining from points_lot
         where member_id in (select jsonb_array_elements_text($1::jsonb)::uuid) and remaining > 0 and expires_at <= $2
         order by id for update
       )
       update points_lot p set remaining = 0, expired_at = $3 from due where p.id = due.id
       returning due.id, due.member_id, due.remaining`,
  expiryEntries: `with sums as (select * from jsonb_to_recordset($1::jsonb) as s(member_id uuid, points int)),
       m as (update member set balance = member.balance - sums.points, updated_at = $2 from sums where member.id = sums.member_id returning member.id, member.balance)
       insert into ledger_entry (member_id, type, status, delta, balance_after, source, description, created_at, posted_at)
       select m.id, 'EXPIRY', 'POSTED', -sums.points, m.balance, 'system:expiry', '积分过期: ' || sums.points || ' 积分', $3, $4
       from m join sums on sums.member_id = m.id
       returning *`,
  expiryAllocations: `insert into lot_allocation (entry_id, lot_id, amount) select a.entry_id, a.lot_id, a.amount from jsonb_to_recordset($1::jsonb) as a(entry_id bigint, lot_id bigint, amount int)`,
  purchase: 'select * from purchase where partner_id = $1 and order_id = $2',
  entryById: 'select * from ledger_entry where id = $1',
  recent: `select count(*)::int as recent from purchase p join ledger_entry e on e.id = p.entry_id
           where p.member_id = $1 and p.partner_id = $2 and p.created_at > $3 and e.status <> 'REJECTED'`,
  firstOrder: 'select not exists (select 1 from purchase where member_id = $1) as first_order',
  insertEntry: `insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at, idempotency_key)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning *`,
  insertLot: 'insert into points_lot (member_id, entry_id, amount, remaining, expires_at) values ($1, $2, $3, $4, $5) returning id',
  saveMember: 'update member set balance = $1, lifetime_earned = $2, points_debt = $3, total_spend = $4, updated_at = $5 where id = $6',
  insertPurchase: 'insert into purchase (partner_id, order_id, member_id, amount, category, occurred_at, entry_id, points, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
  touchMember: 'update member set last_active_at = $1 where id = $2',
  runningChallenges: 'select id, code, name, metric, target, reward_points from challenge where starts_at <= $1 and ends_at > $2',
  notification: `insert into notification (id, member_id, kind, title, body, data, created_at)
       select gen_random_uuid(), n.member_id, n.kind, n.title, n.body, n.data, $1 from jsonb_to_recordset($2::jsonb) as n(member_id uuid, kind text, title text, body text, data jsonb)`,
  adjustment: `select * from ledger_entry where type = 'ADJUSTMENT' and idempotency_key = $1`,
  debitLots: `select id, remaining from points_lot
           where member_id = $1 and remaining > 0 and (expires_at is null or expires_at > $2)
           order by coalesce(id = $3, false) desc, expires_at asc nulls last, id asc
           for update`,
  takeFromLots: `update points_lot p set remaining = p.remaining - a.amount
         from jsonb_to_recordset($1::jsonb) as a(lot_id bigint, amount int) where p.id = a.lot_id`,
  allocations: `insert into lot_allocation (entry_id, lot_id, amount) select $1, a.lot_id, a.amount from jsonb_to_recordset($2::jsonb) as a(lot_id bigint, amount int)`,
  // The payload's member (src/members/member.loaders.ts MEMBER_RECORDS), read after commit.
  memberRecord: `
  select m.id, m.external_id as "externalId", m.nickname, m.mobile, m.status, m.total_spend as "totalSpend",
         greatest(0, m.balance - coalesce((select sum(l.remaining) from points_lot l
           where l.member_id = m.id and l.remaining > 0 and l.expires_at <= $1), 0))::int as balance,
         m.lifetime_earned as "lifetimeEarned", m.invite_code as "inviteCode", m.language,
         m.joined_at as "joinedAt", m.last_active_at as "lastActiveAt"
  from member m where m.id in (select jsonb_array_elements_text($2::jsonb)::uuid)`,
};

// ---- errors as the app formats them -----------------------------------------------------------
class Refusal extends Error {
  constructor(code, message, details = {}, status = 200) {
    super(message);
    this.code = code;
    this.details = details;
    this.status = status;
  }
}
const badInput = (message, field) => new Refusal('BAD_USER_INPUT', message, field ? { field } : {});
const memberNotFound = (id) => new Refusal('NOT_FOUND', `Member ${id} not found`, { id });

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
    return { role: claims.role, subject: claims.sub, partnerId: claims.role === 'partner' ? claims.partnerId : null };
  } catch {
    return null;
  }
}
const sourceOf = (p) => `${p.role}:${p.partnerId ?? p.subject}`;

function requireText(value, field, max = TEXT_MAX) {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > max) throw badInput(`${field} must be 1 to ${max} characters`, field);
  return text;
}

// ---- the writer: one pg client inside BEGIN … COMMIT ------------------------------------------
async function inTransaction(work) {
  const now = new Date();
  const client = await pool.connect();
  const posted = [];
  const w = { client, now, posted, q: async (sql, params) => (await client.query(sql, params)).rows };
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
  const [row] = await w.q(SQL.lockMember, [memberId]);
  if (!row) throw memberNotFound(memberId);
  const member = { id: row.id, status: row.status, balance: row.balance, lifetimeEarned: row.lifetime_earned, pointsDebt: row.points_debt, totalSpend: row.total_spend };
  const lots = await w.q(SQL.expireDue, [JSON.stringify([member.id]), w.now, w.now]);
  if (lots.length) {
    const points = lots.reduce((sum, l) => sum + l.remaining, 0);
    const entries = await w.q(SQL.expiryEntries, [JSON.stringify([{ member_id: member.id, points }]), w.now, w.now, w.now]);
    await w.q(SQL.expiryAllocations, [JSON.stringify(lots.map((l) => ({ entry_id: entries[0].id, lot_id: l.id, amount: l.remaining })))]);
    w.posted.push(...entries);
    member.balance -= points;
  }
  return member;
}

const saveMember = (w, m) => w.q(SQL.saveMember, [m.balance, m.lifetimeEarned, m.pointsDebt, m.totalSpend, w.now, m.id]);

async function insertEntry(w, member, f) {
  const [entry] = await w.q(SQL.insertEntry, [
    member.id,
    f.type,
    f.status,
    f.delta,
    f.balanceAfter,
    f.reference ?? null,
    f.source,
    f.description,
    f.expiresAt,
    w.now,
    f.status === 'POSTED' ? w.now : null,
    f.idempotencyKey ?? null,
  ]);
  if (entry.status === 'POSTED') w.posted.push(entry);
  return entry;
}

async function credit(w, member, f) {
  if (f.held) return insertEntry(w, member, { ...f, status: 'HELD', delta: f.points, balanceAfter: member.balance });
  member.balance += f.points;
  const entry = await insertEntry(w, member, { ...f, status: 'POSTED', delta: f.points, balanceAfter: member.balance });
  await w.q(SQL.insertLot, [member.id, entry.id, f.points, f.points, f.expiresAt]);
  if (f.type === 'PURCHASE' || f.type === 'REWARD') member.lifetimeEarned += f.points;
  await saveMember(w, member);
  // The app then repays a points debt from this credit; the bench never creates debt.
  if (member.pointsDebt > 0) throw new Error('the baseline does not repay points debt (the bench seeds none)');
  return entry;
}

async function debit(w, member, f) {
  const lots = await w.q(SQL.debitLots, [member.id, w.now, null]);
  const plan = allocate(lots, f.points);
  if (plan.covered < f.points) {
    throw new Refusal('INSUFFICIENT_POINTS', `Not enough points: ${f.points} needed, ${member.balance} available`, { needed: f.points, available: member.balance });
  }
  member.balance -= plan.covered;
  const entry = await insertEntry(w, member, { ...f, status: 'POSTED', delta: -plan.covered, balanceAfter: member.balance, expiresAt: null });
  if (plan.allocations.length) {
    const allocations = JSON.stringify(plan.allocations.map((a) => ({ lot_id: a.lotId, amount: a.amount })));
    await w.q(SQL.takeFromLots, [allocations]);
    await w.q(SQL.allocations, [entry.id, allocations]);
  }
  await saveMember(w, member);
  return entry;
}

// ---- after commit: the same Redis work as LedgerEvents + LeaderboardStore.record ------------
let movedTimer = null;
function committed(posted) {
  if (posted.length === 0) return;
  for (const entry of posted) publisher.publish(`${config.redisPrefix}BALANCE:${entry.member_id}`, JSON.stringify(balanceEvent(entry))).catch(() => {});
  const boards = boardIncrements(posted, config.timeZone);
  const moved = () => {
    if (movedTimer) return;
    movedTimer = setTimeout(() => {
      movedTimer = null;
      publisher.publish(`${config.redisPrefix}LEDGER_MOVED`, '{}').catch(() => {});
    }, 100);
    movedTimer.unref();
  };
  if (boards.size === 0) return moved();
  const pipeline = command.pipeline();
  const now = new Date();
  for (const [k, { period, scores }] of boards) {
    for (const [memberId, delta] of scores) pipeline.zincrby(k, delta, memberId);
    pipeline.zremrangebyscore(k, '-inf', 0);
    pipeline.set(`${k}:at`, now.toISOString());
    if (period.end) {
      const ttl = Math.max(1000, period.end.getTime() + config.leaderboard.retentionDays * DAY_MS - now.getTime());
      pipeline.pexpire(k, ttl);
      pipeline.pexpire(`${k}:at`, ttl);
    }
  }
  pipeline.exec().then(moved, moved);
}

async function memberBalance(memberId) {
  const { rows } = await pool.query(SQL.memberRecord, [new Date(), JSON.stringify([memberId])]);
  if (!rows[0]) throw memberNotFound(memberId);
  return rows[0].balance;
}

// ---- the two operations ---------------------------------------------------------------------
async function earn(principal, input) {
  if (principal.role !== 'admin' && principal.role !== 'partner') throw new Refusal('FORBIDDEN', 'You may not do this');
  const orderId = requireText(input?.orderId, 'orderId', KEY_MAX);
  let amount;
  try {
    amount = new Decimal(input.amount);
  } catch {
    throw badInput('amount is not a decimal', 'amount');
  }
  const problem = moneyProblem(amount, 'amount');
  if (problem) throw badInput(problem, 'amount');
  const category = (typeof input.category === 'string' && input.category.trim()) || null;
  const now = new Date();
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : now;
  if (occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS) throw badInput('occurredAt is in the future', 'occurredAt');
  const memberId = String(input.memberId ?? '');
  if (!UUID.test(memberId)) throw memberNotFound(memberId);

  const [settingsRows, tierRows, ruleRows] = await Promise.all([pool.query(SQL.settings), pool.query(SQL.tiers), pool.query(SQL.rules)]);
  const settings = settingsRows.rows[0];
  const tiers = tierRows.rows;
  const rules = ruleRows.rows.map((r) => ({ ...r, startsAt: r.startsAt ? new Date(r.startsAt) : null, endsAt: r.endsAt ? new Date(r.endsAt) : null }));

  // Orders are scoped per partner; admins post for the program ('').
  const scope = principal.role === 'partner' ? principal.partnerId : '';
  const result = await inTransaction(async (w) => {
    const member = await lockMember(w, memberId);
    const [existing] = await w.q(SQL.purchase, [scope, orderId]);
    if (existing) {
      if (existing.member_id !== member.id) throw new Refusal('CONFLICT', `Order ${orderId} was already processed for another member`, { orderId });
      if (!new Decimal(existing.amount).eq(amount)) throw new Refusal('CONFLICT', `Order ${orderId} was already processed with amount ${existing.amount}`, { orderId });
      const [entry] = await w.q(SQL.entryById, [existing.entry_id]);
      return { memberId: member.id, points: existing.points, status: entry.status === 'POSTED' ? 'POSTED' : entry.status === 'HELD' ? 'HELD_FOR_REVIEW' : 'REJECTED' };
    }
    if (member.status === 'FROZEN') throw new Refusal('MEMBER_FROZEN', 'This member is frozen', { memberId: member.id });
    const [{ recent }] = await w.q(SQL.recent, [member.id, scope, new Date(now.getTime() - 3_600_000)]);
    if (recent >= settings.earnLimitPerHour) {
      throw new Refusal('RATE_LIMITED', `More than ${settings.earnLimitPerHour} purchase earnings in an hour; try again later`, { limit: settings.earnLimitPerHour });
    }
    const [{ first_order }] = await w.q(SQL.firstOrder, [member.id]);
    const tier = tierFor(tiers, member.totalSpend);
    const facts = { occurredAt, category, tierLevel: tier.level, firstOrder: first_order, timeZone: config.timeZone };
    const points = purchasePoints(
      amount,
      settings.pointsPerCurrencyUnit,
      tier.multiplier,
      rules.filter((r) => ruleApplies(r, facts)),
    );
    const held = amount.gt(settings.reviewThresholdAmount);
    const entry = await credit(w, member, {
      type: 'PURCHASE',
      points,
      held,
      expiresAt: expiryFor(now, settings.validityDays),
      reference: orderId,
      source: sourceOf(principal),
      description: `订单 ${orderId} 消费 ¥${amount.toFixed(2)}`,
      idempotencyKey: scope === '' ? orderId : `p:${scope.length}:${scope}:${orderId}`,
    });
    await w.q(SQL.insertPurchase, [scope, orderId, member.id, amount.toFixed(2), category, occurredAt, entry.id, points, now]);
    if (!held) {
      const before = tierFor(tiers, member.totalSpend);
      member.totalSpend = Decimal.max(0, new Decimal(member.totalSpend).plus(amount)).toFixed(2);
      await saveMember(w, member);
      const after = tierFor(tiers, member.totalSpend);
      if (after.level > before.level) {
        await w.q(SQL.notification, [
          w.now,
          JSON.stringify([
            {
              member_id: member.id,
              kind: 'TIER_CHANGE',
              title: `恭喜升级为${after.name}`,
              body: `您已升级为${after.name}，消费积分享 ${Number(after.multiplier)} 倍。`,
              data: { fromLevel: before.level, toLevel: after.level },
            },
          ]),
        ]);
      }
      // Purchase hooks (src/tasks: SPEND and ORDERS challenges move in the earning's transaction).
      const running = await w.q(SQL.runningChallenges, [w.now, w.now]);
      if (running.length) throw new Error('the baseline does not move challenges (the bench seeds none)');
    }
    await w.q(SQL.touchMember, [now, member.id]);
    return { memberId: member.id, points, status: held ? 'HELD_FOR_REVIEW' : 'POSTED' };
  });
  // The payload's member: read after commit, as the resolver does (currentMember).
  const balance = await memberBalance(result.memberId);
  return { data: { earnPoints: { points: result.points, status: result.status, member: { balance } } } };
}

async function spend(principal, input) {
  if (principal.role !== 'admin') throw new Refusal('FORBIDDEN', 'You may not do this');
  const delta = input?.delta;
  if (!Number.isInteger(delta) || delta === 0 || Math.abs(delta) > MAX_ADJUSTMENT) throw badInput(`delta must be a non-zero integer of at most ${MAX_ADJUSTMENT}`, 'delta');
  if (delta > 0) throw badInput('the baseline only spends (negative delta)', 'delta');
  const reason = requireText(input.reason, 'reason');
  const idempotencyKey = requireText(input.idempotencyKey, 'idempotencyKey', KEY_MAX);
  const memberId = String(input.memberId ?? '');
  if (!UUID.test(memberId)) throw memberNotFound(memberId);
  await pool.query(SQL.settings); // read by adjust() whatever the sign, as the app does

  const entry = await inTransaction(async (w) => {
    const member = await lockMember(w, memberId);
    const [existing] = await w.q(SQL.adjustment, [idempotencyKey]);
    if (existing) {
      if (existing.member_id !== member.id || existing.delta !== delta) {
        throw new Refusal('CONFLICT', `The idempotency key ${idempotencyKey} was already used with other arguments`, { idempotencyKey });
      }
      return existing;
    }
    return debit(w, member, {
      type: 'ADJUSTMENT',
      points: -delta,
      reference: idempotencyKey,
      source: sourceOf(principal),
      description: `人工调整: ${reason}`,
      idempotencyKey,
    });
  });
  return { data: { adjustPoints: { delta: entry.delta, balanceAfter: entry.balance_after } } };
}

const OPERATIONS = new Map([
  [EARN, { field: 'earnPoints', run: earn }],
  [SPEND, { field: 'adjustPoints', run: spend }],
]);

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
    const operation = OPERATIONS.get(payload?.query);
    if (!operation) return send(res, 400, { errors: [{ message: 'the baseline knows only the bench operations', extensions: { code: 'BAD_USER_INPUT' } }] });
    const principal = principalOf(req.headers.authorization);
    if (!principal) return send(res, 401, { errors: [{ message: 'A valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] });
    try {
      send(res, 200, await operation.run(principal, payload.variables?.input));
    } catch (error) {
      if (error instanceof Refusal) return sendError(res, error, operation.field);
      process.stderr.write(`ledger baseline: ${error?.stack ?? error}\n`);
      send(res, 200, { errors: [{ message: 'Internal server error', path: [operation.field], extensions: { code: 'INTERNAL_SERVER_ERROR' } }], data: null });
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
