import { TOUCH_LAST_ACTIVE_SQL } from '../members';
import { preparedFromKnex } from '../platform/db/prepared';
import type { ItemType } from './catalog.entity';

/**
 * What redeem reads under the member's lock, in ONE statement instead of three (issue 14): the
 * item, the member's units of it and redemptions of the last 30 minutes that are not cancelled,
 * the redemption already made with this idempotency key, if any, and the two program settings a
 * redemption checks (read here, in the transaction's snapshot, instead of in a statement of their
 * own before it: a round trip less, and still read on every redemption, so a settings change
 * applies to the next one on every instance). Always one row; the item's columns are null when it
 * does not exist. Binds: itemId, itemId, since, memberId, memberId, key.
 */
export const REDEEM_READ_SQL = `select ci.id, ci.name, ci.type, ci.points_price, ci.cash_price::text as cash_price, ci.stock, ci.per_member_limit,
       ci.available_from, ci.available_until, ci.active, ci.config,
       u.used, u.recent, prev.id as previous_id, prev.request_hash as previous_hash,
       s.redeem_limit_per_30min, s.max_quantity_per_redemption
  from program_settings s
  left join catalog_item ci on ci.id = ?
  cross join lateral (
    select coalesce(sum(r.quantity) filter (where r.item_id = ? and r.status <> 'CANCELLED'), 0)::int as used,
           count(*) filter (where r.created_at > ? and r.status <> 'CANCELLED')::int as recent
    from redemption r where r.member_id = ?) u
  left join redemption prev on prev.member_id = ? and prev.idempotency_key = ?
  where s.id = 1`;

/** A row of REDEEM_READ_SQL as the driver returns it (timestamps may come back as text). */
export interface RedeemReadRow {
  id: string | null;
  name: string;
  type: ItemType;
  points_price: number;
  cash_price: string | null;
  stock: number;
  per_member_limit: number | null;
  available_from: Date | string | null;
  available_until: Date | string | null;
  active: boolean;
  config: Record<string, unknown> | null;
  used: number;
  recent: number;
  previous_id: string | null;
  previous_hash: string | null;
  redeem_limit_per_30min: number;
  max_quantity_per_redemption: number;
}

/**
 * The new redemption row, and the member's last activity in the same statement (a round trip
 * less under the locks). Every value comes from the use case, so nothing is read back.
 * Binds: at, memberId (touch), then id, memberId, itemId, quantity, pointsSpent, cashDue, status,
 * paymentDueBy, entryId, idempotencyKey, requestHash, shippingAddress (JSON text), vipDays, createdAt.
 */
export const INSERT_REDEMPTION_SQL = `with touched as (${TOUCH_LAST_ACTIVE_SQL})
  insert into redemption (id, member_id, item_id, quantity, points_spent, cash_due, status, payment_due_by, entry_id, idempotency_key, request_hash, shipping_address, vip_days, created_at)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`;

/**
 * The stock, taken last and only if enough is left (the conditional UPDATE is the guarantee
 * against overselling). Binds: quantity, at, itemId, quantity.
 */
export const TAKE_STOCK_SQL = 'update catalog_item set stock = stock - ?, updated_at = ? where id = ? and stock >= ? returning stock';

/**
 * The three statements above as named prepared statements (platform/db/prepared.ts): run on the
 * transaction's connection with bound values, parsed once per connection (issue 14).
 */
export const REDEEM_STATEMENTS = {
  read: preparedFromKnex('catalog.redeem_read', REDEEM_READ_SQL),
  insert: preparedFromKnex('catalog.insert_redemption', INSERT_REDEMPTION_SQL),
  takeStock: preparedFromKnex('catalog.take_stock', TAKE_STOCK_SQL),
};
