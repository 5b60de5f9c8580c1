/**
 * SQL for "member ? may redeem this item, its balance apart": active (what members see), inside
 * its window, in stock, and under its per-member limit (redemptions not cancelled) — the
 * conditions of CatalogItem.redeemable and redeem. Shared by catalog(filter: {redeemableOnly})
 * and recommendations. Expects catalog_item aliased `ci`; binds now, now, memberId.
 */
export const AVAILABLE_TO_MEMBER_SQL = `ci.active and ci.stock >= 1
  and (ci.available_from is null or ci.available_from <= ?) and (ci.available_until is null or ci.available_until > ?)
  and (ci.per_member_limit is null or ci.per_member_limit > coalesce(
    (select sum(r.quantity) from redemption r where r.member_id = ? and r.item_id = ci.id and r.status <> 'CANCELLED'), 0))`;
