import type { PubSub } from 'type-graphql';
import { BALANCE_TOPIC, publishBalanceEvents, type BalanceEventPayload } from './ledger.topics';
import type { EntryRow } from './ledger.writer';

/** Tells every instance that the ledger moved (dashboards recompute); no payload, coalesced. */
export const LEDGER_MOVED_TOPIC = 'LEDGER_MOVED';

export type CommitListener = (posted: EntryRow[]) => Promise<void> | void;

/**
 * What happens after a money transaction commits, never before: balance events to the
 * members' channels, the listeners (leaderboards), then one coalesced "ledger moved" notice.
 */
export class LedgerEvents {
  private readonly listeners: CommitListener[] = [];
  private movedTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pubSub: PubSub,
    /** At most one LEDGER_MOVED per this many ms per instance, however busy the ledger is. */
    private readonly movedEveryMs = 100,
  ) {}

  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** One member's balance events as they are published (after commit), on every instance. */
  balanceEvents(memberId: string): AsyncIterator<BalanceEventPayload> {
    return (this.pubSub.subscribe(BALANCE_TOPIC, memberId) as AsyncIterable<BalanceEventPayload>)[Symbol.asyncIterator]();
  }

  committed(posted: EntryRow[]): void {
    if (posted.length === 0) return;
    publishBalanceEvents(this.pubSub, posted);
    // `async`: a listener that throws synchronously is settled like one that rejects, never thrown after commit.
    void Promise.allSettled(this.listeners.map(async (listener) => listener(posted))).then(() => this.moved());
  }

  private moved(): void {
    if (this.movedTimer) return;
    this.movedTimer = setTimeout(() => {
      this.movedTimer = null;
      this.pubSub.publish(LEDGER_MOVED_TOPIC, {});
    }, this.movedEveryMs);
    this.movedTimer.unref();
  }
}
