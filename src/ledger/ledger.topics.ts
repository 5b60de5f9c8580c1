import type { PubSub } from 'type-graphql';
import type { EntryRow } from './ledger.writer';
import { publishAll } from '../realtime/pubsub';

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
// All of a commit's postings at once (one pipeline on Redis: a job's batch posts thousands), in posting order.
export function publishBalanceEvents(pubSub: PubSub, posted: EntryRow[]): void {
  publishAll(
    pubSub,
    posted.map((entry) => ({ routingKey: BALANCE_TOPIC, payload: balanceEvent(entry), dynamicId: entry.member_id })),
  );
}
