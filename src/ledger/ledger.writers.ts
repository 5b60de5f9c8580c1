import type { Clock } from '../platform/clock';
import type { UnitOfWork } from '../platform/db/unit-of-work';
import type { LedgerEvents } from './ledger.events';
import { LedgerWriter } from './ledger.writer';

/**
 * Where a use case gets its ledger writer: the one collaborator that builds them. A writer is
 * bound to a unit of work (one per transaction attempt), and what it posts is queued in that
 * unit's outbox, so balance events, boards and the other commit listeners hear of it only after
 * the commit, and a rolled-back or retried attempt is never heard of.
 */
export class LedgerWriters {
  private readonly writers = new WeakMap<UnitOfWork, LedgerWriter>();

  constructor(private readonly deps: { clock: Clock; events: LedgerEvents }) {}

  /** The unit's writer, made on first use; `now` (default: the clock) is the time of everything it writes. */
  of(uow: UnitOfWork, now: Date = this.deps.clock.now()): LedgerWriter {
    let writer = this.writers.get(uow);
    if (!writer) {
      const made = new LedgerWriter(uow.tx, now);
      uow.afterCommit(() => this.deps.events.committed(made.posted));
      this.writers.set(uow, made);
      writer = made;
    }
    return writer;
  }
}
