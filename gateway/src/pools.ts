import { InstancePool, type BreakerState, type Logger, type OutlierOptions, type ServiceInstance } from '@dream/common';
import type { UpstreamClient } from './upstream';

export interface PoolsOptions {
  upstream: UpstreamClient;
  logger: Logger;
  cooldownMs: number;
  threshold: number;
  /** Latency outlier detection for every pool; undefined = off. */
  outlier?: OutlierOptions;
  onStateChange?: (service: string, instance: ServiceInstance, state: BreakerState) => void;
}

/**
 * One InstancePool per subgraph, created the first time discovery names the service. Breakers
 * probe GET /health after their cool-down, so client traffic never lands on an open instance; a latency
 * outlier is ejected and comes back once that probe answers fast.
 */
export class Pools {
  private readonly pools = new Map<string, InstancePool<ServiceInstance>>();

  constructor(private readonly opts: PoolsOptions) {}

  get(service: string): InstancePool<ServiceInstance> {
    let pool = this.pools.get(service);
    if (!pool) {
      pool = new InstancePool<ServiceInstance>({
        service,
        breaker: { cooldownMs: this.opts.cooldownMs, threshold: this.opts.threshold },
        probe: (inst) => this.opts.upstream.health(inst.url),
        logger: this.opts.logger,
        outlier: this.opts.outlier,
        onStateChange: (inst, state) => this.opts.onStateChange?.(service, inst, state),
      });
      this.pools.set(service, pool);
    }
    return pool;
  }

  has(service: string): boolean {
    return this.pools.has(service);
  }

  names(): string[] {
    return [...this.pools.keys()];
  }

  entries(): Array<[string, InstancePool<ServiceInstance>]> {
    return [...this.pools.entries()];
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
  }
}
