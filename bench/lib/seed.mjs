// Helpers the suites share to seed valid rows fast.

const INVITE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** Unique 8-character invite code from an index (base 31 over the app's alphabet). */
export function inviteCode(n) {
  let code = '';
  for (let i = 0; i < 8; i++) {
    code = INVITE_ALPHABET[n % INVITE_ALPHABET.length] + code;
    n = Math.floor(n / INVITE_ALPHABET.length);
  }
  return code;
}

/**
 * The session settings of a bulk load: no durable commit per statement, room to sort, and
 * foreign-key triggers off (the suites' rows are consistent by construction).
 */
export const BULK_LOAD_SESSION = `set synchronous_commit = off; set work_mem = '256MB'; set maintenance_work_mem = '512MB'; set session_replication_role = replica`;

/** `step(name, fn)` runs fn and records its wall time in `timings[name]` (ms). */
export function timedSteps() {
  const timings = {};
  const step = async (name, fn) => {
    const t = Date.now();
    await fn();
    timings[name] = Date.now() - t;
  };
  return { timings, step };
}

/**
 * Members with their starting balances as the ledger holds them: the member rows, one posted
 * ADJUSTMENT entry each ('bench-seed:<id>') and its lot, valid until `expiresAt`. Inside the
 * caller's transaction; rows need id, externalId, nickname, mobile, balance, inviteCode,
 * joinedAt, and optionally totalSpend (0 if absent).
 */
export async function seedFundedMembers(client, members, { seededAt, expiresAt }) {
  await client.query(
    `insert into member (id, external_id, nickname, mobile, total_spend, balance, lifetime_earned, invite_code, joined_at, updated_at)
     select id, external_id, nickname, mobile, total_spend, balance, 0, invite_code, joined_at, joined_at
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::int[], $7::text[], $8::timestamptz[])
       as r(id, external_id, nickname, mobile, total_spend, balance, invite_code, joined_at)`,
    [
      members.map((r) => r.id),
      members.map((r) => r.externalId),
      members.map((r) => r.nickname),
      members.map((r) => r.mobile),
      members.map((r) => r.totalSpend ?? 0),
      members.map((r) => r.balance),
      members.map((r) => r.inviteCode),
      members.map((r) => r.joinedAt),
    ],
  );
  await client.query(
    `insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at, idempotency_key)
     select id, 'ADJUSTMENT', 'POSTED', balance, balance, 'bench-seed', 'admin:bench-seed', '人工调整: 压测初始积分', $1, $2, $2, 'bench-seed:' || id from member`,
    [expiresAt, seededAt],
  );
  await client.query(
    `insert into points_lot (member_id, entry_id, amount, remaining, expires_at)
     select member_id, id, delta, delta, expires_at from ledger_entry where idempotency_key like 'bench-seed:%'`,
  );
}
