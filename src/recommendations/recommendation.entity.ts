import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * Distinct members who redeemed both items (each unordered pair is stored both ways, so one
 * item's neighbours are one index range). Incremented once per member and pair, in the redemption's transaction.
 */
@Entity({ tableName: 'rec_co_redemption' })
@Index({ name: 'rec_co_redemption_top_idx', properties: ['itemId', 'members', 'otherItemId'] })
export class CoRedemption {
  @PrimaryKey({ type: 'uuid' })
  itemId!: string;

  @PrimaryKey({ type: 'uuid' })
  otherItemId!: string;

  @Property({ type: 'integer' })
  members!: number;
}

/** Distinct members who ever redeemed the item: the norm that turns co-counts into cosines. */
@Entity({ tableName: 'rec_item_redeemers' })
export class ItemRedeemers {
  @PrimaryKey({ type: 'uuid' })
  itemId!: string;

  @Property({ type: 'integer' })
  members!: number;
}

/** Redemptions per item and program day: the 7-day popularity of cold start. */
@Entity({ tableName: 'rec_item_daily' })
export class ItemDailyRedemptions {
  @PrimaryKey({ type: 'date' })
  day!: string;

  @PrimaryKey({ type: 'uuid' })
  itemId!: string;

  @Property({ type: 'integer' })
  redemptions!: number;
}

/** The items a member has been counted for in the co-redemption counts (first redemption of each). */
@Entity({ tableName: 'rec_member_item' })
export class MemberCountedItem {
  @PrimaryKey({ type: 'uuid' })
  memberId!: string;

  @PrimaryKey({ type: 'uuid' })
  itemId!: string;

  @Property({ type: 'timestamptz' })
  firstAt!: Date;
}
