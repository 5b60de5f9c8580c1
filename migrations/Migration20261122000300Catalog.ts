import { Migration } from '@mikro-orm/migrations';

/** The catalog and redemption: items, redemptions, coupons and VIP status. */
export class Migration20261122000300Catalog extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "catalog_item" ("id" uuid not null, "sku" text not null, "name" text not null, "description" text not null, "category" text not null, "tags" text[] not null, "type" text check ("type" in ('PHYSICAL', 'VIRTUAL', 'COUPON', 'VIP')) not null, "points_price" int not null, "cash_price" numeric(14,2) null, "stock" int not null, "per_member_limit" int null, "available_from" timestamptz null, "available_until" timestamptz null, "image_url" text null, "active" boolean not null, "config" jsonb null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "catalog_item_pkey" primary key ("id"), constraint catalog_item_values_check check (stock >= 0 and points_price >= 0 and (cash_price is null or cash_price >= 0)));`,
    );
    this.addSql(`alter table "catalog_item" add constraint "catalog_item_sku_unique" unique ("sku");`);
    this.addSql(`create index "catalog_item_listing_idx" on "catalog_item" ("points_price", "id");`);
    this.addSql(`create table "member_vip" ("member_id" uuid not null, "level" int not null, "expires_at" timestamptz not null, constraint "member_vip_pkey" primary key ("member_id"));`);
    this.addSql(
      `create table "redemption" ("id" uuid not null, "member_id" uuid not null, "item_id" uuid not null, "quantity" int not null, "points_spent" int not null, "cash_due" numeric(14,2) null, "status" text check ("status" in ('COMPLETED', 'PENDING_SHIPMENT', 'SHIPPED', 'CANCELLED')) not null, "entry_id" bigint not null, "refund_entry_id" bigint null, "idempotency_key" text not null, "request_hash" text not null, "shipping_address" jsonb null, "tracking_number" text null, "vip_days" int null, "cancel_reason" text null, "created_at" timestamptz not null, "shipped_at" timestamptz null, "cancelled_at" timestamptz null, constraint "redemption_pkey" primary key ("id"), constraint redemption_quantity_check check (quantity > 0 and points_spent >= 0));`,
    );
    this.addSql(`create index "redemption_item_idx" on "redemption" ("item_id", "created_at");`);
    this.addSql(`create index "redemption_member_idx" on "redemption" ("member_id", "created_at", "id");`);
    this.addSql(`alter table "redemption" add constraint "redemption_idempotency_unique" unique ("member_id", "idempotency_key");`);
    this.addSql(
      `create table "coupon" ("id" uuid not null, "code" text not null, "member_id" uuid not null, "redemption_id" uuid not null, "value" numeric(14,2) null, "expires_at" timestamptz not null, "status" text check ("status" in ('ACTIVE', 'USED', 'EXPIRED', 'VOID')) not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "coupon_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "coupon" add constraint "coupon_code_unique" unique ("code");`);
    this.addSql(`create index "coupon_member_idx" on "coupon" ("member_id", "expires_at");`);
    this.addSql(`alter table "member_vip" add constraint "member_vip_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "redemption" add constraint "redemption_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "redemption" add constraint "redemption_item_id_foreign" foreign key ("item_id") references "catalog_item" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "redemption" add constraint "redemption_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "redemption" add constraint "redemption_refund_entry_id_foreign" foreign key ("refund_entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "coupon" add constraint "coupon_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "coupon" add constraint "coupon_redemption_id_foreign" foreign key ("redemption_id") references "redemption" ("id") on update restrict on delete restrict;`);
  }
}
