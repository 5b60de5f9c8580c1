import { Migration } from '@mikro-orm/migrations';

/**
 * What recommendations read on the request path instead of scanning redemptions: co-redemption
 * counts per ordered item pair, distinct redeemers per item (to normalise the counts into a
 * cosine), the items each member was counted for, and redemptions per item and day (7-day popularity). All four are kept up to date
 * inside each redemption's transaction (RecommendationService.recordRedemption).
 */
// Derived counters, without foreign keys: catalog items and members are never deleted (redemptions restrict it),
// and a counter row must never block or slow the redemption that writes it.
export class Migration20261129110000Recommendations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "rec_co_redemption" (
      "item_id" uuid not null,
      "other_item_id" uuid not null,
      "members" int not null,
      constraint "rec_co_redemption_pkey" primary key ("item_id", "other_item_id"));`);
    // The request path reads each history item's strongest neighbours in one (backward) index range.
    this.addSql(`create index "rec_co_redemption_top_idx" on "rec_co_redemption" ("item_id", "members", "other_item_id");`);
    this.addSql(`create table "rec_item_redeemers" (
      "item_id" uuid not null primary key,
      "members" int not null);`);
    // Which items each member has been counted for: a pair is counted once, when its second item arrives.
    this.addSql(`create table "rec_member_item" (
      "member_id" uuid not null,
      "item_id" uuid not null,
      "first_at" timestamptz not null,
      constraint "rec_member_item_pkey" primary key ("member_id", "item_id"));`);
    this.addSql(`create table "rec_item_daily" (
      "item_id" uuid not null,
      "day" date not null,
      "redemptions" int not null,
      constraint "rec_item_daily_pkey" primary key ("day", "item_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "rec_item_daily";');
    this.addSql('drop table if exists "rec_member_item";');
    this.addSql('drop table if exists "rec_item_redeemers";');
    this.addSql('drop table if exists "rec_co_redemption";');
  }
}
