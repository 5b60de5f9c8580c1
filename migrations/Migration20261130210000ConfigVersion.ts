import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 14 (an earning's round trips): one counter for the program's configuration, the tables
 * an admin edits and every earning reads (settings, tiers, earning rules, challenges). A
 * statement-level trigger bumps it in the same transaction as any write to them, whatever writes
 * (the API, a SQL console, a bench seed, a truncate). Money paths read it inside their own
 * transaction, in the statement that locks the member (src/ledger/ledger.writer.ts), and reuse
 * what they loaded for that version instead of reading the four tables on every earning
 * (src/platform/db/config-version.ts says why that is never stale). The counter is a row, not a
 * sequence: a sequence moves before the editing transaction commits, so a reader could load the
 * old rows under the new number and keep them; the row only changes when the edit commits.
 */
export class Migration20261130210000ConfigVersion extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "config_version" ("id" smallint primary key check ("id" = 1), "version" integer not null);`);
    this.addSql(`insert into "config_version" ("id", "version") values (1, 1);`);
    this.addSql(`create function "bump_config_version"() returns trigger language plpgsql as $$
      begin
        update "config_version" set "version" = "version" + 1 where "id" = 1;
        return null;
      end $$;`);
    for (const table of ['program_settings', 'tier', 'earning_rule', 'challenge']) {
      this.addSql(`create trigger "${table}_config_version" after insert or update or delete or truncate on "${table}" for each statement execute function "bump_config_version"();`);
    }
  }
}
