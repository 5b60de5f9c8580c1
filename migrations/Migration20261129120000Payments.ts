import { Migration } from '@mikro-orm/migrations';

/**
 * Points + cash is paid before delivery (issue 12): a redemption with a cash part waits in
 * PENDING_PAYMENT until the payment system confirms it or paymentDueBy passes.
 * - A payment reference pays one redemption only (unique), so one payment cannot fulfil twice.
 * - The payment-timeout job walks unpaid holds by (payment_due_by, id); the partial index holds
 *   only the few pending rows, not the whole history.
 */
export class Migration20261129120000Payments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "redemption" drop constraint "redemption_status_check";`);
    this.addSql(`alter table "redemption" add constraint "redemption_status_check" check ("status" in ('PENDING_PAYMENT', 'COMPLETED', 'PENDING_SHIPMENT', 'SHIPPED', 'CANCELLED'));`);
    this.addSql(`alter table "redemption" add column "payment_due_by" timestamptz null, add column "payment_reference" text null, add column "paid_at" timestamptz null;`);
    this.addSql(`create unique index "redemption_payment_reference_unique" on "redemption" ("payment_reference") where "payment_reference" is not null;`);
    this.addSql(`create index "redemption_payment_due_idx" on "redemption" ("payment_due_by", "id") where "status" = 'PENDING_PAYMENT';`);
  }
}
