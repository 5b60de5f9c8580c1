import type { EntityManager } from '@mikro-orm/postgresql';
import { isTransactionConflict } from './failures';

/** Attempts of one unit of work, the first included, before a conflict reaches the caller. */
export const TRANSACTION_ATTEMPTS = 4;
/** Backoff before retry n (1-based): a random wait in [0, BASE × 2^n) ms, "full jitter". */
const BACKOFF_BASE_MS = 5;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one place a unit of work opens its transaction. A serialization failure or a deadlock
 * (40001, 40P01) means PostgreSQL rolled the whole transaction back, so running `work` again is
 * safe and correct: up to TRANSACTION_ATTEMPTS times, with jittered backoff so the racers do not
 * collide again in lockstep. `work` must therefore build everything it writes inside itself.
 * Inside an enclosing transaction nothing is retried here: only the outermost unit can rerun.
 */
export async function transaction<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await em.transactional(work);
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || em.isInTransaction() || !isTransactionConflict(error)) throw error;
      await pause(Math.random() * BACKOFF_BASE_MS * 2 ** attempt);
    }
  }
}
