import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { isUuid } from '../platform/ids';
import { batchByArgs } from '../platform/graphql/batch-loader';
import { CatalogItem, Coupon, type MemberVip, type Redemption } from './catalog.entity';
import type { RedemptionService } from './redemption.service';
import { DAY_MS } from '../platform/time';

const RECENT_DAYS = 7;
const json = (value: unknown) => JSON.stringify(value);

/** Per request: a page of 100 items costs one query per field kind, not one per item. */
export function catalogLoaders(em: EntityManager, clock: Clock, redemptions: RedemptionService) {
  return {
    /** Member.redemptions: one statement per distinct (first, after) for every member shown. */
    redemptionPage: batchByArgs<{ first: number | null; after: string | null }, { rows: Redemption[]; limit: number }>(
      async (memberIds, { first, after }) => {
        const { pages, limit } = await redemptions.redemptionsOf(em, memberIds, first, after);
        return new Map(memberIds.map((id) => [id, { rows: pages.get(id) ?? [], limit }]));
      },
      () => ({ rows: [], limit: 0 }),
    ),
    /** Member.coupons: one statement for every member shown (the status filter is applied per field). */
    memberCoupons: batchByArgs<null, Coupon[]>(
      async (memberIds) => redemptions.couponsOf(em, memberIds),
      () => [],
    ),
    /** Member.vip: one statement for every member shown. */
    memberVip: batchByArgs<null, MemberVip | null>(
      async (memberIds) => redemptions.vipOf(em, memberIds),
      () => null,
    ),
    itemById: new DataLoader<string, CatalogItem | null>(async (ids) => {
      const rows = await em.find(CatalogItem, { id: { $in: ids.filter(isUuid) } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** Redemptions (not cancelled) of each item in the last 7 days. */
    recentRedemptions: new DataLoader<string, number>(async (itemIds) => {
      const rows = await em.execute<{ item_id: string; n: number }[]>(
        `select item_id, count(*)::int as n from redemption
         where item_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and created_at > ? and status <> 'CANCELLED' group by item_id`,
        [json(itemIds), new Date(clock.now().getTime() - RECENT_DAYS * DAY_MS)],
      );
      const counts = new Map(rows.map((r) => [r.item_id, r.n]));
      return itemIds.map((id) => counts.get(id) ?? 0);
    }),
    /** Units a member has redeemed (not cancelled) per item; key `${memberId}|${itemId}`. */
    memberItemUsage: new DataLoader<string, number>(async (keys) => {
      const pairs = keys.map((k) => k.split('|'));
      const rows = await em.execute<{ member_id: string; item_id: string; n: number }[]>(
        `select r.member_id, r.item_id, sum(r.quantity)::int as n from redemption r
         join jsonb_to_recordset(?::jsonb) as k(member_id uuid, item_id uuid) on k.member_id = r.member_id and k.item_id = r.item_id
         where r.status <> 'CANCELLED' group by r.member_id, r.item_id`,
        [json(pairs.map(([member_id, item_id]) => ({ member_id, item_id })))],
      );
      const used = new Map(rows.map((r) => [`${r.member_id}|${r.item_id}`, r.n]));
      return keys.map((k) => used.get(k) ?? 0);
    }),
    couponsByRedemption: new DataLoader<string, Coupon[]>(async (ids) => {
      const rows = await em.find(Coupon, { redemptionId: { $in: [...ids] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      return ids.map((id) => rows.filter((c) => c.redemptionId === id));
    }),
  };
}
