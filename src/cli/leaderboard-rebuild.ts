import 'reflect-metadata';
import { loadConfig } from '../platform/config';
import { preflight } from '../platform/preflight';
import { openOrm } from '../platform/db/orm';
import { createLogger } from '../platform/logger';
import { systemClock } from '../platform/clock';
import { connectRedis, createRedis } from '../platform/redis';
import { LeaderboardStore } from '../leaderboard/leaderboard.store';
import { LeaderboardRebuild } from '../leaderboard/leaderboard.rebuild';

/** npm run leaderboard:rebuild — every current board rebuilt from the ledger (PostgreSQL is the truth). */
async function run() {
  const config = loadConfig();
  await preflight(config);
  const log = createLogger(config.logLevel, { pretty: config.env === 'development' });
  const orm = await openOrm(config.databaseUrl, 2);
  const redis = createRedis(config.redisUrl, config.redisPrefix, config.redisClusterNodes);
  await connectRedis(redis);
  try {
    const store = new LeaderboardStore({ redis, clock: systemClock, timeZone: config.timeZone, log, retentionDays: config.leaderboard.retentionDays });
    const counts = await new LeaderboardRebuild({ store, orm, clock: systemClock, timeZone: config.timeZone, log }).rebuildAll();
    process.stdout.write(
      `rebuilt: ${Object.entries(counts)
        .map(([k, n]) => `${k} ${n} members`)
        .join(', ')}\n`,
    );
  } finally {
    await redis.close();
    await orm.close();
  }
}

run().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
