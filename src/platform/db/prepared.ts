import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A hot read as a named prepared statement (issue 14). MikroORM's `em.execute` goes through knex,
 * which inlines the values into the SQL text, so PostgreSQL parses and plans every call, and the
 * ORM and knex format every value on the way. A named statement is parsed once per connection
 * (the driver remembers which connections know it) and runs on the extended protocol with bound
 * values. Only for the few statements every screen or money path makes (the member record, every
 * statement of a redemption); everything else stays on the ORM.
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
interface LoggedConnection {
  executeQuery<R>(query: string, run: () => Promise<R>, context?: { connection?: { type: string }; params?: unknown[] }): Promise<R>;
}
interface KnexClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/** The knex transaction MikroORM keeps on a transaction's EntityManager: its client holds the one connection. */
interface KnexTransaction {
  client: KnexClient;
}

/**
 * Runs `statement` on a connection of the ORM's own pool (same limits, timeouts and type parsers
 * as every other statement; nothing more to open or close), or, inside a unit of work, on that
 * transaction's own connection (knex's transaction client hands out only that one), so it sees
 * the transaction's writes and takes its locks there (issue 14: the redemption's statements).
 * Failures are the driver's, which platform/db/failures.ts classifies as for any other statement.
 */
export async function runPrepared<T>(em: EntityManager, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  const trx = em.isInTransaction() ? em.getTransactionContext<KnexTransaction>() : undefined;
  // The primary, explicitly: a prepared read serves money (the balance), never a lagging replica.
  const orm = em.getConnection('write');
  const client = trx ? trx.client : (orm.getKnex().client as unknown as KnexClient);
  const connection = await client.acquireConnection();
  try {
    // Through the ORM's own query logging (MikroORM's protected executeQuery): the statement is
    // timed, logged at debug level like every other one, and visible to whatever observes the
    // ORM's logger (test/scale/read-replicas.test.ts checks which pool each read used).
    const logged = orm as unknown as LoggedConnection;
    const result = await logged.executeQuery(statement.text, () => connection.query({ name: statement.name, text: statement.text, values }), { connection: { type: 'write' }, params: values });
    return result.rows as T[];
  } finally {
    // A transaction's connection is released by its commit or rollback.
    if (!trx) void client.releaseConnection(connection);
  }
}

/**
 * A statement written with knex's `?` placeholders (the shared SQL fragments, e.g. the spendable
 * balance and the catalog's availability, are), numbered `$1`, `$2` … in order, so one text serves
 * both the ORM and a prepared read. The text must hold no other `?` (no jsonb `?` operator, none in
 * a literal or comment). The baselines number the same text the same way, so the SQL is identical.
 * PostgreSQL replans a prepared statement after DDL, but one whose result columns come from `*`
 * (DEBIT_SQL's `entry.*`) fails with "cached plan must not change result type" on a connection
 * that prepared it before a migration changed that table's columns: such a migration ships with
 * a restart of the instances.
 */
export function preparedFromKnex(name: string, text: string): PreparedStatement {
  let n = 0;
  return { name, text: text.replace(/\?/g, () => `$${++n}`) };
}
