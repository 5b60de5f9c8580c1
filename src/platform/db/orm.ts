import { defineConfig, MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { DefaultLogger, ReflectMetadataProvider, UniqueConstraintViolationException, type LoggerNamespace, type LogContext } from '@mikro-orm/core';
import type { Logger } from '../logger';
import { redactSql } from '../sql-redaction';
import { ENTITIES } from './entities';
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

  override log(namespace: LoggerNamespace | string, message: string, context?: LogContext) {
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

export function ormOptions(databaseUrl: string, poolMax = 20, log?: Logger, readUrls: string[] = []): Options {
  return defineConfig({
    ...(log ? { loggerFactory: () => new OrmLogger(log) } : {}),
    clientUrl: databaseUrl,
    entities: ENTITIES,
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
    discovery: { warnWhenNoEntities: false },
    schemaGenerator: { disableForeignKeys: false },
  });
}

export async function openOrm(databaseUrl: string, poolMax?: number, log?: Logger, readUrls?: string[]): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax, log, readUrls));
}

export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}

/** The constraint a unique violation broke, so services can name the field in a CONFLICT. */
export function uniqueViolation(error: unknown): string | null {
  if (!(error instanceof UniqueConstraintViolationException)) return null;
  const constraint = (error as unknown as { constraint?: string }).constraint;
  if (constraint) return constraint;
  const match = /unique constraint "([^"]+)"/.exec(error.message);
  return match ? match[1] : 'unknown';
}
