/** How long a spawned service may take to answer its health check: starting two `tsx` processes at once takes over 30 s (testenv's default) on a loaded 2-core machine. */
export const START_TIMEOUT_MS = 120_000;
