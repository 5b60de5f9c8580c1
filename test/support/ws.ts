import type { Client } from 'graphql-ws';
import type { Redis } from 'ioredis';

/**
 * One subscription's events, read in order. `next()` waits for the next unread event (woken by
 * the event itself, not by polling); `expectNothing()` proves that nothing arrived by a sentinel:
 * it triggers an event that must reach this subscription and checks that it is the next one read.
 * Events of one subscription arrive in publish order (one Redis connection, one socket), so an
 * unwanted event published before the sentinel would be read first. No sleep proves absence.
 */
export interface Collector<T> {
  /** Every event received so far (read or not). */
  readonly events: T[];
  /** GraphQL errors in payloads and transport errors. */
  readonly errors: unknown[];
  /** The next unread event; fails after `timeoutMs` (a bound on waiting, never a proof). */
  next(timeoutMs?: number): Promise<T>;
  /**
   * Runs `trigger` (which must cause an event for this subscription) and resolves with that event,
   * failing if anything else arrives before it: proof that no other event was sent in between.
   */
  expectNothing(trigger: () => Promise<unknown>, isSentinel: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  dispose(): void;
}

export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown>, field: string): Collector<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  let wake: (() => void) | null = null;
  let read = 0;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(value.errors);
        else events.push((value.data as Record<string, T>)[field]);
        wake?.();
      },
      error: (error) => {
        errors.push(error);
        wake?.();
      },
      complete: () => undefined,
    },
  );

  async function next(timeoutMs = 3000): Promise<T> {
    if (read < events.length) return events[read++];
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        wake = () => (read < events.length || errors.length ? resolve() : undefined);
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms (${events.length} received, ${read} read); errors: ${JSON.stringify(errors)}`)), timeoutMs);
      });
    } finally {
      wake = null;
      clearTimeout(timer);
    }
    if (read < events.length) return events[read++];
    throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
  }

  return {
    events,
    errors,
    next,
    async expectNothing(trigger, isSentinel, timeoutMs) {
      await trigger();
      const event = await next(timeoutMs);
      if (!isSentinel(event)) throw new Error(`expected nothing before the sentinel, got ${JSON.stringify(event)}`);
      return event;
    },
    dispose,
  };
}

/**
 * Publishes a sentinel event on a subscription's Redis channel (`<prefix><TOPIC>:<id>`) through
 * `publisher`, the connection an app (or a job runner) publishes on. Redis serves one connection's
 * commands in order, so everything that connection published before reaches the subscriber before
 * the sentinel: reading the sentinel next proves nothing else was published there.
 */
export async function publishSentinel(publisher: Redis, channel: string, payload: unknown): Promise<void> {
  // graphql-redis-subscriptions serializes payloads with JSON.stringify.
  await publisher.publish(channel, JSON.stringify(payload));
}
