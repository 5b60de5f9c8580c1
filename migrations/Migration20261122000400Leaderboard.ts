import { Migration } from '@mikro-orm/migrations';

/** Leaderboards: daily rank snapshots; ledger indexes for program stats and board rebuilds. */
export class Migration20261122000400Leaderboard extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "rank_snapshot" ("period" text not null, "day" text not null, "member_id" uuid not null, "rank" int not null, "score" int not null, constraint "rank_snapshot_pkey" primary key ("period", "day", "member_id"));`,
    );
    this.addSql(`create index "rank_snapshot_member_idx" on "rank_snapshot" ("member_id", "period", "day");`);
    this.addSql(`alter table "rank_snapshot" add constraint "rank_snapshot_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`create index "ledger_entry_posted_at_idx" on "ledger_entry" ("posted_at");`);
    this.addSql(`create index "ledger_entry_created_at_idx" on "ledger_entry" ("created_at");`);
  }
}
