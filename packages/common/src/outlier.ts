/**
 * Latency outlier detection for an InstancePool, in the spirit of Envoy's outlier detection: a breaker
 * only opens on errors, but an instance that still answers, only slowly (a sick host, a slow link, a
 * database stall), keeps its share of traffic and drags the pool's p99 with it. An instance whose recent
 * latency is both well above the pool's median and slow in absolute terms is ejected (no ordinary traffic)
 * for a while; each repeat ejection lasts longer; never more than a share of the pool is ejected at once.
 */
export interface OutlierOptions {
  /** An instance whose latency (EWMA) is at least this many times the median of the others is an outlier (default 3). */
  latencyFactor?: number;
  /** …and at least this slow in absolute terms (default 200 ms), so 2 ms against 6 ms ejects nothing. */
  minLatencyMs?: number;
  /** Calls an instance must have answered before it is judged (default 5). */
  minSamples?: number;
  /** First ejection; doubles with each consecutive ejection of the same instance up to maxEjectMs (default 3000). */
  ejectMs?: number;
  /** Longest ejection (default 30000). */
  maxEjectMs?: number;
  /** At most this share of the pool is ejected at once (default 50; at least one instance always stays). */
  maxEjectPercent?: number;
}

/** Weight of the newest sample in the moving average: a few slow calls are enough to notice, one is not. */
const ALPHA = 0.3;

/** Exponentially weighted moving average of one instance's call latency. */
export class LatencyAverage {
  ewma = 0;
  samples = 0;

  record(ms: number): void {
    this.ewma = this.samples === 0 ? ms : ALPHA * ms + (1 - ALPHA) * this.ewma;
    this.samples++;
  }

  reset(): void {
    this.ewma = 0;
    this.samples = 0;
  }
}

export type ResolvedOutlierOptions = Required<OutlierOptions>;

export function resolveOutlierOptions(o: OutlierOptions = {}): ResolvedOutlierOptions {
  return {
    latencyFactor: o.latencyFactor ?? 3,
    minLatencyMs: o.minLatencyMs ?? 200,
    minSamples: o.minSamples ?? 5,
    ejectMs: o.ejectMs ?? 3000,
    maxEjectMs: o.maxEjectMs ?? 30_000,
    maxEjectPercent: o.maxEjectPercent ?? 50,
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The latency above which `candidate` counts as an outlier, given the averages of the pool's other
 * judged instances; undefined when there is nothing to compare with (a lone instance is never ejected).
 */
export function outlierThreshold(others: number[], o: ResolvedOutlierOptions): number | undefined {
  if (others.length === 0) return undefined;
  return Math.max(o.minLatencyMs, o.latencyFactor * median(others));
}

/** How many instances of a pool of `size` may be ejected at once. */
export function maxEjected(size: number, o: ResolvedOutlierOptions): number {
  return Math.min(size - 1, Math.floor((size * o.maxEjectPercent) / 100));
}

/** Length of the `n`-th consecutive ejection (n from 1). */
export function ejectionMs(n: number, o: ResolvedOutlierOptions): number {
  return Math.min(o.maxEjectMs, o.ejectMs * 2 ** Math.max(0, n - 1));
}
