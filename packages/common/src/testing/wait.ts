/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes. For conditions with no event
 * to wait on (a process being up, a pool refreshing); prefer `waitForEvent` where an event exists.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 25, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError ? `: ${(lastError as Error).message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves on the first `event` from `emitter` (optionally matching `filter`), rejects after `timeoutMs`. */
export function waitForEvent<T = unknown>(
  emitter: { on(e: string, l: (...a: any[]) => void): unknown; off(e: string, l: (...a: any[]) => void): unknown },
  event: string,
  { timeoutMs = 5000, filter }: { timeoutMs?: number; filter?: (v: T) => boolean } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const listener = (v: T) => {
      if (filter && !filter(v)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(v);
    };
    emitter.on(event, listener);
  });
}
