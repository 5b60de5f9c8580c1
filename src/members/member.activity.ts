import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The statement of touchLastActive, for a use case that folds it into one of its own statements
 * as a CTE (`with touched as (…) insert …`) to save a round trip under its locks (issue 14).
 * Binds: at, memberId.
 */
export const TOUCH_LAST_ACTIVE_SQL = 'update member set last_active_at = ? where id = ?';

/**
 * The member did something (earned on a purchase, redeemed, checked in, completed a task): the
 * "active" of program stats and health. Written in the use case's transaction, with its time.
 */
export async function touchLastActive(tx: EntityManager, memberId: string, at: Date): Promise<void> {
  await tx.execute(TOUCH_LAST_ACTIVE_SQL, [at, memberId]);
}
