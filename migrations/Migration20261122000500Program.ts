import { Migration } from '@mikro-orm/migrations';

/** Expiry warnings sent (once per lot and threshold), settings audit, daily stats, member activity index. */
export class Migration20261122000500Program extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "expiry_warning" ("lot_id" bigint not null, "threshold" int not null, "member_id" uuid not null, "warned_at" timestamptz not null, constraint "expiry_warning_pkey" primary key ("lot_id", "threshold"));`,
    );
    this.addSql(`create index "expiry_warning_member_idx" on "expiry_warning" ("member_id", "warned_at");`);
    this.addSql(`create table "program_settings_audit" ("id" bigserial primary key, "changed_by" text not null, "changed_at" timestamptz not null, "changes" jsonb not null);`);
    this.addSql(
      `create table "stats_daily" ("day" text not null, "issued" bigint not null, "redeemed" bigint not null, "expired" bigint not null, "computed_at" timestamptz not null, constraint "stats_daily_pkey" primary key ("day"));`,
    );
    this.addSql(`alter table "expiry_warning" add constraint "expiry_warning_lot_id_foreign" foreign key ("lot_id") references "points_lot" ("id") on update restrict on delete restrict;`);
    this.addSql(`create index "member_last_active_idx" on "member" ("last_active_at");`);
  }
}
