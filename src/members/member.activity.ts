import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The member did something (earned on a purchase, redeemed, checked in, completed a task): the
 * "active" of program stats and health. Written in the use case's transaction, with its time.
 */
export async function touchLastActive(tx: EntityManager, memberId: string, at: Date): Promise<void> {
  await tx.execute('update member set last_active_at = ? where id = ?', [at, memberId]);
}
