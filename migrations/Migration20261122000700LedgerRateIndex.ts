import { Migration } from '@mikro-orm/migrations';

/** The hourly earning limit counts one member's recent purchases without scanning everyone's last hour. */
export class Migration20261122000700LedgerRateIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "ledger_entry_member_type_created_idx" on "ledger_entry" ("member_id", "type", "created_at");`);
  }
}
