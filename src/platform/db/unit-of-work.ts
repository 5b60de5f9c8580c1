import type { EntityManager } from '@mikro-orm/postgresql';
import { transaction } from './transaction';

/** Something to do once the unit of work has committed: publish an event, drop a cache entry. */
export type AfterCommit = () => void | Promise<void>;

/**
 * The handle a use case works through (vendure's transactional connection is the model): the
 * transaction's EntityManager, and an outbox of what to publish once it has committed.
 */
export interface UnitOfWork {
  /** Every read and write of the use case goes through this EntityManager, inside the transaction. */
  readonly tx: EntityManager;
  /**
   * Queues `publish` for after the commit (in queueing order). A rollback drops it, and so does a
   * retry: an attempt lost to a serialization failure or deadlock publishes nothing.
   */
  // A function property, not a method: use cases destructure `{ tx, afterCommit }` (no `this`).
  readonly afterCommit: (publish: AfterCommit) => void;
}

/** The outbox of the attempt running on each transaction's EntityManager (so a nested unit joins it). */
const outboxes = new WeakMap<EntityManager, AfterCommit[]>();

/**
 * Runs one use case as one unit of work: one transaction (retried whole on a serialization failure
 * or deadlock, platform/db/transaction.ts), then, only once it has committed, what it queued in its
 * outbox, in order and awaited, so the caller answers after caches and subscribers were told.
 * Every use case that writes runs here; nothing else in src/ opens a transaction (lint rule).
 *
 * Called with the EntityManager of a running unit (a nested use case), the inner work runs in a
 * savepoint and its outbox joins the outer one, to be published when the outer unit commits.
 */
export async function transact<T>(em: EntityManager, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  const outer = outboxes.get(em);
  let outbox: AfterCommit[] = [];
  const result = await transaction(em, async (tx) => {
    // A fresh outbox per attempt: what a rolled-back attempt queued is dropped with its writes.
    outbox = [];
    outboxes.set(tx, outbox);
    return work({ tx, afterCommit: (publish) => void outbox.push(publish) });
  });
  if (outer) {
    outer.push(...outbox);
    return result;
  }
  await publish(outbox);
  return result;
}

/**
 * Runs every queued publication even when one fails (the others must still be told), then
 * reports the first failure: the data is committed, but the caller learns that a publish broke.
 */
async function publish(outbox: AfterCommit[]): Promise<void> {
  let failure: { error: unknown } | null = null;
  for (const run of outbox) {
    try {
      await run();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
