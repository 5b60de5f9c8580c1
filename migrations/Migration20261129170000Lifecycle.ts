import { Migration } from '@mikro-orm/migrations';

/**
 * Member lifecycle (issue 17): the held tier and its year on the member (backfilled from the
 * tier lifetime spend reached, valid 12 months from now), tier settings (keeping by recent spend,
 * upgrade bonus), protection applications, upgrade rewards paid, RFM scores and segment history,
 * earning-rule segments, and per-member earning caps with the rewards they capped.
 */
export class Migration20261129170000Lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "tier" add column "keep_by_recent_spend" boolean not null default false, add column "upgrade_bonus" int not null default 0;`);
    this.addSql(`update "tier" set "keep_by_recent_spend" = true where "level" >= 3;`);

    this.addSql(`alter table "member"
      add column "tier_level" int not null default 1,
      add column "tier_valid_until" timestamptz null,
      add column "tier_grace_until" timestamptz null,
      add column "tier_grace_warned" boolean not null default false,
      add column "tier_protected_until" timestamptz null,
      add column "tier_spend_base" numeric(14,2) not null default 0,
      add column "segment" text null;`);
    // Backfill: the tier lifetime spend reaches today, held for a first 12-month year from now.
    this.addSql(`update "member" m set "tier_level" = coalesce((select max(t.level) from tier t where t.min_spend <= m.total_spend), (select min(level) from tier), 1);`);
    this.addSql(`update "member" set "tier_valid_until" = now() + interval '12 months' where "tier_level" > (select min(level) from tier);`);
    this.addSql(`create index "member_tier_due_idx" on "member" ("tier_valid_until", "id") where "tier_grace_until" is null and "tier_valid_until" is not null;`);
    this.addSql(`create index "member_tier_grace_idx" on "member" ("tier_grace_until", "id") where "tier_grace_until" is not null;`);
    this.addSql(`create index "member_segment_idx" on "member" ("segment") where "segment" is not null;`);

    this.addSql(
      `create table "tier_protection" ("id" uuid not null, "member_id" uuid not null, "year" int not null, "tier_level" int not null, "status" text check ("status" in ('PENDING', 'APPROVED', 'REJECTED')) not null, "reason" text not null, "note" text null, "created_at" timestamptz not null, "reviewed_at" timestamptz null, "reviewed_by" text null, constraint "tier_protection_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "tier_protection" add constraint "tier_protection_member_year_unique" unique ("member_id", "year");`);
    this.addSql(`alter table "tier_protection" add constraint "tier_protection_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);

    this.addSql(
      `create table "tier_reward" ("member_id" uuid not null, "level" int not null, "entry_id" bigint null, "rewarded_at" timestamptz not null, constraint "tier_reward_pkey" primary key ("member_id", "level"));`,
    );
    this.addSql(`alter table "tier_reward" add constraint "tier_reward_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);

    this.addSql(
      `create table "member_rfm" ("member_id" uuid not null, "recency_days" int not null, "frequency" int not null, "monetary" numeric(14,2) not null, "r" int not null, "f" int not null, "m" int not null, "segment" text not null, "computed_at" timestamptz not null, constraint "member_rfm_pkey" primary key ("member_id"));`,
    );
    this.addSql(`create table "segment_change" ("id" bigserial primary key, "member_id" uuid not null, "segment" text null, "previous" text null, "changed_at" timestamptz not null);`);
    this.addSql(`create index "segment_change_member_idx" on "segment_change" ("member_id", "changed_at");`);
    this.addSql(`alter table "segment_change" add constraint "segment_change_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(
      `create table "rfm_run" ("day" text not null, "started_at" timestamptz not null, "finished_at" timestamptz null, "members" int not null default 0, constraint "rfm_run_pkey" primary key ("day"));`,
    );
    this.addSql(`create index "purchase_occurred_idx" on "purchase" ("occurred_at");`);
    this.addSql(`create index "purchase_member_occurred_idx" on "purchase" ("member_id", "occurred_at");`);

    this.addSql(`alter table "earning_rule" add column "segments" text[] not null default '{}';`);

    this.addSql(`alter table "program_settings" add column "reward_daily_cap" int null, add column "reward_monthly_cap" int null;`);
    this.addSql(
      `create table "reward_cap_hit" ("id" bigserial primary key, "member_id" uuid not null, "source" text not null, "reference" text null, "requested" int not null, "granted" int not null, "reason" text not null, "created_at" timestamptz not null);`,
    );
    this.addSql(`create index "reward_cap_hit_member_idx" on "reward_cap_hit" ("member_id", "created_at");`);
  }
}
