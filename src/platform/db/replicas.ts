import type { EntityManager } from '@mikro-orm/postgresql';

/** Runs one read-only statement; where it runs is the caller's choice (primary or lagTolerant). */
export interface SqlReader {
  execute<T extends object[] = Record<string, unknown>[]>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * A read that may lag the primary by a few seconds, sent to a read replica when
 * `DATABASE_READ_URLS` is set (MikroORM picks one at random), to the primary otherwise.
 *
 * Only for the reads docs/scaling.md ("Read replicas") lists: program stats, rank history,
 * catalog lists, ledger history pages under a query. Never for a money path, never inside a transaction (it
 * runs outside it), never to read what the same member just wrote.
 */
export function lagTolerant(em: EntityManager): SqlReader {
  return { execute: (sql, params = []) => em.getConnection('read').execute(sql, params, 'all') };
}

/** The primary, behind the same interface (a read that must see the latest write, or that feeds one). */
export function primary(em: EntityManager): SqlReader {
  return { execute: (sql, params = []) => em.execute(sql, params) };
}
