import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 14 (jobs at 20,000 lots/s): expiry_warning loses its foreign key to points_lot. The
 * claim statement takes every lot id from points_lot itself, and lots are never deleted
 * (allocations and the append-only ledger refer to them), so the check could never fail; but it
 * ran once per claim and took a FOR KEY SHARE lock on each lot: a write to every warned lot's
 * tuple (WAL, dirty ledger pages) and a lock that made a redemption's `for update` of those lots
 * wait for the warning batch. It was about a third of the claim statement (EXPLAIN ANALYZE,
 * bench/README.md, "What jobs measures").
 */
export class Migration20261130140000ExpiryJobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "expiry_warning" drop constraint "expiry_warning_lot_id_foreign";`);
  }
}
