import { Migration } from '@mikro-orm/migrations';

/**
 * Earning caps on PURCHASE points (issue 17: "purchases uncapped unless configured"): two
 * nullable settings (null: uncapped), the kind of credit a cap hit cut, and on a purchase the
 * points its rules gave before the cap (null: not capped).
 */
export class Migration20261130010000PurchaseCaps extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "program_settings" add column "purchase_daily_cap" int null, add column "purchase_monthly_cap" int null;`);
    this.addSql(`alter table "reward_cap_hit" add column "type" text not null default 'REWARD';`);
    this.addSql(`alter table "purchase" add column "points_capped_from" int null;`);
  }
}
