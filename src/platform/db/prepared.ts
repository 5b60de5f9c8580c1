import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A hot read as a named prepared statement (issue 14). MikroORM's `em.execute` goes through knex,
 * which inlines the values into the SQL text, so PostgreSQL parses and plans every call, and the
 * ORM and knex format every value on the way. A named statement is parsed once per connection
 * (the driver remembers which connections know it) and runs on the extended protocol with bound
 * values. Only for the few statements every screen or money path makes (the member record, the
 * redemption's own statements); everything else stays on the ORM.
 */
export interface PreparedStatement {
  /** Unique per text: a connection that knows the name runs that text. */
  readonly name: string;
  /** `$1`, `$2` … placeholders. */
  readonly text: string;
}

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}
interface KnexClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/**
 * A statement written with `?` binds (the style of every SQL module) as a named prepared
 * statement with `$1`, `$2` … (the baselines number the same text the same way, so the SQL is
 * identical). Only for text with no `?` other than its binds (no jsonb `?` operators, no `??`).
 * PostgreSQL replans a prepared statement after DDL, but one whose result columns come from `*`
 * (DEBIT_SQL's `entry.*`) fails with "cached plan must not change result type" on a connection
 * that prepared it before a migration changed that table's columns: such a migration ships with
 * a restart of the instances.
 */
export function prepared(name: string, sql: string): PreparedStatement {
  let n = 0;
  return { name, text: sql.replace(/\?/g, () => `$${++n}`) };
}

/** The knex transaction MikroORM keeps on a transaction's EntityManager: its client holds the one connection. */
interface KnexTransaction {
  client: KnexClient;
}

/**
 * Runs `statement` on a connection of the ORM's own pool (same limits, timeouts and type parsers
 * as every other statement; nothing more to open or close), or, inside a unit of work, on that
 * transaction's own connection (knex's transaction client hands out only that one), so it sees
 * the transaction's writes and takes its locks there. Values are bound, never formatted into
 * the text (no ORM or knex formatting on the hot path, no parse or plan per call).
 * Failures are the driver's, which platform/db/failures.ts classifies as for any other statement.
 */
export async function runPrepared<T>(em: EntityManager, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  const trx = em.isInTransaction() ? em.getTransactionContext<KnexTransaction>() : undefined;
  const client = trx ? trx.client : (em.getKnex().client as unknown as KnexClient);
  const connection = await client.acquireConnection();
  try {
    const result = await connection.query({ name: statement.name, text: statement.text, values });
    return result.rows as T[];
  } finally {
    if (!trx) void client.releaseConnection(connection);
  }
}
