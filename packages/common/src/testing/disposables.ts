/**
 * A stack of things a test started (servers, processes, clients). Each `push` returns its argument;
 * `disposeAll` (called from afterAll/afterEach) stops them newest-first and never throws, so one
 * failing teardown does not leave the rest running.
 */
export class Disposables {
  private readonly stack: Array<() => unknown> = [];

  push<T>(thing: T, dispose: (t: T) => unknown): T {
    this.stack.push(() => dispose(thing));
    return thing;
  }

  defer(fn: () => unknown): void {
    this.stack.push(fn);
  }

  async disposeAll(): Promise<void> {
    while (this.stack.length) {
      const fn = this.stack.pop()!;
      try {
        await fn();
      } catch {
        // teardown is best effort; the next item must still run
      }
    }
  }
}
