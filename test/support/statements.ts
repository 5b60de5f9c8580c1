import pg from 'pg';

/**
 * Every SQL statement this process hands PostgreSQL while `run` runs, whoever sends it (MikroORM
 * through knex, or a bare pg client): the wire is counted, not one library's log, so a statement
 * moved out of the ORM is still counted. BEGIN and COMMIT are statements (round trips) too.
 * The app runs in the test's process (test/support/app.ts), so this sees all of its statements;
 * nothing else may run against the database meanwhile (await the use case, no background work).
 */
export async function recordStatements<T>(run: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const statements: string[] = [];
  proto.query = function query(this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text === 'string') statements.push(text.replace(/\s+/g, ' ').trim());
    return original.apply(this, args);
  };
  try {
    return { result: await run(), statements };
  } finally {
    proto.query = original;
  }
}

/** Statements inside a transaction (from BEGIN to COMMIT/ROLLBACK, both included) and outside. */
export function splitByTransaction(statements: string[]): { inTransaction: string[]; outside: string[] } {
  const inTransaction: string[] = [];
  const outside: string[] = [];
  let open = false;
  for (const s of statements) {
    const head = s.slice(0, 16).toLowerCase();
    if (head.startsWith('begin') || head.startsWith('start transaction')) open = true;
    (open ? inTransaction : outside).push(s);
    if (head.startsWith('commit') || head.startsWith('rollback')) open = false;
  }
  return { inTransaction, outside };
}
