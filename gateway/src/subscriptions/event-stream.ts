import type { ExecutionResult } from 'graphql';

/**
 * A push-based async iterator for one subscription: events are queued as they arrive, mapped to
 * results one at a time (in order) when the consumer asks, and `return()` unsubscribes at once even
 * while the consumer is waiting (an `async function*` would postpone that until its next yield).
 */
export class EventStream<E> implements AsyncIterableIterator<ExecutionResult> {
  private readonly queue: E[] = [];
  private wake?: () => void;
  private done = false;
  private readonly unsubscribe: () => void;

  constructor(
    subscribe: (push: (event: E) => void) => () => void,
    private readonly map: (event: E) => Promise<ExecutionResult | null>,
    /** A consumer this far behind is slow: the oldest events are dropped, not buffered without bound. */
    private readonly maxQueue = 256,
  ) {
    this.unsubscribe = subscribe((event) => {
      if (this.done) return;
      this.queue.push(event);
      if (this.queue.length > this.maxQueue) this.queue.shift();
      this.wake?.();
    });
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      const event = this.queue.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const result = await this.map(event);
      if (result && !this.done) return { done: false, value: result };
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.done) {
      this.done = true;
      this.queue.length = 0;
      this.unsubscribe();
      this.wake?.();
    }
    return { done: true, value: undefined };
  }

  async throw(err: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
