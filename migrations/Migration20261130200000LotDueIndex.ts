import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 14 (jobs: lot updates that can stay HOT). `points_lot_due_idx` was partial on
 * `remaining > 0`: a predicate column counts as indexed, so no update of `remaining` (expiry
 * zeroing a lot, every redemption drawing from one, refunds) could be HOT, and each wrote a new
 * entry in all three indexes of the lot. It becomes `points_lot_expiry_idx` on (expires_at, id)
 * for every lot; no index of points_lot names `remaining` or `expired_at` any more.
 *
 * Without the predicate the expiry walk would re-read the ever-growing tail of spent and expired
 * lots, so it starts at a persisted watermark instead (`expiry_watermark`, one row: every lot with
 * expires_at < expired_before has remaining = 0). The job advances it (LedgerWriter
 * .advanceExpiryWatermark, where the argument for why it is safe is written); the triggers below
 * lower it whenever a lot with points left is written below it, so no writer, import or clock
 * moved backwards can hide a due lot from the walk.
 *
 * fillfactor 90: a HOT update needs room for the new version on the lot's own page (measured in
 * bench/README.md, jobs). It applies to pages written from now on; an existing table keeps its
 * packed pages until rewritten (VACUUM FULL / pg_repack), which is an operator's choice.
 */
export class Migration20261130200000LotDueIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index "points_lot_due_idx";`);
    this.addSql(`create index "points_lot_expiry_idx" on "points_lot" ("expires_at", "id");`);
    this.addSql(`alter table "points_lot" set (fillfactor = 90);`);
    this.addSql(
      `create table "expiry_watermark" ("id" int not null default 1, "expired_before" timestamptz not null, "updated_at" timestamptz null, constraint "expiry_watermark_pkey" primary key ("id"), constraint expiry_watermark_singleton check (id = 1));`,
    );
    // Where the old walk started: every lot is at or after it, so nothing is skipped on the first run.
    this.addSql(`insert into "expiry_watermark" ("id", "expired_before") values (1, '1970-01-01T00:00:00Z');`);
    // A lot with points left written below the watermark (a past expiry: import, admin SQL, a clock
    // moved backwards) lowers it. The update is a no-op, and takes no lock, in the usual case.
    this.addSql(`create function points_lot_lower_expiry_watermark() returns trigger language plpgsql as $$
      begin
        update expiry_watermark set expired_before = new.expires_at where id = 1 and expired_before > new.expires_at;
        return null;
      end $$;`);
    this.addSql(
      `create trigger points_lot_insert_watermark after insert on "points_lot" for each row when (new.remaining > 0 and new.expires_at is not null) execute function points_lot_lower_expiry_watermark();`,
    );
    // Updates only when points come back or the expiry moves: expiry and debits (remaining down) never call it.
    this.addSql(
      `create trigger points_lot_update_watermark after update of remaining, expires_at on "points_lot" for each row when (new.remaining > 0 and new.expires_at is not null and (new.remaining > old.remaining or new.expires_at is distinct from old.expires_at)) execute function points_lot_lower_expiry_watermark();`,
    );
  }
}
