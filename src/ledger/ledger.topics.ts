import type { PubSub } from 'type-graphql';
import type { EntryRow } from './ledger.writer';

/** One channel per member: BALANCE:<memberId>. */
export const BALANCE_TOPIC = 'BALANCE';

/** What travels through Redis: plain JSON, dates as ISO strings. */
export interface BalanceEventPayload {
  memberId: string;
  balance: number;
  delta: number;
  at: string;
  entry: EntryRow;
}

export function balanceEvent(entry: EntryRow): BalanceEventPayload {
  return { memberId: entry.member_id, balance: entry.balance_after, delta: entry.delta, at: new Date(entry.posted_at ?? entry.created_at).toISOString(), entry };
}

/** Called after commit only: subscribers must never see a posting that was rolled back. */
export function publishBalanceEvents(pubSub: PubSub, posted: EntryRow[]): void {
  for (const entry of posted) pubSub.publish(BALANCE_TOPIC, balanceEvent(entry), entry.member_id);
}
