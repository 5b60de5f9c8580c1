import { Migration } from '@mikro-orm/migrations';

/** Members and tiers, with the contract's four default tiers (contract README, business rules). */
export class Migration20261122000100Members extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "member" (
      "id" uuid not null,
      "external_id" text null,
      "nickname" text not null,
      "mobile" text not null,
      "status" text check ("status" in ('ACTIVE', 'FROZEN')) not null default 'ACTIVE',
      "frozen_reason" text null,
      "total_spend" numeric(14,2) not null default 0,
      "balance" int not null default 0,
      "lifetime_earned" int not null default 0,
      "invite_code" text not null,
      "language" text not null default 'zh',
      "referred_by" uuid null,
      "joined_at" timestamptz not null,
      "last_active_at" timestamptz null,
      "updated_at" timestamptz not null,
      constraint "member_pkey" primary key ("id"));`);
    this.addSql(`alter table "member" add constraint "member_external_id_unique" unique ("external_id");`);
    this.addSql(`alter table "member" add constraint "member_mobile_unique" unique ("mobile");`);
    this.addSql(`alter table "member" add constraint "member_invite_code_unique" unique ("invite_code");`);
    this.addSql(`create index "member_joined_at_id_idx" on "member" ("joined_at", "id");`);

    this.addSql(`create table "tier" (
      "id" uuid not null,
      "level" int not null,
      "name" text not null,
      "min_spend" numeric(14,2) not null,
      "multiplier" numeric(6,3) not null,
      "benefits" jsonb not null,
      constraint "tier_pkey" primary key ("id"));`);
    this.addSql(`alter table "tier" add constraint "tier_level_unique" unique ("level");`);

    this.addSql(`insert into "tier" ("id", "level", "name", "min_spend", "multiplier", "benefits") values
      (gen_random_uuid(), 1, '普通会员', 0, 1.0, '{"perks": ["积分兑换", "每日签到"]}'),
      (gen_random_uuid(), 2, '银卡会员', 1000, 1.2, '{"perks": ["积分兑换", "每日签到", "生日双倍积分"], "birthdayMultiplier": 2}'),
      (gen_random_uuid(), 3, '金卡会员', 5000, 1.5, '{"perks": ["积分兑换", "每日签到", "生日双倍积分", "每月免邮券"], "birthdayMultiplier": 2, "freeShippingPerMonth": 1}'),
      (gen_random_uuid(), 4, '钻石会员', 20000, 2.0, '{"perks": ["积分兑换", "每日签到", "生日三倍积分", "每月免邮券", "专属客服", "优先发货"], "birthdayMultiplier": 3, "freeShippingPerMonth": 2}');`);
  }
}
