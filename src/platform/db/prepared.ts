import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A hot read as a named prepared statement (issue 14). MikroORM's `em.execute` goes through knex,
 * which inlines the values into the SQL text, so PostgreSQL parses and plans every call, and the
 * ORM and knex format every value on the way. A named statement is parsed once per connection
 * (the driver remembers which connections know it) and runs on the extended protocol with bound
 * values. Only for the few reads every screen makes (the member record); everything else stays
 * on the ORM.
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
 * Runs `statement` on a connection of the ORM's own pool (same limits, timeouts and type parsers
 * as every other statement; nothing more to open or close). Outside a unit of work only: it does
 * not see a transaction's uncommitted writes, so a read inside `transaction()` uses the ORM.
 * Failures are the driver's, which platform/db/failures.ts classifies as for any other statement.
 */
export async function runPrepared<T>(em: EntityManager, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  if (em.isInTransaction()) throw new Error(`${statement.name}: a prepared read runs outside a transaction`);
  const client = em.getKnex().client as unknown as KnexClient;
  const connection = await client.acquireConnection();
  const started = Date.now();
  try {
    const result = await connection.query({ name: statement.name, text: statement.text, values });
    // In the ORM's query log like every other statement (debug output, the tests' statement counts).
    em.config.getLogger().logQuery({ query: statement.text, took: Date.now() - started, results: result.rows.length, level: 'info' });
    return result.rows as T[];
  } finally {
    void client.releaseConnection(connection);
  }
}

/**
 * A statement written with knex's `?` placeholders (the shared SQL fragments, e.g. the spendable
 * balance and the catalog's availability, are), numbered `$1`, `$2` … in order, so one text serves
 * both the ORM and a prepared read. The text must hold no other `?` (no jsonb `?` operator, none in
 * a literal or comment).
 */
export function preparedFromKnex(name: string, text: string): PreparedStatement {
  let n = 0;
  return { name, text: text.replace(/\?/g, () => `$${++n}`) };
}
