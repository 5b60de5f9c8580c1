import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { RedemptionService } from '../catalog/redemption.service';

export interface PaymentTimeoutRunResult {
  released: number;
  skipped: number;
  batches: number;
}

/**
 * Releases points + cash holds still unpaid past their paymentDueBy: points back to the same
 * lots (REFUND), stock back, a notification, reason "payment timeout". Walks the due holds in
 * (payment_due_by, id) keyset batches on a partial index of pending rows only, so memory stays
 * flat. Each hold is released in its own transaction that locks the member with SKIP LOCKED and
 * re-reads the status under the lock: several instances can run it at once, a hold is released
 * once, and one that is being paid or cancelled right now is left to that transaction (or to
 * the next run).
 */
export class PaymentTimeoutJob {
  readonly name = 'payment-timeout';

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; redemptions: RedemptionService; batchSize?: number }) {}

  async run(): Promise<PaymentTimeoutRunResult> {
    const now = this.deps.clock.now();
    const batchSize = this.deps.batchSize ?? 500;
    const result: PaymentTimeoutRunResult = { released: 0, skipped: 0, batches: 0 };
    let cursor: { dueBy: Date; id: string } = { dueBy: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
    for (;;) {
      const em = this.deps.orm.em.fork();
      const due = await em.execute<{ id: string; member_id: string; payment_due_by: Date }[]>(
        `select id, member_id, payment_due_by from redemption
         where status = 'PENDING_PAYMENT' and payment_due_by <= ? and (payment_due_by, id) > (?, ?)
         order by payment_due_by, id limit ?`,
        [now, cursor.dueBy, cursor.id, batchSize],
      );
      if (due.length === 0) break;
      const last = due[due.length - 1];
      cursor = { dueBy: new Date(last.payment_due_by), id: last.id };
      for (const hold of due) {
        if (await this.deps.redemptions.releaseUnpaid(em.fork(), hold.id, hold.member_id)) result.released += 1;
        else result.skipped += 1;
      }
      result.batches += 1;
      if (due.length < batchSize) break;
    }
    return result;
  }
}
