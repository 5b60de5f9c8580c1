import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * Runs one statement with its parameters bound ($1, $2 … sent beside the text), in `em`'s
 * transaction if it has one. MikroORM's `execute` inlines every value into the SQL text instead:
 * for a batch job's JSON parameter (a megabyte of notifications) that meant escaping it
 * character by character in JavaScript, a second copy in the text, and the garbage of both —
 * measured as the largest share of the expiry-warning job's own CPU (bench/README.md, jobs).
 * Driver errors come back unwrapped; platform/db/failures.ts reads their codes all the same.
 */
export async function executeBound<T = Record<string, unknown>>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const query = em
    .getConnection()
    .getKnex()
    .raw(sql, params as never[]);
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (trx) query.transacting(trx);
  const result = (await query) as { rows: T[] };
  return result.rows;
}
