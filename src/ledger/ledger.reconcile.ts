import type { EntityManager } from '@mikro-orm/postgresql';

export interface Discrepancy {
  member_id: string | null;
  check: string;
  detail: string;
}

/**
 * The ledger's invariants as one query (used by the tests after every scenario and by
 * `npm run ledger:check`). An empty result means: for every member, balance = sum of posted
 * deltas = sum of remaining points in unexpired lots; every lot's remaining = amount − its
 * allocations, never negative, zero once expired; every debit is fully allocated; the debt
 * equals shortfalls not yet repaid; lifetimeEarned equals earnings net of reversals.
 */
export const RECONCILIATION_SQL = `
with entry_sums as (
  select member_id, coalesce(sum(delta) filter (where status = 'POSTED'), 0) as posted
  from ledger_entry group by member_id
), lot_sums as (
  select member_id, coalesce(sum(remaining) filter (where expired_at is null), 0) as remaining
  from points_lot group by member_id
), earned as (
  select member_id, coalesce(sum(delta), 0) as points from ledger_entry
  where status = 'POSTED' and type in ('PURCHASE', 'REWARD') group by member_id
), reversed as (
  select member_id, coalesce(sum(points_reversed), 0) as points from purchase group by member_id
), shortfalls as (
  select p.member_id, coalesce(sum(r.shortfall), 0) as points
  from purchase_reversal r join purchase p on p.partner_id = r.partner_id and p.order_id = r.order_id group by p.member_id
), repaid as (
  select member_id, coalesce(-sum(delta), 0) as points from ledger_entry
  where type = 'REVERSAL' and source = 'system:debt' group by member_id
)
select m.id as member_id, 'balance = posted deltas' as check, m.balance || ' vs ' || coalesce(e.posted, 0) as detail
  from member m left join entry_sums e on e.member_id = m.id where m.balance <> coalesce(e.posted, 0)
union all
select m.id, 'balance = unexpired lots', m.balance || ' vs ' || coalesce(l.remaining, 0)
  from member m left join lot_sums l on l.member_id = m.id where m.balance <> coalesce(l.remaining, 0)
union all
select m.id, 'debt = shortfalls - repaid', m.points_debt || ' vs ' || (coalesce(s.points, 0) - coalesce(r.points, 0))
  from member m left join shortfalls s on s.member_id = m.id left join repaid r on r.member_id = m.id
  where m.points_debt <> coalesce(s.points, 0) - coalesce(r.points, 0)
union all
select m.id, 'lifetimeEarned = earned - reversed', m.lifetime_earned || ' vs ' || greatest(0, coalesce(ea.points, 0) - coalesce(rv.points, 0))
  from member m left join earned ea on ea.member_id = m.id left join reversed rv on rv.member_id = m.id
  where m.lifetime_earned <> greatest(0, coalesce(ea.points, 0) - coalesce(rv.points, 0))
union all
select l.member_id, 'lot remaining = amount - allocations', 'lot ' || l.id || ': ' || l.remaining || ' vs ' || (l.amount - coalesce(sum(a.amount), 0))
  from points_lot l left join lot_allocation a on a.lot_id = l.id
  group by l.id having l.remaining <> l.amount - coalesce(sum(a.amount), 0)
union all
select l.member_id, 'expired lot is empty', 'lot ' || l.id || ' has ' || l.remaining
  from points_lot l where l.expired_at is not null and l.remaining <> 0
union all
select e.member_id, 'debit fully allocated', 'entry ' || e.id || ': ' || e.delta || ' vs ' || -coalesce(sum(a.amount), 0)
  from ledger_entry e left join lot_allocation a on a.entry_id = e.id
  where e.delta < 0 group by e.id having -e.delta <> coalesce(sum(a.amount), 0)
`;

export async function reconcile(em: EntityManager): Promise<Discrepancy[]> {
  return em.execute<Discrepancy[]>(RECONCILIATION_SQL);
}
