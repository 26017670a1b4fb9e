import type { Outcome } from '../load';

export interface TimedOutcome extends Outcome {
  /** When the request was sent (ms since epoch). */
  at: number;
}

export interface SteadyLoad {
  readonly outcomes: TimedOutcome[];
  /** Stops sending, waits for requests in flight, and returns every outcome in send order. */
  stop(): Promise<TimedOutcome[]>;
}

/**
 * A steady load that runs while a scenario's steps wait on events (a breaker opening, a replica coming
 * back), rather than for a fixed count. Still bounded: it stops by itself after `maxRequests` or
 * `maxMs`, whichever comes first, so a stuck scenario cannot turn it into an open-ended flood.
 */
export function steadyLoad(opts: {
  concurrency: number;
  gapMs: number;
  maxRequests: number;
  maxMs: number;
  send: (i: number) => Promise<Outcome>;
}): SteadyLoad {
  const outcomes: TimedOutcome[] = [];
  const started = Date.now();
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < opts.maxRequests && Date.now() - started < opts.maxMs) {
      const i = next++;
      const at = Date.now();
      outcomes.push({ ...(await opts.send(i)), at });
      await new Promise((r) => setTimeout(r, opts.gapMs));
    }
  };
  const done = Promise.all(Array.from({ length: opts.concurrency }, worker));
  return {
    outcomes,
    async stop() {
      stopped = true;
      await done;
      return [...outcomes].sort((a, b) => a.i - b.i);
    },
  };
}

/** The p-th percentile (0–100) of the outcomes' latency, in ms; 0 when there are none. */
export function percentile(outcomes: Array<{ ms: number }>, p: number): number {
  if (outcomes.length === 0) return 0;
  const s = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
