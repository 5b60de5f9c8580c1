/**
 * SQL for "what member m can spend now" (contract: Member.balance is the sum of unexpired
 * lots): the cached balance less lots whose expiry has passed but which the expiry job has not
 * posted yet. Expects the member table aliased `m`, and binds one parameter: now.
 */
export const SPENDABLE_BALANCE_SQL = `greatest(0, m.balance - coalesce((select sum(l.remaining) from points_lot l
  where l.member_id = m.id and l.remaining > 0 and l.expires_at <= ?), 0))::int`;
