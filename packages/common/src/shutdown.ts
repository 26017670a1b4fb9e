import type { Logger } from './logger';

export interface ShutdownOptions {
  /** Longest the handlers may take together before the process exits anyway; default 10000 ms. */
  timeoutMs?: number;
  /** Exit the process when done (default true); tests pass false. */
  exit?: boolean;
  signals?: NodeJS.Signals[];
  /** Signals arriving this soon after the first are echoes, not a request to hurry; default 3000 ms. */
  graceMs?: number;
}

/**
 * On SIGTERM/SIGINT runs `handlers` once, in order (deregister first so traffic stops, then close
 * servers and clients), each isolated so one failure does not skip the rest, then exits 0.
 * The array is read at signal time, so handlers may be pushed after installing. Further signals in
 * the first `graceMs` are ignored: Ctrl-C reaches the launcher and its children together, and the
 * launcher (and tsx) then forward a SIGTERM/SIGINT of their own, which must not cut the
 * deregistration short. A signal after that (a deliberate repeat) exits at once with 1. Returns a function that removes the signal listeners and a
 * `run` that performs the same shutdown programmatically.
 */
export function installShutdown(
  handlers: Array<() => Promise<void>>,
  logger: Logger,
  opts: ShutdownOptions = {},
): { uninstall(): void; run(reason?: string): Promise<void> } {
  const { timeoutMs = 10000, exit = true, signals = ['SIGTERM', 'SIGINT'], graceMs = 3000 } = opts;
  let running: Promise<void> | undefined;
  let startedAt = 0;

  const run = (reason = 'shutdown'): Promise<void> => {
    if (running) return running;
    startedAt = Date.now();
    logger.info({ reason }, 'shutting down');
    running = (async () => {
      const all = (async () => {
        for (const h of handlers) {
          try {
            await h();
          } catch (err) {
            logger.error({ err }, 'shutdown step failed');
          }
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), timeoutMs);
        timer.unref();
      });
      const outcome = await Promise.race([all.then(() => 'done' as const), expired]);
      clearTimeout(timer);
      if (outcome === 'timeout') logger.warn({ timeoutMs }, 'shutdown steps did not finish in time');
      logger.info('stopped');
      if (exit) {
        logger.flush?.();
        process.exit(0);
      }
    })();
    return running;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      if (Date.now() - startedAt < graceMs) {
        logger.debug({ signal }, 'signal during shutdown ignored');
        return;
      }
      logger.warn({ signal }, 'second signal; exiting now');
      if (exit) process.exit(1);
      return;
    }
    void run(signal);
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    uninstall: () => {
      for (const s of signals) process.off(s, onSignal);
    },
    run,
  };
}

/**
 * A service's process entry: starts it, stops it in order on SIGTERM/SIGINT, and on a failed start
 * prints the reason plainly (a ConfigError names each bad variable) and exits 1.
 */
export function runService(start: () => Promise<{ logger: Logger; stop(): Promise<void> }>): void {
  start().then(
    (service) => void installShutdown([() => service.stop()], service.logger),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
