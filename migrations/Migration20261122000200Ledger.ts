import { Migration } from '@mikro-orm/migrations';

/**
 * The points ledger: append-only entries, lots that expire, allocations of debits to lots,
 * purchases (earning idempotency and reversals), earning rules, program settings with the
 * contract's defaults, and notifications.
 */
export class Migration20261122000200Ledger extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "earning_rule" ("id" uuid not null, "name" text not null, "multiplier" numeric(8,3) not null, "bonus_points" int not null, "starts_at" timestamptz null, "ends_at" timestamptz null, "weekdays" int[] not null, "categories" text[] not null, "first_order_only" boolean not null, "min_tier_level" int null, "active" boolean not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "earning_rule_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create table "ledger_entry" ("id" bigserial primary key, "member_id" uuid not null, "type" text check ("type" in ('PURCHASE', 'REWARD', 'REDEMPTION', 'REFUND', 'REVERSAL', 'EXPIRY', 'ADJUSTMENT')) not null, "status" text check ("status" in ('POSTED', 'HELD', 'REJECTED')) not null default 'POSTED', "delta" int not null, "balance_after" int not null, "reference" text null, "source" text not null, "description" text not null, "expires_at" timestamptz null, "created_at" timestamptz not null, "posted_at" timestamptz null, "idempotency_key" text null, "review_note" text null, constraint ledger_entry_sign_check check ((type in ('PURCHASE','REWARD','REFUND') and delta > 0) or (type in ('REDEMPTION','EXPIRY','REVERSAL') and delta <= 0) or (type = 'ADJUSTMENT' and delta <> 0)));`,
    );
    this.addSql(`create index "ledger_entry_member_id_idx" on "ledger_entry" ("member_id", "id");`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_idempotency_unique" unique ("type", "idempotency_key");`);
    this.addSql(
      `create table "notification" ("id" uuid not null, "member_id" uuid not null, "kind" text check ("kind" in ('EXPIRY_WARNING', 'REDEMPTION', 'TIER_CHANGE', 'REWARD')) not null, "title" text not null, "body" text not null, "data" jsonb null, "created_at" timestamptz not null, "read_at" timestamptz null, constraint "notification_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "notification_member_idx" on "notification" ("member_id", "created_at", "id");`);
    this.addSql(
      `create table "points_lot" ("id" bigserial primary key, "member_id" uuid not null, "entry_id" bigint not null, "amount" int not null, "remaining" int not null, "expires_at" timestamptz null, "expired_at" timestamptz null, constraint points_lot_remaining_check check (remaining >= 0 and remaining <= amount));`,
    );
    this.addSql(`create index "points_lot_due_idx" on "points_lot" ("expires_at", "id") where "remaining" > 0;`);
    this.addSql(`create index "points_lot_member_idx" on "points_lot" ("member_id", "expires_at");`);
    this.addSql(`create table "lot_allocation" ("id" bigserial primary key, "entry_id" bigint not null, "lot_id" bigint not null, "amount" int not null);`);
    this.addSql(`create index "lot_allocation_lot_idx" on "lot_allocation" ("lot_id");`);
    this.addSql(`create index "lot_allocation_entry_idx" on "lot_allocation" ("entry_id");`);
    this.addSql(
      `create table "program_settings" ("id" int not null default 1, "points_per_currency_unit" numeric(10,4) not null, "validity_days" int not null, "reminder_days" int[] not null, "earn_limit_per_hour" int not null, "review_threshold_amount" numeric(14,2) not null, "redeem_limit_per_30min" int not null, "max_quantity_per_redemption" int not null, "updated_at" timestamptz not null, "updated_by" text null, constraint "program_settings_pkey" primary key ("id"), constraint program_settings_singleton check (id = 1));`,
    );
    this.addSql(
      `create table "purchase" ("order_id" text not null, "member_id" uuid not null, "amount" numeric(14,2) not null, "category" text null, "occurred_at" timestamptz not null, "entry_id" bigint not null, "points" int not null, "refunded_amount" numeric(14,2) not null default 0, "points_reversed" int not null default 0, "points_forgiven" int not null default 0, "created_at" timestamptz not null, constraint "purchase_pkey" primary key ("order_id"), constraint purchase_refund_check check (refunded_amount >= 0 and refunded_amount <= amount and points_reversed >= 0 and points_reversed <= points));`,
    );
    this.addSql(`create index "purchase_member_idx" on "purchase" ("member_id", "created_at");`);
    this.addSql(
      `create table "purchase_reversal" ("id" bigserial primary key, "order_id" text not null, "refund_key" text not null, "amount" numeric(14,2) not null, "entry_id" bigint not null, "points_reversed" int not null, "shortfall" int not null);`,
    );
    this.addSql(`alter table "purchase_reversal" add constraint "purchase_reversal_key_unique" unique ("order_id", "refund_key");`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "notification" add constraint "notification_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "points_lot" add constraint "points_lot_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "points_lot" add constraint "points_lot_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "lot_allocation" add constraint "lot_allocation_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "lot_allocation" add constraint "lot_allocation_lot_id_foreign" foreign key ("lot_id") references "points_lot" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "purchase" add constraint "purchase_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "purchase" add constraint "purchase_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(
      `alter table "purchase_reversal" add constraint "purchase_reversal_order_id_foreign" foreign key ("order_id") references "purchase" ("order_id") on update restrict on delete restrict;`,
    );
    this.addSql(`alter table "purchase_reversal" add constraint "purchase_reversal_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "member" add column "points_debt" int not null default 0;`);
    this.addSql(`alter table "member" add constraint member_points_check check(balance >= 0 and points_debt >= 0);`);
    // The ledger is append-only (issue 3): only a HELD entry may change, and only once, to
    // POSTED or REJECTED; allocations and reversal records never change. Enforced here so that
    // no code path, present or future, can rewrite history.
    this.addSql(`create function ledger_entry_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' then
          raise exception 'ledger entries are append-only (delete of %)', old.id using errcode = 'restrict_violation';
        end if;
        if old.status <> 'HELD' or new.status = 'HELD'
           or (new.member_id, new.type, new.delta, new.reference, new.source, new.created_at, new.idempotency_key)
              is distinct from (old.member_id, old.type, old.delta, old.reference, old.source, old.created_at, old.idempotency_key) then
          raise exception 'ledger entries are append-only (update of %)', old.id using errcode = 'restrict_violation';
        end if;
        return new;
      end $$;`);
    this.addSql(`create trigger ledger_entry_append_only before update or delete on "ledger_entry" for each row execute function ledger_entry_append_only();`);
    this.addSql(`create function forbid_change() returns trigger language plpgsql as $$
      begin
        raise exception '% rows are append-only', tg_table_name using errcode = 'restrict_violation';
      end $$;`);
    this.addSql(`create trigger lot_allocation_append_only before update or delete on "lot_allocation" for each row execute function forbid_change();`);
    this.addSql(`create trigger purchase_reversal_append_only before update or delete on "purchase_reversal" for each row execute function forbid_change();`);
    this.addSql(
      `insert into "program_settings" ("id", "points_per_currency_unit", "validity_days", "reminder_days", "earn_limit_per_hour", "review_threshold_amount", "redeem_limit_per_30min", "max_quantity_per_redemption", "updated_at") values (1, 1, 365, '{7,3,1}', 10, 10000.00, 5, 10, now());`,
    );
  }
}
