import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { PubSub } from 'type-graphql';
import type { Logger } from '../platform/logger';
import type { Redis } from 'ioredis';
import type { RedisClients } from '../platform/redis';

/**
 * type-graphql's PubSub over Redis, so an event published on one instance reaches
 * subscribers on every instance. Channels carry the deployment's key prefix.
 */
export class RedisPubSubAdapter implements PubSub {
  private readonly inner: RedisPubSub;

  constructor(
    private readonly redis: RedisClients,
    private readonly log: Logger,
  ) {
    this.inner = redis.sharded ? new RedisPubSub({ ...shardedClients(redis), messageEventName: 'smessage' }) : new RedisPubSub({ publisher: redis.publisher, subscriber: redis.subscriber });
  }

  private channel(routingKey: string, dynamicId?: unknown): string {
    if (dynamicId === undefined) return `${this.redis.prefix}${routingKey}`;
    // Topic ids are member ids, strings (type-graphql types them unknown); a number prints the same either way.
    return `${this.redis.prefix}${routingKey}:${typeof dynamicId === 'string' ? dynamicId : JSON.stringify(dynamicId)}`;
  }

  /** Fire-and-forget after commit: the ledger is the truth, a lost push is only a late screen. */
  publish(routingKey: string, payload?: unknown, dynamicId?: unknown): void {
    this.inner.publish(this.channel(routingKey, dynamicId), payload).catch((error: unknown) => {
      this.log.warn({ err: error, routingKey }, 'publish failed');
    });
  }

  subscribe(routingKey: string, dynamicId?: unknown): AsyncIterable<unknown> {
    return this.inner.asyncIterableIterator(this.channel(routingKey, dynamicId)) as AsyncIterable<unknown>;
  }

  /** A plain callback subscription, for per-instance feeds that fan out to many sockets themselves. */
  async listen(routingKey: string, onMessage: (payload: unknown) => void): Promise<() => void> {
    const id = await this.inner.subscribe(this.channel(routingKey), onMessage);
    return () => this.inner.unsubscribe(id);
  }

  /** Quits both connections; a connection already closing (Redis gone) is not an error at shutdown. */
  async close(): Promise<void> {
    await this.inner.close().catch(() => undefined);
  }
}

/**
 * graphql-redis-subscriptions speaks PUBLISH/SUBSCRIBE; on a cluster we hand it clients that send
 * SPUBLISH/SSUBSCRIBE instead (its `messageEventName` then listens to 'smessage'). Patterns have no
 * sharded form, and this app subscribes to none.
 */
function shardedClients(redis: RedisClients) {
  const publisher = redis.publisher;
  const subscriber = redis.subscriber;
  return {
    publisher: { publish: (channel: string, message: string) => publisher.spublish(channel, message), quit: () => publisher.quit(), on: () => undefined } as unknown as Redis,
    subscriber: {
      on: (event: string, listener: (...args: unknown[]) => void) => subscriber.on(event, listener),
      subscribe: (channel: string, callback: (error?: Error | null) => void) => subscriber.ssubscribe(channel).then(() => callback(null), callback),
      psubscribe: (_pattern: string, callback: (error?: Error | null) => void) => callback(new Error('pattern subscriptions are not sharded')),
      unsubscribe: (channel: string) => subscriber.sunsubscribe(channel).catch(() => 0),
      punsubscribe: () => Promise.resolve(0),
      quit: () => subscriber.quit(),
    } as unknown as Redis,
  };
}
