import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * Subscription fields whose events are the same for every viewer of a role: a board or the
 * admins' stats, pushed to thousands of sockets. Their results and bytes are shared across
 * members. Every other subscription (balance, expiry warnings, tier changes, anything added
 * later) is shared only between sockets of the same principal: fail closed.
 */
export const PUBLIC_FEEDS: ReadonlySet<string> = new Set(['leaderboardChanged', 'programStatsUpdated']);

/** How one subscription of one socket takes its events (registered by ws-server under its contextValue). */
export interface SubscriptionTarget {
  /**
   * Same key ⇔ same document, operation, variables and audience (role, plus the principal unless
   * the operation is a public feed that reaches no member-owned type): sockets with one key are
   * entitled to the same result for the same event, so it is executed and serialized once.
   */
  key: string;
  /** Writes this subscription's `next` frame around the shared payload bytes; settles once the socket took it. */
  deliver(payload: Buffer): Promise<void>;
}
export const subscriptionTargets = new WeakMap<object, SubscriptionTarget>();

/** One event's result for one selection key, and its `payload` bytes, both made once. */
export class SharedResult {
  private bytes: Buffer | null = null;
  constructor(readonly result: ExecutionResult) {}

  payload(): Buffer {
    return (this.bytes ??= SharedResult.encode(this.result));
  }

  /** The one serialization of a result (tests count the calls). graphql-ws would send the same JSON. */
  static encode(result: ExecutionResult): Buffer {
    return Buffer.from(JSON.stringify(result));
  }
}

/** Per event payload object: the result of each distinct selection key, computed once. */
const shared = new WeakMap<object, Map<string, Promise<SharedResult>>>();

function sharedResult(args: ExecutionArgs, key: string, payload: object): Promise<SharedResult> {
  let results = shared.get(payload);
  if (!results) shared.set(payload, (results = new Map()));
  let result = results.get(key);
  if (!result) results.set(key, (result = Promise.resolve(execute({ ...args, rootValue: payload })).then((r) => new SharedResult(r))));
  return result;
}

/**
 * graphql-js executes a subscription's selection once per event per subscriber, and graphql-ws
 * serializes each result once per subscriber. Feeds hand the same payload object to every
 * subscriber entitled to it (one board slice, one parsed Redis message per member channel), so for
 * one event each selection key is executed once and serialized once, and each socket gets a frame
 * made of its subscription id around those shared bytes, written straight to its socket.
 * A result with errors goes back to graphql-ws instead, so its onNext masks them as everywhere.
 */
export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in (stream as object))) return stream as ExecutionResult;
  const target = subscriptionTargets.get(args.contextValue as object);
  const iterator = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next(): Promise<IteratorResult<ExecutionResult>> {
      for (;;) {
        const event = await iterator.next();
        if (event.done) return { done: true, value: undefined };
        const payload = event.value;
        if (!target || payload === null || typeof payload !== 'object') return { done: false, value: await execute({ ...args, rootValue: payload }) };
        const result = await sharedResult(args, target.key, payload);
        if (result.result.errors?.length) return { done: false, value: result.result };
        // Waits until the socket took the frame, as graphql-ws does: a slow reader's feed keeps only the latest value meanwhile.
        await target.deliver(result.payload());
      }
    },
    // Straight to the source: a subscriber that leaves must unsubscribe even while waiting for an event.
    return: () => (iterator.return ? iterator.return() : Promise.resolve({ done: true, value: undefined })) as Promise<IteratorResult<ExecutionResult>>,
    throw: (error?: unknown) => (iterator.throw ? iterator.throw(error) : Promise.reject(error)) as Promise<IteratorResult<ExecutionResult>>,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return results;
}
