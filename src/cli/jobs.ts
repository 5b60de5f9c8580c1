import 'reflect-metadata';
import { loadConfig } from '../platform/config';
import { preflight } from '../platform/preflight';
import { openOrm } from '../platform/db/orm';
import { createLogger } from '../platform/logger';
import { systemClock } from '../platform/clock';
import { Metrics } from '../platform/metrics';
import { createRedis, connectRedis } from '../platform/redis';
import { RedisPubSubAdapter } from '../realtime/pubsub';
import { JobRunner } from '../jobs/runner';
import { createServices } from '../app';

/**
 * npm run jobs — every scheduled job once, then exit (for cron); `-- --loop` keeps running on
 * JOBS_INTERVAL_MS. Safe beside servers that run the same jobs.
 */
async function run() {
  const config = loadConfig();
  await preflight(config);
  const log = createLogger(config.logLevel, { pretty: config.env === 'development' });
  const orm = await openOrm(config.databaseUrl, 4);
  const redis = createRedis(config.redisUrl, config.redisPrefix, config.redisClusterNodes);
  await connectRedis(redis);
  const pubSub = new RedisPubSubAdapter(redis, log);
  const services = createServices({ clock: systemClock, config, orm, redis, pubSub, log });
  const runner = new JobRunner({ orm, clock: systemClock, services, pubSub, log, metrics: new Metrics(), intervalMs: config.jobs.intervalMs });
  const close = async () => {
    await runner.stop();
    await pubSub.close();
    await redis.close();
    await orm.close();
  };
  if (process.argv.includes('--loop')) {
    runner.start();
    process.once('SIGTERM', () => void close().then(() => process.exit(0)));
    process.once('SIGINT', () => void close().then(() => process.exit(0)));
    return;
  }
  const results = await runner.runOnce();
  await close();
  process.stdout.write(`${JSON.stringify(results)}\n`);
  if (Object.values(results).some((r) => 'error' in r)) process.exitCode = 1;
}

run().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
