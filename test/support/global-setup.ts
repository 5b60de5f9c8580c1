import 'reflect-metadata';
import { Redis } from 'ioredis';
import { quoteIdent } from '../../src/platform/db/database';
import { migrate, openOrm } from '../../src/platform/db/orm';
import { databaseUrl, templateName, withAdminClient } from './db';

/**
 * Once per run: check the services, then build the migrated template database that every
 * test file copies. Several runs may start at once, so building is serialized by an advisory lock.
 */
export default async function globalSetup() {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    throw new Error('Tests need Redis on 127.0.0.1:6379 (or REDIS_URL). Start it: redis-server --daemonize yes --port 6379');
  } finally {
    redis.disconnect();
  }

  const template = templateName();
  await withAdminClient(async (client) => {
    await client.query(`select pg_advisory_lock(hashtext('loyalty-test-template'))`);
    try {
      const exists = await client.query('select 1 from pg_database where datname = $1', [template]);
      if (exists.rowCount) return;
      const building = `${template}_building`;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${quoteIdent(building)}`);
      const orm = await openOrm(databaseUrl(building), 2);
      try {
        await migrate(orm);
      } finally {
        await orm.close();
      }
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('loyalty-test-template'))`);
    }
  }).catch((error: Error) => {
    if (/ECONNREFUSED|connect/i.test(error.message)) {
      throw new Error('Tests need PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_URL). Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start');
    }
    throw error;
  });
}
