import { Migration } from '@mikro-orm/migrations';

/**
 * Flash sales (issue 14): an item an admin flags `hot` is admitted through the Redis gate
 * (src/catalog/flash-sale.gate.ts) before its redemption transaction. The column only says
 * which items; the gate's counters live in Redis and are rebuilt from PostgreSQL.
 */
export class Migration20261130120000FlashSale extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "catalog_item" add column "hot" boolean not null default false;`);
  }
}
