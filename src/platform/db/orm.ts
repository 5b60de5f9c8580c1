import { defineConfig, MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { DefaultLogger, ReflectMetadataProvider, UniqueConstraintViolationException, type LoggerNamespace, type LogContext } from '@mikro-orm/core';
import type { Logger } from '../logger';
import { redactSql } from '../sql-redaction';
import { extname, join } from 'node:path';
import { MIGRATIONS } from '../../../migrations';

export type { EntityManager };

/**
 * MikroORM's messages into our JSON log. Statements are logged at debug only, with placeholders
 * instead of values ('query', never 'query-params'), and redacted again for SQL built with literals.
 */
class OrmLogger extends DefaultLogger {
  constructor(private readonly target: Logger) {
    super({ writer: () => undefined, debugMode: target.isLevelEnabled('debug') ? ['query', 'info', 'discovery'] : false });
  }

  override log(namespace: string, message: string, context?: LogContext) {
    if (!this.isEnabled(namespace as LoggerNamespace, context)) return;
    const text = redactSql(message.replace(/\s+/g, ' ').trim());
    if (context?.level === 'error') this.target.warn({ orm: namespace, sql: text }, 'statement failed');
    else this.target.debug({ orm: namespace, sql: text, ms: context?.took }, namespace === 'query' ? 'sql' : 'orm');
  }

  override logQuery(context: { query: string } & LogContext) {
    if (!this.isEnabled('query', context)) return;
    this.log('query', context.query, context);
  }
}

/**
 * Bounds on every wait for PostgreSQL, so a request fails fast (SERVICE_UNAVAILABLE) instead of
 * hanging while the database is down, restarting or unreachable.
 */
export interface DatabaseTimeouts {
  /** A statement runs at most this long (server side), and its answer is awaited a little longer (client side). */
  statementMs: number;
  /** Opening a connection takes at most this long; waiting for a free pooled one, at most a statement's time. */
  connectMs: number;
}

/** How long the client waits past the server's statement_timeout before giving up on a silent network. */
const CLIENT_WAIT_MARGIN_MS = 1000;

function boundedWaits(timeouts: DatabaseTimeouts) {
  return {
    connection: {
      statement_timeout: timeouts.statementMs,
      // A statement the server never answers (a cut or stalled network): the server's timeout cannot fire for us.
      query_timeout: timeouts.statementMs + CLIENT_WAIT_MARGIN_MS,
      // A session that crashed or stalled mid-transaction must not keep its row locks for long.
      idle_in_transaction_session_timeout: timeouts.statementMs * 2,
      connectionTimeoutMillis: timeouts.connectMs,
      keepAlive: true,
    },
    acquireConnectionTimeout: timeouts.connectMs + timeouts.statementMs,
  };
}

/**
 * Every persisted class lives in a `*.entity.ts` file of its domain; the ORM finds them by that
 * suffix, so platform/ names no domain (house rule). This file decides where: the sources under
 * vitest (this file is `src/platform/db/orm.ts`), the compiled tree under tsc output (it is
 * `dist/src/platform/db/orm.js`: the server, the CLIs, the chaos build and bench/ all load dist).
 */
const ENTITY_FILES = join(__dirname, '..', '..', '**', `*.entity${extname(__filename)}`);

/**
 * The ORM loads the entity files with this import, not its own: written here, vitest sees it and
 * loads them through its module graph, so the ORM knows the very classes the services import
 * (its own native `import()` cannot read `.ts` and would load second copies). Under tsc output it
 * is Node's import of the compiled CommonJS module, from the same module cache as `require`.
 */
const importEntityFile = (path: string): Promise<unknown> => import(path);

export interface OrmOptions {
  /** Where MikroORM's messages go (statements at debug, redacted). */
  log?: Logger;
  /** Unset (migrations, CLIs): statements may run as long as they need. */
  timeouts?: DatabaseTimeouts;
  /** Read replicas (DATABASE_READ_URLS), used only by lagTolerant reads (./replicas.ts). */
  readUrls?: string[];
}

export function ormOptions(databaseUrl: string, poolMax = 20, { log, timeouts, readUrls = [] }: OrmOptions = {}): Options {
  return defineConfig({
    ...(log ? { loggerFactory: () => new OrmLogger(log) } : {}),
    ...(timeouts ? { driverOptions: boundedWaits(timeouts) } : {}),
    clientUrl: databaseUrl,
    entities: [ENTITY_FILES],
    dynamicImportProvider: importEntityFile,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, tableName: 'mikro_orm_migrations', transactional: true, allOrNothing: true, silent: true, snapshot: false },
    pool: { min: 0, max: poolMax },
    // Replicas serve only the reads that ask for them (lagTolerant in ./replicas.ts): an entity
    // read outside a transaction must still see the member's own write made a moment before.
    replicas: readUrls.map((clientUrl) => ({ clientUrl })),
    preferReadReplicas: false,
    forceUtcTimezone: true,
    // Every unit of work forks its own EntityManager (per request, per event, per job batch).
    allowGlobalContext: false,
    debug: log?.isLevelEnabled('debug') ? ['query'] : false,
    // Discovery by path finds nothing when ENTITY_FILES points at the wrong tree: fail at start.
    discovery: { warnWhenNoEntities: true },
    schemaGenerator: { disableForeignKeys: false },
  });
}

export async function openOrm(databaseUrl: string, poolMax?: number, options: OrmOptions = {}): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax, options));
}

export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}

/** The constraint a unique violation broke, so services can name the field in a CONFLICT. */
/**
 * Runs `attempt`; when it loses an insert race on one of `constraints` (another transaction
 * wrote the same key first), runs it once more, now seeing the winner's row (it then finds the
 * row and updates it, returns it, or refuses with CONFLICT). Once only: a second loss is real.
 */
export async function retryOnUniqueViolation<T>(constraints: readonly string[], attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    const constraint = uniqueViolation(error);
    if (constraint && constraints.includes(constraint)) return attempt();
    throw error;
  }
}

export function uniqueViolation(error: unknown): string | null {
  // The ORM's exception, or the driver's own error (SQLSTATE 23505) from a prepared statement,
  // which does not pass through the ORM's exception converter (platform/db/prepared.ts).
  const driverViolation = (error as { code?: unknown } | null)?.code === '23505';
  if (!(error instanceof UniqueConstraintViolationException) && !driverViolation) return null;
  const constraint = (error as { constraint?: string }).constraint;
  if (constraint) return constraint;
  const match = /unique constraint "([^"]+)"/.exec((error as Error).message);
  return match ? match[1] : 'unknown';
}
