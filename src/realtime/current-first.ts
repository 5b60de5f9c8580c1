/**
 * A live event stream that starts with the current state: the subscription to `live` is opened
 * first (its first next() subscribes), then `current` is read, so a change committed meanwhile is
 * in the snapshot or in the stream, never in neither. A client that (re)connects — or missed a
 * push because an instance died between commit and publish — starts from the truth.
 * `current` failing (PostgreSQL away) only skips the snapshot: the live stream stays open.
 */
export function currentFirst<T>(live: AsyncIterator<T>, current: () => Promise<T | null>): AsyncIterableIterator<T> {
  let first: Promise<IteratorResult<T>> | null = live.next();
  let snapshot: Promise<T | null> | null = current().catch(() => null);
  return {
    async next() {
      if (snapshot) {
        const value = await snapshot;
        snapshot = null;
        if (value !== null) return { done: false, value };
      }
      if (first) {
        const pending = first;
        first = null;
        return pending;
      }
      return live.next();
    },
    // Straight to the source, even while waiting for an event, so the subscription is always released.
    return: () => (live.return ? live.return() : Promise.resolve({ done: true as const, value: undefined })),
    throw: (error?: unknown) => (live.throw ? live.throw(error) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
