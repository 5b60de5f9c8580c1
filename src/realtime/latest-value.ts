/**
 * A subscriber's mailbox that holds at most one undelivered value: a newer value replaces an
 * older one. A slow consumer therefore sees the latest state, late, and never makes the
 * server buffer an unbounded backlog for it.
 */
export class LatestValueChannel<T> implements AsyncIterableIterator<T> {
  private pending: { value: T } | null = null;
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;
  /**
   * A consumer that can take a value at once, without a promise (shared-execution.ts writes a
   * board straight to the socket). Asked only while the consumer waits in next(), so nothing it
   * takes can overtake a value still on its way through next(); it returns false to let the value
   * go through next() as usual (a result still executing, a backed-up socket).
   */
  direct: ((value: T) => boolean) | null = null;

  constructor(private readonly onClose: () => void = () => {}) {}

  push(value: T): void {
    if (this.closed) return;
    if (this.waiting) {
      if (this.direct?.(value)) return;
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
    } else {
      this.pending = { value };
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.pending) {
      const { value } = this.pending;
      this.pending = null;
      return Promise.resolve({ value, done: false });
    }
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.pending = null;
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
