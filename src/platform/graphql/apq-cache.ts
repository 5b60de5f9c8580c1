import type { Redis } from 'ioredis';

/**
 * Apollo's KeyValueCache over Redis, for automatic persisted queries on /graphql: a hash one
 * instance registered is known to all. Keys live under the deployment's REDIS_PREFIX (the
 * client's keyPrefix) and Apollo's own `apq:` prefix, and expire after `ttlSeconds` unless
 * Apollo asks otherwise. A Redis failure is a cache miss (the client then sends the full
 * query once more), never a failed request.
 */
export class RedisKeyValueCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(key)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const ttl = options?.ttl === null ? null : (options?.ttl ?? this.ttlSeconds);
    try {
      if (ttl) await this.redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttl)));
      else await this.redis.set(key, value);
    } catch {
      // A lost registration only costs the client one more full query.
    }
  }

  async delete(key: string): Promise<boolean | void> {
    try {
      return (await this.redis.del(key)) > 0;
    } catch {
      return false;
    }
  }
}
