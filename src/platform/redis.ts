import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface RedisClients {
  /** Commands (boards, caches, rate limits): fails fast while Redis is down instead of queueing. */
  command: Redis;
  /** Publishes events; a lost publish is logged, never fails the committed transaction. */
  publisher: Redis;
  /** Pub/sub subscriptions; re-subscribes by itself when Redis comes back. */
  subscriber: Redis;
  prefix: string;
  /**
   * On a Redis Cluster: publish and subscribe with SPUBLISH/SSUBSCRIBE (Redis 7 sharded pub/sub),
   * so a channel (one member's balance events) lives on the shard owning its slot instead of being
   * broadcast to every node.
   */
  sharded: boolean;
  close(): Promise<void>;
}

const common: RedisOptions = {
  lazyConnect: true,
  connectTimeout: 2000,
  maxRetriesPerRequest: 1,
  // Keep trying forever, but never wait more than 2 s between attempts: subscriptions resume soon after Redis does.
  retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
};

/**
 * One Redis (REDIS_URL) or, with cluster nodes (REDIS_CLUSTER_NODES), ioredis' Cluster. The
 * Cluster answers the same commands as Redis for everything this app sends (single-key commands,
 * and multi-key ones and pipelines only within one hash tag: see boardKey), so it is typed as
 * Redis and no domain needs to know which it talks to.
 */
export function createRedis(url: string, prefix: string, clusterNodes: ClusterNode[] = []): RedisClients {
  if (clusterNodes.length > 0) return createCluster(clusterNodes, prefix);
  // A hung Redis must not hang a request: commands give up after a second.
  const command = new Redis(url, { ...common, keyPrefix: prefix, enableOfflineQueue: false, commandTimeout: 1000 });
  const publisher = new Redis(url, { ...common, enableOfflineQueue: false });
  const subscriber = new Redis(url, { ...common, maxRetriesPerRequest: null, autoResubscribe: true });
  // Errors are reported through readiness and the callers' failures; unhandled 'error' events would crash.
  for (const client of [command, publisher, subscriber]) client.on('error', () => {});
  // graphql-redis-subscriptions unsubscribes without awaiting: when a subscription ends as the
  // connection closes (shutdown, Redis gone), that promise would reject unhandled. Nothing is left
  // to unsubscribe from a closed connection, so the failure is dropped here.
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const original = subscriber[method].bind(subscriber) as (...channels: string[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[method] = (...channels: string[]) => original(...channels).catch(() => 0);
  }
  return {
    command,
    publisher,
    subscriber,
    prefix,
    sharded: false,
    async close() {
      await Promise.all([command, publisher, subscriber].map(closeClient));
    },
  };
}

function createCluster(nodes: ClusterNode[], prefix: string): RedisClients {
  const cluster = (options: ClusterOptions) =>
    new Cluster(nodes, {
      lazyConnect: true,
      // Slots move on a failover: follow them instead of failing the command.
      maxRedirections: 16,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 1 },
      ...options,
    });
  const command = cluster({ keyPrefix: prefix, enableOfflineQueue: false, redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 1, commandTimeout: 1000 } });
  const publisher = cluster({ enableOfflineQueue: false });
  // One subscriber connection per shard, re-subscribed by ioredis when a replica takes over.
  const subscriber = cluster({ shardedSubscribers: true });
  for (const client of [command, publisher, subscriber]) client.on('error', () => {});
  return {
    command: command as unknown as Redis,
    publisher: publisher as unknown as Redis,
    subscriber: subscriber as unknown as Redis,
    prefix,
    sharded: true,
    async close() {
      await Promise.all([command, publisher, subscriber].map(closeClient));
    },
  };
}

/**
 * QUIT lets the replies already asked for arrive. A client that is not connected (Redis down,
 * reconnecting) would queue the QUIT until Redis comes back, and shutdown would wait for it
 * forever: that one is cut instead (issue 15: SIGTERM must end, whatever Redis is doing).
 */
async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status !== 'ready') return void client.disconnect();
  await client.quit().catch(() => client.disconnect());
}

export async function connectRedis(clients: RedisClients): Promise<void> {
  await Promise.all([clients.command, clients.publisher, clients.subscriber].map((c) => (c.status === 'wait' ? c.connect() : Promise.resolve())));
}

export function redisAvailable(redis: Redis): boolean {
  return redis.status === 'ready';
}
