import { InstancePool, type BreakerState, type Logger, type RouteAnnouncement, type ServiceInstance, type ServicesSnapshot } from '@dream/common';

/** One announced prefix as the gateway routes it. */
export interface PrefixRoute {
  prefix: string;
  service: string;
  sticky?: { afterPrefix: string };
  /** The service's announced limit capped by the gateway's own. */
  maxBodyBytes: number;
  /** The instances announcing this prefix, with a breaker each. */
  pool: InstancePool<ServiceInstance>;
}

export interface RouteTableOptions {
  /** Services whose announcements are honoured; others are ignored with a warning (a rogue registration must not capture paths). */
  allowed: (service: string) => boolean;
  /** The gateway's body limit per proxied request. */
  maxBodyBytes: number;
  breaker: { cooldownMs: number; threshold: number };
  /** Half-open probe of an instance (GET /health). */
  probe: (instance: ServiceInstance) => Promise<void>;
  logger: Logger;
  onStateChange?: (prefix: string, instance: ServiceInstance, state: BreakerState) => void;
}

/**
 * The path prefixes services announce in discovery, each with the pool of instances announcing it,
 * kept in step with discovery snapshots. A pool keeps its breakers while its instances stay. When two
 * services announce the same prefix, the first by name keeps it (and the conflict is logged once).
 */
export class RouteTable {
  private routes = new Map<string, PrefixRoute>();
  private readonly warned = new Set<string>();

  constructor(private readonly opts: RouteTableOptions) {}

  /** Longest announced prefix `path` lies under. */
  match(path: string): PrefixRoute | undefined {
    let best: PrefixRoute | undefined;
    for (const r of this.routes.values()) if (path.startsWith(r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
    return best;
  }

  /** Every announced route, by prefix. */
  all(): PrefixRoute[] {
    return [...this.routes.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  update(snap: ServicesSnapshot): void {
    const total = Object.values(snap.services).reduce((n, list) => n + list.length, 0);
    // same rule as the subgraph pools: a discovery that lost its state must not empty every route at once
    if (total === 0 && this.routes.size > 0) return;
    const wanted = this.announced(snap);
    for (const [prefix, route] of this.routes) {
      if (wanted.get(prefix)?.service !== route.service) {
        route.pool.close();
        this.routes.delete(prefix);
        this.opts.logger.info({ prefix, service: route.service }, 'route prefix no longer announced');
      }
    }
    for (const [prefix, w] of wanted) {
      let route = this.routes.get(prefix);
      if (!route) {
        route = { prefix, service: w.service, maxBodyBytes: 0, pool: this.createPool(prefix, w.service) };
        this.routes.set(prefix, route);
        this.opts.logger.info({ prefix, service: w.service }, 'route prefix announced');
      }
      route.sticky = w.route.sticky;
      route.maxBodyBytes = Math.min(w.route.maxBodyBytes ?? this.opts.maxBodyBytes, this.opts.maxBodyBytes);
      route.pool.setInstances(w.instances);
    }
  }

  close(): void {
    for (const r of this.routes.values()) r.pool.close();
    this.routes.clear();
  }

  /** prefix → the service that owns it, its announcement (from its newest instance) and the instances announcing it. */
  private announced(snap: ServicesSnapshot) {
    const wanted = new Map<string, { service: string; route: RouteAnnouncement; instances: ServiceInstance[] }>();
    for (const service of Object.keys(snap.services).sort()) {
      for (const inst of snap.services[service]!) {
        if (!inst.routes?.length) continue;
        if (!this.opts.allowed(service)) {
          this.warnOnce(`service:${service}`, { service }, 'ignoring route prefixes of a service that is not allowed to announce any (SUBGRAPHS, ROUTE_SERVICES)');
          continue;
        }
        for (const route of inst.routes) {
          const owner = wanted.get(route.prefix);
          if (owner && owner.service !== service) {
            this.warnOnce(`conflict:${route.prefix}:${service}`, { prefix: route.prefix, service, owner: owner.service }, 'route prefix already announced by another service; ignoring');
            continue;
          }
          if (owner) {
            owner.instances.push(inst);
            owner.route = route; // discovery lists instances oldest first: the newest announcement wins
          } else wanted.set(route.prefix, { service, route, instances: [inst] });
        }
      }
    }
    return wanted;
  }

  private createPool(prefix: string, service: string): InstancePool<ServiceInstance> {
    return new InstancePool<ServiceInstance>({
      service,
      breaker: this.opts.breaker,
      probe: this.opts.probe,
      logger: this.opts.logger,
      onStateChange: (inst, state) => this.opts.onStateChange?.(prefix, inst, state),
    });
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.logger.warn(fields, message);
  }
}
