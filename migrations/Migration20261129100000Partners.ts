import { Migration } from '@mikro-orm/migrations';

/**
 * Partners (issue 10): an order belongs to the partner that posted it, so order ids,
 * idempotency and refunds are unique per partner, and task-completion references too.
 * `partner_id` is the token's partnerId, or '' for what admins (the program itself) posted.
 * Existing rows keep every value: their partner is read from the source of their ledger entry
 * (`partner:<id>`), which the ledger has always recorded. Every call to /partner/graphql is
 * audited in `partner_call`.
 */
export class Migration20261129100000Partners extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "purchase" add column "partner_id" text not null default '';`);
    this.addSql(`update "purchase" p set "partner_id" = substr(e."source", 9) from "ledger_entry" e where e."id" = p."entry_id" and e."source" like 'partner:%';`);
    this.addSql(`alter table "purchase_reversal" drop constraint "purchase_reversal_order_id_foreign";`);
    this.addSql(`alter table "purchase_reversal" drop constraint "purchase_reversal_key_unique";`);
    this.addSql(`alter table "purchase" drop constraint "purchase_pkey";`);
    this.addSql(`alter table "purchase" add constraint "purchase_pkey" primary key ("partner_id", "order_id");`);
    this.addSql(`alter table "purchase" alter column "partner_id" drop default;`);
    // Reversal records are append-only (forbid_change): the trigger steps aside for this one backfill only.
    this.addSql(`alter table "purchase_reversal" add column "partner_id" text not null default '';`);
    this.addSql(`alter table "purchase_reversal" disable trigger "purchase_reversal_append_only";`);
    this.addSql(`update "purchase_reversal" r set "partner_id" = p."partner_id" from "purchase" p where p."order_id" = r."order_id" and p."partner_id" <> '';`);
    this.addSql(`alter table "purchase_reversal" enable trigger "purchase_reversal_append_only";`);
    this.addSql(`alter table "purchase_reversal" alter column "partner_id" drop default;`);
    this.addSql(`alter table "purchase_reversal" add constraint "purchase_reversal_key_unique" unique ("partner_id", "order_id", "refund_key");`);
    this.addSql(
      `alter table "purchase_reversal" add constraint "purchase_reversal_order_foreign" foreign key ("partner_id", "order_id") references "purchase" ("partner_id", "order_id") on update restrict on delete restrict;`,
    );

    this.addSql(`alter table "task_completion" add column "partner_id" text not null default '';`);
    this.addSql(`update "task_completion" c set "partner_id" = substr(e."source", 9) from "ledger_entry" e where e."id" = c."entry_id" and c."reference" is not null and e."source" like 'partner:%';`);
    this.addSql(`alter table "task_completion" drop constraint "task_completion_reference_unique";`);
    this.addSql(`alter table "task_completion" add constraint "task_completion_reference_unique" unique ("task_id", "partner_id", "reference");`);

    this.addSql(
      `create table "partner_call" ("id" bigserial primary key, "partner_id" text not null, "operation_name" text null, "code" text not null, "duration_ms" double precision not null, "request_id" text not null, "at" timestamptz not null);`,
    );
    this.addSql(`create index "partner_call_partner_at_idx" on "partner_call" ("partner_id", "at", "id");`);
    this.addSql(`create index "partner_call_at_idx" on "partner_call" ("at", "id");`);
  }
}
