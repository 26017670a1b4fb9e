import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';

/** Breaker states as reported by /ready and /metrics; the gauge value is the index in this list. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3 };

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 3). */
  threshold?: number;
  /** How long an open breaker waits before a half-open probe is allowed (default 5000 ms). */
  cooldownMs?: number;
}

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * One circuit breaker guarding one upstream instance, built on cockatiel's ConsecutiveBreaker:
 * `threshold` consecutive failures open it; after `cooldownMs` the next call through it is the
 * half-open probe, whose success closes it and whose failure opens it for another cool-down.
 * Every error thrown by the guarded function counts as a failure, so callers only throw for
 * instance faults (connection errors, timeouts, 5xx) and return GraphQL-level errors as values.
 */
export class InstanceBreaker {
  readonly policy: CircuitBreakerPolicy;
  readonly threshold: number;
  readonly cooldownMs: number;
  private openedAt = 0;
  private consecutiveFailures = 0;

  constructor(opts: BreakerOptions = {}) {
    this.threshold = opts.threshold ?? 3;
    this.cooldownMs = opts.cooldownMs ?? 5000;
    this.policy = circuitBreaker(handleAll, {
      halfOpenAfter: this.cooldownMs,
      breaker: new ConsecutiveBreaker(this.threshold),
    });
    this.policy.onBreak(() => {
      this.openedAt = Date.now();
    });
    this.policy.onSuccess(() => {
      this.consecutiveFailures = 0;
    });
    this.policy.onFailure(() => {
      this.consecutiveFailures++;
    });
  }

  get state(): BreakerState {
    return STATE_NAMES[this.policy.state];
  }

  /** Consecutive failures seen (reset by a success); for /ready. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /** When it last opened (ms since epoch), 0 if never. */
  get lastOpenedAt(): number {
    return this.openedAt;
  }

  /** Open and past its cool-down: the next call would be the half-open probe. */
  get probeDue(): boolean {
    return this.policy.state === CircuitState.Open && Date.now() - this.openedAt >= this.cooldownMs;
  }

  execute<T>(fn: () => Promise<T>): Promise<T> {
    return this.policy.execute(fn);
  }

  onStateChange(listener: (state: BreakerState) => void): { dispose(): void } {
    return this.policy.onStateChange((s) => listener(STATE_NAMES[s]));
  }

  onBreak(listener: () => void): { dispose(): void } {
    return this.policy.onBreak(() => listener());
  }
}

/** True for the errors cockatiel throws when a breaker refuses a call (the call never left). */
export function isBreakerRejection(err: unknown): boolean {
  return err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError;
}

const NOT_REACHED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CONNECT',
]);

/**
 * True when the request certainly never reached the instance (connection refused, unknown host,
 * connect timeout, refused by an open breaker), so even a mutation may be retried elsewhere.
 * Walks `cause` chains because HTTP clients wrap socket errors. gRPC callers can set
 * `notReached: true` on an error (e.g. for UNAVAILABLE before the call started).
 */
export function isNotReachedError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (isBreakerRejection(e)) return true;
    const o = e as { code?: unknown; notReached?: unknown; cause?: unknown; errors?: unknown };
    if (o.notReached === true) return true;
    if (typeof o.code === 'string' && NOT_REACHED_CODES.has(o.code)) return true;
    // AggregateError from happy-eyeballs connects: every attempt refused
    if (Array.isArray(o.errors) && o.errors.length > 0 && o.errors.every((x) => isNotReachedError(x))) return true;
    e = o.cause;
  }
  return false;
}
