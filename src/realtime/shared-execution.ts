import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** Which selection a subscription asked for: its document text, operation and variables. */
export const selectionKeys = new WeakMap<object, string>();

/** Per event payload object: the result of each distinct selection, computed once. */
const executed = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

function mapEvents<T, R>(iterator: AsyncIterator<T>, map: (value: T) => Promise<R>): AsyncIterableIterator<R> {
  return {
    async next() {
      const result = await iterator.next();
      return result.done ? { done: true, value: undefined } : { done: false, value: await map(result.value) };
    },
    // Straight to the source: a subscriber that leaves must unsubscribe even while waiting for an event.
    return: () => (iterator.return ? iterator.return() : Promise.resolve({ done: true, value: undefined })) as Promise<IteratorResult<R>>,
    throw: (error?: unknown) => (iterator.throw ? iterator.throw(error) : Promise.reject(error)) as Promise<IteratorResult<R>>,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * graphql-js executes a subscription's selection once per event per subscriber. Feeds hand the
 * same payload object to every subscriber of a board, so identical selections of one event are
 * executed once and the result shared. Safe because subscription payload types carry no
 * viewer-dependent fields (no masked mobile, no "my" fields): keep it that way, or key by viewer.
 */
export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in (stream as object))) return stream as ExecutionResult;
  const key = selectionKeys.get(args.contextValue as object);
  const iterator = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  return mapEvents(iterator, async (payload) => {
    if (!key || payload === null || typeof payload !== 'object') return execute({ ...args, rootValue: payload });
    let results = executed.get(payload);
    if (!results) executed.set(payload, (results = new Map<string, Promise<ExecutionResult>>()));
    let result = results.get(key);
    if (!result) results.set(key, (result = Promise.resolve(execute({ ...args, rootValue: payload }))));
    return result;
  });
}
