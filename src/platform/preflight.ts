import { Redis } from 'ioredis';
import { ensureDatabase } from './db/database';
import type { Config } from './config';

export class ServiceDownError extends Error {}

const hostOf = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}`;
};

const reasonOf = (error: unknown) => {
  const e = error as { code?: string; message?: string };
  return e.code ?? e.message?.split('\n')[0] ?? 'unknown error';
};

/**
 * Before anything else: are PostgreSQL and Redis there? One line each on what is missing and
 * how to start it, instead of a stack trace from deep inside a driver.
 */
export async function preflight(config: Config): Promise<{ databaseCreated: boolean }> {
  let databaseCreated = false;
  try {
    databaseCreated = await ensureDatabase(config.databaseUrl);
  } catch (error) {
    throw new ServiceDownError(
      `PostgreSQL is not reachable at ${hostOf(config.databaseUrl)} (${reasonOf(error)}). ` +
        `Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start  (or: docker compose up -d postgres), or set DATABASE_URL.`,
    );
  }
  // On a cluster, one seed answering is enough for the client to find the rest.
  const seed = config.redisClusterNodes[0];
  const redisUrl = seed ? `redis://${seed.host}:${seed.port}` : config.redisUrl;
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new ServiceDownError(
      `Redis is not reachable at ${hostOf(redisUrl)} (${reasonOf(error)}). ` +
        (seed ? 'Check REDIS_CLUSTER_NODES.' : `Start it with: redis-server --daemonize yes --port 6379  (or: docker compose up -d redis), or set REDIS_URL.`),
    );
  } finally {
    redis.disconnect();
  }
  return { databaseCreated };
}
