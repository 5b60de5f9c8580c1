import { defineConfig, MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ReflectMetadataProvider, UniqueConstraintViolationException } from '@mikro-orm/core';
import { ENTITIES } from './entities';
import { MIGRATIONS } from '../../../migrations';

export type { EntityManager };

export function ormOptions(databaseUrl: string, poolMax = 20): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, tableName: 'mikro_orm_migrations', transactional: true, allOrNothing: true, silent: true, snapshot: false },
    pool: { min: 0, max: poolMax },
    forceUtcTimezone: true,
    // Every unit of work forks its own EntityManager (per request, per event, per job batch).
    allowGlobalContext: false,
    debug: false,
    discovery: { warnWhenNoEntities: false },
    schemaGenerator: { disableForeignKeys: false },
  });
}

export async function openOrm(databaseUrl: string, poolMax?: number): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax));
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
