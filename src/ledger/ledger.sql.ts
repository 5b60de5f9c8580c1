/**
 * SQL for "what member m can spend now" (contract: Member.balance is the sum of unexpired
 * lots): the cached balance less lots whose expiry has passed but which the expiry job has not
 * posted yet. Expects the member table aliased `m`, and binds one parameter: now.
 */
export const SPENDABLE_BALANCE_SQL = `greatest(0, m.balance - coalesce((select sum(l.remaining) from points_lot l
  where l.member_id = m.id and l.remaining > 0 and l.expires_at <= ?), 0))::int`;

/**
 * A debit in ONE statement (issue 14: one round trip instead of five while the member's row is
 * locked): the member's live lots locked in id order (the lock order: the caller already holds
 * the member row, see LedgerWriter), the points taken earliest expiry first (never-expiring last,
 * a preferred lot before all), the entry inserted, the lots lowered, the allocations written and
 * the member's cached balance saved. Every write hangs off `entry`, which is only inserted when
 * the lots cover the points (or a partial debit was asked for): when they do not, nothing is
 * written and the single row says how much they would have covered (`entry_id` null).
 * Binds: memberId, now, preferLotId, points, points, points, memberId, type, balanceBefore,
 * reference, source, description, now, now, idempotencyKey, points, partial, lifetimeEarned,
 * pointsDebt, totalSpend, now.
 */
export const DEBIT_SQL = `with locked as (
    select id, remaining, expires_at from points_lot
    where member_id = ?::uuid and remaining > 0 and (expires_at is null or expires_at > ?::timestamptz)
    order by id
    for update
  ),
  ranked as (
    select id, remaining,
           coalesce(sum(remaining) over (order by coalesce(id = ?::bigint, false) desc, expires_at asc nulls last, id asc
                                         rows between unbounded preceding and 1 preceding), 0) as taken_before
    from locked
  ),
  plan as (select id as lot_id, least(remaining, ?::int - taken_before)::int as amount from ranked where taken_before < ?::int),
  total as (select least(coalesce(sum(amount), 0), ?::int)::int as covered from plan),
  entry as (
    insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at, idempotency_key)
    select ?::uuid, ?, 'POSTED', -covered, ?::int - covered, ?, ?, ?, null, ?::timestamptz, ?::timestamptz, ?
    from total where covered >= ?::int or ?::boolean
    returning *
  ),
  taken as (update points_lot p set remaining = p.remaining - plan.amount from plan, entry where p.id = plan.lot_id),
  allocated as (insert into lot_allocation (entry_id, lot_id, amount) select entry.id, plan.lot_id, plan.amount from plan, entry),
  saved as (
    update member set balance = entry.balance_after, lifetime_earned = ?, points_debt = ?, total_spend = ?, updated_at = ?::timestamptz
    from entry where member.id = entry.member_id
  )
  select entry.*, entry.id as entry_id, total.covered as covered from total left join entry on true`;

/**
 * A posted credit in ONE statement (issue 14): the entry, its lot and the member's cached
 * balance, instead of three round trips under the member's lock. Binds: memberId, type, points,
 * balanceAfter, reference, source, description, expiresAt, now, now, idempotencyKey, balance,
 * lifetimeEarned, pointsDebt, totalSpend, now, activeAt (null: last_active_at unchanged), memberId.
 */
export const CREDIT_SQL = `with entry as (
    insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at, idempotency_key)
    values (?, ?, 'POSTED', ?, ?, ?, ?, ?, ?, ?, ?, ?)
    returning *
  ),
  lot as (insert into points_lot (member_id, entry_id, amount, remaining, expires_at) select member_id, id, delta, delta, expires_at from entry returning id),
  saved as (update member set balance = ?, lifetime_earned = ?, points_debt = ?, total_spend = ?, updated_at = ?, last_active_at = coalesce(?::timestamptz, last_active_at) where id = ?)
  select entry.*, lot.id as lot_id from entry, lot`;

/**
 * What earn reads under the member's lock, in ONE statement instead of three (issue 14): the
 * purchase already posted for this (partner, order), if any (its columns null otherwise); this
 * partner's purchases of the member in the last hour that earned or wait for review (the hourly
 * limit, issue 13); and whether the member has no purchase yet (first-order rules).
 * Binds: memberId, partnerId, since, memberId, partnerId, orderId.
 */
export const EARN_READ_SQL = `select p.*,
       (select count(*)::int from purchase q join ledger_entry e on e.id = q.entry_id
        where q.member_id = ? and q.partner_id = ? and q.created_at > ? and e.status <> 'REJECTED') as recent,
       not exists (select 1 from purchase f where f.member_id = ?) as first_order
  from (select 1) as one
  left join purchase p on p.partner_id = ? and p.order_id = ?`;
