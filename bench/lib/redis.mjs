// Removes the bench's keys (REDIS_PREFIX) so runs do not see each other's leftovers.
import { projectRequire } from './dist.mjs';

export async function clearPrefix(url, prefix) {
  if (!prefix || prefix.length < 2) throw new Error(`refusing to clear Redis prefix ${JSON.stringify(prefix)}`);
  const { Redis } = projectRequire('ioredis');
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) removed += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return removed;
  } finally {
    redis.disconnect();
  }
}
