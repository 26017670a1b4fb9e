import { AppError } from './errors';
import { InstanceBreaker, isBreakerRejection, isNotReachedError, type BreakerOptions, type BreakerState } from './breaker';
import type { Logger } from './logger';
import { rendezvousPick } from './rendezvous';
import { LatencyAverage, ejectionMs, maxEjected, outlierThreshold, resolveOutlierOptions, type OutlierOptions, type ResolvedOutlierOptions } from './outlier';

/** What a pool needs from an instance; discovery's ServiceInstance fits. */
export interface PoolInstance {
  id: string;
  url: string;
}

export interface InstancePoolOptions<I extends PoolInstance> {
  /** Service name, for errors, logs and metrics. */
  service: string;
  breaker?: BreakerOptions;
  /**
   * Half-open probe run in the background once an open breaker's cool-down has passed (e.g. GET
   * /health or a gRPC health check, with its own timeout). With a probe, client traffic never goes
   * to an open instance; without one, the first request after the cool-down is the probe.
   */
  probe?: (instance: I) => Promise<void>;
  logger?: Logger;
  /** Called on every breaker state change (metrics, logs). */
  onStateChange?: (instance: I, state: BreakerState) => void;
  /**
   * Latency outlier detection (see outlier.ts): a slow instance stops getting ordinary traffic for a
   * while. Off when undefined. With a probe, an ejected instance comes back only once the probe is fast.
   */
  outlier?: OutlierOptions;
  /** Called when an instance is ejected as a latency outlier (true) and when it comes back (false). */
  onEjection?: (instance: I, ejected: boolean) => void;
}

export interface ExecuteOptions {
  /** Try once more on the next instance when the first attempt fails. */
  retryOnce?: boolean;
  /**
   * Safe to repeat (queries). When false (mutations) the retry only happens if the first attempt
   * never reached its instance (connection refused, breaker open), so nothing runs twice.
   */
  idempotent?: boolean;
  /**
   * Sticky routing: calls with the same key go to the same live instance (rendezvous hashing over
   * the instances a call could go to), instead of the next one in round-robin order.
   */
  key?: string;
}

export interface InstanceStatus {
  id: string;
  url: string;
  state: BreakerState;
  consecutiveFailures: number;
  /** Calls routed to this instance by `execute` (probes excluded). */
  requests: number;
  openedAt?: string;
  /** Moving average of its call latency (ms), as the outlier detection sees it. */
  latencyMs: number;
  /** Ejected as a latency outlier: gets no ordinary traffic until this time (ISO). */
  ejectedUntil?: string;
}

interface Member<I> {
  instance: I;
  breaker: InstanceBreaker;
  subs: Array<{ dispose(): void }>;
  probeTimer?: NodeJS.Timeout;
  removed: boolean;
  requests: number;
  latency: LatencyAverage;
  /** ms since epoch until which it is ejected as a latency outlier; 0 = not ejected. */
  ejectedUntil: number;
  /** Consecutive ejections (each lasts longer); reset when it comes back fast. */
  ejections: number;
  ejectTimer?: NodeJS.Timeout;
}

/**
 * The live instances of one service: round-robin over those whose breaker is not open, with a
 * circuit breaker per instance. Fed by discovery through `setInstances`, which keeps the breaker of
 * an instance that stays (same id) and drops those that left. Used by the gateway's data sources
 * and by the gRPC clients, so both share one definition of "live".
 */
export class InstancePool<I extends PoolInstance> {
  readonly service: string;
  private members: Member<I>[] = [];
  private cursor = 0;
  private closed = false;
  private readonly outlier?: ResolvedOutlierOptions;

  constructor(private readonly opts: InstancePoolOptions<I>) {
    this.service = opts.service;
    this.outlier = opts.outlier ? resolveOutlierOptions(opts.outlier) : undefined;
  }

  /** Replaces the instance list (from a discovery snapshot). */
  setInstances(instances: readonly I[]): void {
    const byId = new Map(this.members.map((m) => [m.instance.id, m]));
    const next: Member<I>[] = [];
    for (const inst of instances) {
      const existing = byId.get(inst.id);
      if (existing && existing.instance.url === inst.url) {
        existing.instance = inst;
        next.push(existing);
        byId.delete(inst.id);
      } else {
        next.push(this.createMember(inst));
      }
    }
    for (const gone of byId.values()) this.dispose(gone);
    this.members = next;
  }

  get size(): number {
    return this.members.length;
  }

  get instances(): I[] {
    return this.members.map((m) => m.instance);
  }

  /** Instances a request could go to now (breaker closed). */
  get available(): number {
    return this.members.filter((m) => m.breaker.state === 'closed').length;
  }

  status(): InstanceStatus[] {
    return this.members.map((m) => ({
      id: m.instance.id,
      url: m.instance.url,
      state: m.breaker.state,
      consecutiveFailures: m.breaker.failures,
      requests: m.requests,
      ...(m.breaker.lastOpenedAt ? { openedAt: new Date(m.breaker.lastOpenedAt).toISOString() } : {}),
      latencyMs: Math.round(m.latency.ewma),
      ...(m.ejectedUntil ? { ejectedUntil: new Date(m.ejectedUntil).toISOString() } : {}),
    }));
  }

  /**
   * Runs `fn` against the next live instance. Failures count against that instance's breaker;
   * with `retryOnce` a failed attempt is repeated once on the next instance (for non-idempotent
   * calls only when the first never reached its instance). No live instance, or every attempt
   * failed → AppError SERVICE_UNAVAILABLE, at once rather than after a wait.
   */
  async execute<T>(fn: (instance: I) => Promise<T>, opts: ExecuteOptions = {}): Promise<T> {
    const first = this.pick(undefined, opts.key);
    if (!first) throw this.unavailable();
    try {
      return await this.timed(first, fn);
    } catch (err) {
      const retryable = opts.retryOnce && (opts.idempotent || isNotReachedError(err));
      if (!retryable) throw this.failed(err);
      const second = this.pick(first, opts.key) ?? (first.breaker.state === 'closed' && !first.removed ? (first.requests++, first) : undefined);
      if (!second) throw this.failed(err);
      this.opts.logger?.debug({ service: this.service, from: first.instance.id, to: second.instance.id }, 'retrying on another instance');
      try {
        return await this.timed(second, fn);
      } catch (err2) {
        throw this.failed(err2);
      }
    }
  }

  /**
   * One call through the member's breaker; the latency of a successful call feeds the outlier detection.
   * Failures do not: the breaker counts them, and a fast "connection refused" must not make a dead
   * instance look like the fast one everybody else is compared with.
   */
  private async timed<T>(m: Member<I>, fn: (instance: I) => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await m.breaker.execute(() => fn(m.instance));
    this.observe(m, performance.now() - started);
    return result;
  }

  private observe(m: Member<I>, ms: number): void {
    m.latency.record(ms);
    const o = this.outlier;
    if (!o || m.removed || m.ejectedUntil || m.latency.samples < o.minSamples) return;
    const threshold = outlierThreshold(this.othersLatency(m), o);
    if (threshold === undefined || m.latency.ewma < threshold) return;
    if (this.members.filter((x) => x.ejectedUntil).length >= maxEjected(this.members.length, o)) return;
    this.eject(m, threshold);
  }

  /** Latency averages of the other members that have enough samples to be compared with. */
  private othersLatency(m: Member<I>): number[] {
    const min = this.outlier?.minSamples ?? 1;
    return this.members
      .filter((x) => x !== m && !x.ejectedUntil && x.breaker.state === 'closed' && x.latency.samples >= min)
      .map((x) => x.latency.ewma);
  }

  private eject(m: Member<I>, threshold: number): void {
    const o = this.outlier!;
    m.ejections++;
    const ms = ejectionMs(m.ejections, o);
    m.ejectedUntil = Date.now() + ms;
    this.opts.logger?.warn(
      { service: this.service, instance: m.instance.id, url: m.instance.url, latencyMs: Math.round(m.latency.ewma), thresholdMs: Math.round(threshold), ejectMs: ms },
      'instance ejected as a latency outlier',
    );
    this.opts.onEjection?.(m.instance, true);
    clearTimeout(m.ejectTimer);
    m.ejectTimer = setTimeout(() => void this.endEjection(m), ms);
    m.ejectTimer.unref?.();
  }

  /**
   * The ejection time is over. With a probe the instance must first answer it fast (a timed health
   * check, not a client's request); otherwise it returns and is judged again on fresh samples.
   */
  private async endEjection(m: Member<I>): Promise<void> {
    m.ejectTimer = undefined;
    if (m.removed || this.closed) return;
    const o = this.outlier!;
    if (this.opts.probe) {
      const started = performance.now();
      let ok = true;
      try {
        await this.opts.probe(m.instance);
      } catch {
        ok = false;
      }
      const took = performance.now() - started;
      if (m.removed || this.closed) return;
      const threshold = outlierThreshold(this.othersLatency(m), o) ?? o.minLatencyMs;
      if (!ok || took >= threshold) {
        m.ejections++;
        const ms = ejectionMs(m.ejections, o);
        m.ejectedUntil = Date.now() + ms;
        m.ejectTimer = setTimeout(() => void this.endEjection(m), ms);
        m.ejectTimer.unref?.();
        return;
      }
      m.ejections = 0;
    }
    m.ejectedUntil = 0;
    m.latency.reset();
    this.opts.logger?.info({ service: this.service, instance: m.instance.id, url: m.instance.url }, 'latency outlier back in rotation');
    this.opts.onEjection?.(m.instance, false);
  }

  /** Stops probe timers; the pool is unusable afterwards. */
  close(): void {
    this.closed = true;
    for (const m of this.members) this.dispose(m);
    this.members = [];
  }

  /**
   * Next member in round-robin order whose breaker is closed (skipping `exclude`), or with a `key`
   * the one rendezvous hashing gives among those. Without a background probe, an open breaker past
   * its cool-down is offered when nothing else is closed, so live traffic performs the half-open probe.
   */
  private pick(exclude?: Member<I>, key?: string): Member<I> | undefined {
    const list = this.members;
    const n = list.length;
    if (n === 0) return undefined;
    if (key !== undefined) {
      const live = list.filter((m) => m !== exclude && m.breaker.state === 'closed');
      const m = rendezvousPick(key, live.some((x) => !x.ejectedUntil) ? live.filter((x) => !x.ejectedUntil) : live, (x) => x.instance.id);
      if (m) {
        m.requests++;
        return m;
      }
    }
    // ejected latency outliers only when no other closed instance is left (slow beats unavailable)
    for (const allowEjected of [false, true]) {
      for (let i = 0; i < n; i++) {
        const m = list[(this.cursor + i) % n];
        if (m === exclude || m.breaker.state !== 'closed' || (m.ejectedUntil && !allowEjected)) continue;
        this.cursor = (this.cursor + i + 1) % n;
        m.requests++;
        return m;
      }
    }
    if (!this.opts.probe) {
      for (let i = 0; i < n; i++) {
        const m = list[(this.cursor + i) % n];
        if (m !== exclude && m.breaker.probeDue) {
          this.cursor = (this.cursor + i + 1) % n;
          m.requests++;
          return m;
        }
      }
    }
    return undefined;
  }

  private createMember(instance: I): Member<I> {
    const breaker = new InstanceBreaker(this.opts.breaker);
    const m: Member<I> = { instance, breaker, subs: [], removed: false, requests: 0, latency: new LatencyAverage(), ejectedUntil: 0, ejections: 0 };
    m.subs.push(
      breaker.onStateChange((state) => {
        this.opts.logger?.[state === 'closed' ? 'info' : 'warn'](
          { service: this.service, instance: m.instance.id, url: m.instance.url, state },
          `breaker ${state}`,
        );
        this.opts.onStateChange?.(m.instance, state);
      }),
    );
    if (this.opts.probe) m.subs.push(breaker.onBreak(() => this.scheduleProbe(m)));
    return m;
  }

  private scheduleProbe(m: Member<I>): void {
    if (m.removed || this.closed || !this.opts.probe) return;
    clearTimeout(m.probeTimer);
    // a little past the cool-down so cockatiel agrees the breaker may half-open
    m.probeTimer = setTimeout(() => {
      m.probeTimer = undefined;
      if (m.removed || !m.breaker.probeDue) return;
      const probe = this.opts.probe!;
      // a failed probe re-opens the breaker, whose onBreak schedules the next probe
      m.breaker.execute(() => probe(m.instance)).catch(() => undefined);
    }, m.breaker.cooldownMs + 5);
    m.probeTimer.unref?.();
  }

  private dispose(m: Member<I>): void {
    m.removed = true;
    clearTimeout(m.probeTimer);
    clearTimeout(m.ejectTimer);
    for (const s of m.subs) s.dispose();
    m.subs = [];
  }

  private unavailable(): AppError {
    const what = this.members.length === 0 ? 'no registered instance' : 'every instance is failing (circuit open)';
    return new AppError('SERVICE_UNAVAILABLE', `Service "${this.service}" is unavailable: ${what}.`);
  }

  private failed(err: unknown): unknown {
    if (err instanceof AppError) return err;
    if (isBreakerRejection(err)) return this.unavailable();
    const e = new AppError('SERVICE_UNAVAILABLE', `Service "${this.service}" is unavailable: ${describe(err)}.`);
    (e as { cause?: unknown }).cause = err;
    return e;
  }
}

function describe(err: unknown): string {
  const o = err as { code?: unknown; message?: unknown };
  if (typeof o?.code === 'string') return o.code;
  return typeof o?.message === 'string' ? o.message : 'request failed';
}
