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
  /** When each event arrived (Date.now(), wall time), index for index with `events`: for tests of coalescing windows. */
  readonly receivedAt: number[];
  /** GraphQL errors in payloads and transport errors. */
  readonly errors: unknown[];
  /** The next unread event; fails after `timeoutMs` (a bound on waiting, never a proof). */
  next(timeoutMs?: number): Promise<T>;
  /** The n-th event received (1-based), read or not; waits for it, and fails on an error or after `timeoutMs`. */
  nth(n: number, timeoutMs?: number): Promise<T>;
  /** The first event received (read or not) that matches, waiting for it; fails on an error or after `timeoutMs`. */
  until(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  /**
   * Runs `trigger` (which must cause an event for this subscription) and resolves with that event,
   * failing if anything else arrives before it: proof that no other event was sent in between.
   */
  expectNothing(trigger: () => Promise<unknown>, isSentinel: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  /** The first error (GraphQL errors of a refused operation, or a transport error), waiting for it; fails after `timeoutMs`. */
  failure(timeoutMs?: number): Promise<unknown>;
  dispose(): void;
}

export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown>, field: string): Collector<T> {
  const events: T[] = [];
  const receivedAt: number[] = [];
  const errors: unknown[] = [];
  // Waiters re-check their condition on every arrival or error (woken, not polling).
  const waiters = new Set<() => void>();
  const wakeAll = () => waiters.forEach((wake) => wake());
  let read = 0;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(value.errors);
        else {
          events.push((value.data as Record<string, T>)[field]);
          receivedAt.push(Date.now());
        }
        wakeAll();
      },
      error: (error) => {
        errors.push(error);
        wakeAll();
      },
      complete: () => undefined,
    },
  );

  /** Resolves with `found()` once it is defined; rejects on a subscription error or after `timeoutMs`. */
  async function waitFor<R>(found: () => R | undefined, timeoutMs: number, what: () => string): Promise<R> {
    const now = found();
    if (now !== undefined) return now;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    try {
      return await new Promise<R>((resolve, reject) => {
        wake = () => {
          const value = found();
          if (value !== undefined) resolve(value);
          else if (errors.length) reject(new Error(`subscription failed: ${JSON.stringify(errors)}`));
        };
        waiters.add(wake);
        if (errors.length) wake();
        timer = setTimeout(() => reject(new Error(`${what()} within ${timeoutMs} ms (${events.length} received, ${read} read); errors: ${JSON.stringify(errors)}`)), timeoutMs);
      });
    } finally {
      if (wake) waiters.delete(wake);
      clearTimeout(timer);
    }
  }

  // Events are wrapped ({ event }) so that an event that is itself undefined still counts as found.
  const at = (i: number) => (i < events.length ? { event: events[i] } : undefined);

  async function next(timeoutMs = 3000): Promise<T> {
    const { event } = await waitFor(
      () => at(read),
      timeoutMs,
      () => 'no event',
    );
    read += 1;
    return event;
  }

  return {
    events,
    receivedAt,
    errors,
    next,
    async nth(n, timeoutMs = 5000) {
      return (
        await waitFor(
          () => at(n - 1),
          timeoutMs,
          () => `only ${events.length} of ${n} events`,
        )
      ).event;
    },
    async until(predicate, timeoutMs = 8000) {
      const match = () => {
        const i = events.findIndex(predicate);
        return i < 0 ? undefined : { event: events[i] };
      };
      return (await waitFor(match, timeoutMs, () => `no matching event in ${JSON.stringify(events).slice(0, 2000)}`)).event;
    },
    async expectNothing(trigger, isSentinel, timeoutMs) {
      await trigger();
      const event = await next(timeoutMs);
      if (!isSentinel(event)) throw new Error(`expected nothing before the sentinel, got ${JSON.stringify(event)}`);
      return event;
    },
    async failure(timeoutMs = 5000) {
      // Found before waitFor's own error check, so an error resolves this wait instead of failing it.
      const first = () => (errors.length ? { error: errors[0] } : undefined);
      return (await waitFor(first, timeoutMs, () => 'no error')).error;
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
