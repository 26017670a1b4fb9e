import type { Logger } from './logger';

/**
 * What a service has started so far, to stop in reverse order. A start that fails half-way calls
 * `stopAll()` so nothing it opened (ports, pools, sockets, timers) outlives the failure.
 */
export class StartedParts {
  private readonly stops: Array<{ name: string; stop: () => Promise<void> | void }> = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Records how to stop `name`, which has just started. */
  add(name: string, stop: () => Promise<void> | void): void {
    this.stops.push({ name, stop });
  }

  /**
   * Stops every part, last started first. A failing stop is logged and the others still run, so one
   * hung dependency does not leave the rest open. Safe to call twice (the second waits for the first).
   */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { name, stop } of this.stops.splice(0).reverse()) {
        try {
          await stop();
          this.logger.debug({ part: name }, 'stopped');
        } catch (err) {
          this.logger.error({ err, part: name }, 'could not stop cleanly');
        }
      }
    })();
    return this.stopping;
  }
}
