import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { PubSub } from 'type-graphql';
import type { Logger } from '../platform/logger';
import type { Redis } from 'ioredis';
import type { RedisClients } from '../platform/redis';

/** One event to publish: what `PubSub.publish` takes. */
export interface Publication {
  routingKey: string;
  payload: unknown;
  dynamicId?: unknown;
}

/**
 * Publishes a commit's events together (after commit, fire-and-forget like `publish`): in one
 * pipeline on Redis, one by one on any other PubSub (an in-process one in a test).
 */
export function publishAll(pubSub: PubSub, publications: Publication[]): void {
  if (publications.length === 0) return;
  if (pubSub instanceof RedisPubSubAdapter) return pubSub.publishMany(publications);
  for (const p of publications) pubSub.publish(p.routingKey, p.payload, p.dynamicId);
}

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

  /**
   * Many events of one commit (a job's batch) in one pipeline: one write to Redis and one reply to
   * wait for, instead of a command and a promise per member. In order, as `publish` one by one
   * would send them. On a cluster the channels live on different shards, so one by one there.
   */
  publishMany(publications: Publication[]): void {
    if (this.redis.sharded) {
      for (const p of publications) this.publish(p.routingKey, p.payload, p.dynamicId);
      return;
    }
    const pipeline = this.redis.publisher.pipeline();
    // graphql-redis-subscriptions' own serializer is JSON.stringify: subscribers parse the same text.
    for (const p of publications) pipeline.publish(this.channel(p.routingKey, p.dynamicId), JSON.stringify(p.payload));
    pipeline.exec().then(
      (results) => {
        const failed = results?.find(([error]) => error);
        if (failed) this.log.warn({ err: failed[0], events: publications.length }, 'publish failed');
      },
      (error: unknown) => this.log.warn({ err: error, events: publications.length }, 'publish failed'),
    );
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
