/**
 * A stack of things a test started (servers, processes, clients). Each `push` returns its argument;
 * `disposeAll` stops them newest-first and never throws, so one failing teardown does not leave the
 * rest running. A failure is written to stderr with the name of the part that failed: a teardown
 * that silently fails is how processes leak between suites.
 */
export class Disposables {
  private readonly stack: Array<{ name: string; dispose: () => unknown }> = [];

  push<T>(thing: T, dispose: (t: T) => unknown, name = 'resource'): T {
    this.stack.push({ name, dispose: () => dispose(thing) });
    return thing;
  }

  defer(fn: () => unknown, name = 'deferred teardown'): void {
    this.stack.push({ name, dispose: fn });
  }

  /** Disposes everything; resolves to the names of the parts whose teardown failed. */
  async disposeAll(): Promise<string[]> {
    const failed: string[] = [];
    while (this.stack.length) {
      const { name, dispose } = this.stack.pop()!;
      try {
        await dispose();
      } catch (err) {
        failed.push(name);
        process.stderr.write(`teardown of ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      }
    }
    return failed;
  }
}
