import { SPENDABLE_BALANCE_SQL } from '../ledger';

/**
 * SQL for "member ? may redeem this item, its balance apart": active (what members see), inside
 * its window, in stock, and under its per-member limit (redemptions not cancelled). The SQL twin
 * of availableToMember (catalog.rules.ts); also used by recommendations. Expects catalog_item
 * aliased `ci`; binds now, now, memberId.
 */
export const AVAILABLE_TO_MEMBER_SQL = `ci.active and ci.stock >= 1
  and (ci.available_from is null or ci.available_from <= ?) and (ci.available_until is null or ci.available_until > ?)
  and (ci.per_member_limit is null or ci.per_member_limit > coalesce(
    (select sum(r.quantity) from redemption r where r.member_id = ? and r.item_id = ci.id and r.status <> 'CANCELLED'), 0))`;

/**
 * CatalogItem.redeemable as SQL, for catalog(filter: {redeemableOnly}) so the filter and the page
 * agree: AVAILABLE_TO_MEMBER_SQL, and the member is active with the points part spendable now
 * (lots past their date left out, as redeem would expire them first). The twin of isRedeemable
 * (catalog.rules.ts): test/catalog/redeemable.test.ts runs both over one table of cases.
 * Expects catalog_item aliased `ci`; binds redeemableParams(now, memberId).
 */
export const REDEEMABLE_SQL = `${AVAILABLE_TO_MEMBER_SQL}
  and ci.points_price <= (select ${SPENDABLE_BALANCE_SQL} from member m where m.id = ? and m.status = 'ACTIVE')`;

export const redeemableParams = (now: Date, memberId: string): unknown[] => [now, now, memberId, now, memberId];
