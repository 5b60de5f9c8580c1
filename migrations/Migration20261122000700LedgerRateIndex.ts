import { Migration } from '@mikro-orm/migrations';

/**
 * The hourly earning limit counts one member's recent purchases without scanning everyone's
 * last hour. Member rows change on every posting (balance) but their indexed columns rarely do:
 * free space on each page lets PostgreSQL update them in place (HOT) instead of rewriting
 * every index of the member table.
 */
export class Migration20261122000700LedgerRateIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "ledger_entry_member_type_created_idx" on "ledger_entry" ("member_id", "type", "created_at");`);
    this.addSql(`alter table "member" set (fillfactor = 90);`);
  }
}
