import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { LatestValueChannel } from './latest-value';

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
  /**
   * Writes this subscription's `next` frame around the shared payload bytes. Returns a promise when
   * the socket is backed up (settled once it took the frame): the next event then waits for it.
   */
  deliver(payload: Buffer): Promise<void> | undefined;
  /** The same when the socket is not backed up; false (nothing written) when it is, so the caller waits through `deliver`. */
  deliverNow(payload: Buffer): boolean;
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

/** One selection's result for one event: the promise while it executes, the result once done (no await needed then). */
interface Pending {
  promise: Promise<SharedResult>;
  done?: SharedResult;
}

/** Per event payload object: the result of each distinct selection key, computed once. */
const shared = new WeakMap<object, Map<string, Pending>>();

function sharedResult(args: ExecutionArgs, key: string, payload: object): Pending {
  let results = shared.get(payload);
  if (!results) shared.set(payload, (results = new Map<string, Pending>()));
  let pending = results.get(key);
  if (!pending) {
    // Done at once when every resolver of the selection is synchronous (the boards', the balance's):
    // the other sockets of the key then take the bytes without waiting a microtask each.
    const executed = execute({ ...args, rootValue: payload });
    if (executed instanceof Promise) {
      const entry: Pending = { promise: executed.then((r) => (entry.done = new SharedResult(r))) };
      pending = entry;
    } else {
      const done = new SharedResult(executed);
      pending = { promise: Promise.resolve(done), done };
    }
    results.set(key, pending);
  }
  return pending;
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
  // A feed that pushes into a LatestValueChannel (the boards: one push per socket per event) is
  // written straight to the socket when it can be: no promise, iterator result or async resume per
  // socket (the fanout bench's server time per delivery, issue 14). Otherwise the loop below.
  if (target && iterator instanceof LatestValueChannel) {
    iterator.direct = (payload: unknown) => {
      if (payload === null || typeof payload !== 'object') return false;
      const result = sharedResult(args, target.key, payload).done;
      if (!result || result.result.errors?.length) return false;
      return target.deliverNow(result.payload());
    };
  }
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next(): Promise<IteratorResult<ExecutionResult>> {
      for (;;) {
        const event = await iterator.next();
        if (event.done) return { done: true, value: undefined };
        const payload = event.value;
        if (!target || payload === null || typeof payload !== 'object') return { done: false, value: await execute({ ...args, rootValue: payload }) };
        const pending = sharedResult(args, target.key, payload);
        const result = pending.done ?? (await pending.promise);
        if (result.result.errors?.length) return { done: false, value: result.result };
        // A backed-up socket is waited for, as graphql-ws waits for every send: meanwhile a slow
        // reader's feed keeps only the latest value (LatestValueChannel) instead of a backlog.
        const backedUp = target.deliver(result.payload());
        if (backedUp) await backedUp;
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
