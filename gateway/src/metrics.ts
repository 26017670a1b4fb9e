import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BREAKER_STATE_VALUE } from '@dream/common';
import type { Pools } from './pools';

/** What the route gauge reads of each announced path prefix. */
export interface RouteAvailability {
  prefix: string;
  pool: { available: number; size: number };
}

/** The gateway's Prometheus metrics; one registry per gateway so tests can run several. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly upstreamErrors: Counter<'subgraph'>;

  constructor(pools: Pools, workerSlot?: number) {
    // several workers answer /metrics on one port in turn: the label tells their series apart
    if (workerSlot !== undefined) this.registry.setDefaultLabels({ worker: String(workerSlot) });
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests served by the gateway',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'Gateway HTTP request latency',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.upstreamErrors = new Counter({
      name: 'gateway_upstream_errors_total',
      help: 'Subgraph fetches that failed after retries (answered SERVICE_UNAVAILABLE)',
      labelNames: ['subgraph'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'gateway_breaker_state',
      help: 'Circuit breaker state per subgraph instance: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['subgraph', 'instance', 'url'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, pool] of pools.entries()) {
          for (const s of pool.status()) this.set({ subgraph: name, instance: s.id, url: s.url }, BREAKER_STATE_VALUE[s.state]);
        }
      },
    });
    new Gauge({
      name: 'gateway_subgraph_instances',
      help: 'Instances per subgraph known from discovery, by availability',
      labelNames: ['subgraph', 'available'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, pool] of pools.entries()) {
          this.set({ subgraph: name, available: 'true' }, pool.available);
          this.set({ subgraph: name, available: 'false' }, pool.size - pool.available);
        }
      },
    });
  }

  /** Instances behind each announced path prefix (the route table is built after the metrics). */
  trackRoutes(routes: () => RouteAvailability[]): void {
    new Gauge({
      name: 'gateway_route_instances',
      help: 'Instances behind each path prefix services announce in discovery, by availability',
      labelNames: ['prefix', 'available'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of routes()) {
          this.set({ prefix: r.prefix, available: 'true' }, r.pool.available);
          this.set({ prefix: r.prefix, available: 'false' }, r.pool.size - r.pool.available);
        }
      },
    });
  }

  /** Live graphql-ws subscriptions and open WebSockets (the client surface is built after the metrics). */
  trackWebSockets(read: () => { subscriptions: number; connections: number }): void {
    new Gauge({
      name: 'gateway_graphql_ws_subscriptions',
      help: 'Live graphql-ws subscriptions on this gateway process',
      registers: [this.registry],
      collect() {
        this.set(read().subscriptions);
      },
    });
    new Gauge({
      name: 'gateway_websocket_connections',
      help: 'Open WebSockets (graphql-ws and the course lists) on this gateway process',
      registers: [this.registry],
      collect() {
        this.set(read().connections);
      },
    });
  }
}
