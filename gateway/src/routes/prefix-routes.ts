import { trustedProxies, type Logger, type ServicesSnapshot } from '@dream/common';
import type { GatewayConfig } from '../config';
import type { GatewayExecutor } from '../graphql/executor';
import type { RouteHandler, RouteRegistry } from '@dream/common/http';
import { PrefixProxy } from './prefix-proxy';
import { RouteTable, type PrefixRoute } from './route-table';

export interface PrefixRoutes {
  table: RouteTable;
  /** The route `path` falls under, if a service announced one. */
  match(path: string): PrefixRoute | undefined;
  close(): void;
}

export interface PrefixRouteParts {
  config: Pick<GatewayConfig, 'SUBGRAPHS' | 'ROUTE_SERVICES' | 'ROUTE_MAX_BODY_BYTES' | 'ROUTE_IDLE_TIMEOUT_MS' | 'BREAKER_COOLDOWN_MS' | 'BREAKER_THRESHOLD' | 'TRUSTED_PROXIES'>;
  logger: Logger;
  /** Where the proxy's routes go: asked after the fixed routes, before /graphql and the web app. */
  router: RouteRegistry;
  /** The client's address for X-Forwarded-For, decided like /graphql does. */
  executor: Pick<GatewayExecutor, 'clientAddress'>;
  /** Half-open probe of an instance (GET /health). */
  probe: (instanceUrl: string) => Promise<void>;
  /** Every discovery snapshot, every service in it (not only the subgraphs). */
  discovered: (onSnapshot: (snap: ServicesSnapshot) => void) => void;
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * The gateway's plain-HTTP routes announced by services in discovery: the route table follows every
 * discovery snapshot, and the router hands a request under a prefix to PrefixProxy (metrics label =
 * the prefix). Only SUBGRAPHS and ROUTE_SERVICES may announce.
 */
export function registerPrefixRoutes({ config, logger, router, executor, probe, discovered }: PrefixRouteParts): PrefixRoutes {
  const allowed = new Set([...list(config.SUBGRAPHS), ...list(config.ROUTE_SERVICES)]);
  const table = new RouteTable({
    allowed: (service) => allowed.has(service),
    maxBodyBytes: config.ROUTE_MAX_BODY_BYTES,
    breaker: { cooldownMs: config.BREAKER_COOLDOWN_MS, threshold: config.BREAKER_THRESHOLD },
    probe: (inst) => probe(inst.url),
    logger: logger.child({ part: 'prefix-routes' }),
  });
  const proxy = new PrefixProxy({ idleTimeoutMs: config.ROUTE_IDLE_TIMEOUT_MS, trust: trustedProxies(config.TRUSTED_PROXIES) });
  discovered((snap) => table.update(snap));
  // one handler per route object, so a request does not build a closure
  const handlers = new WeakMap<PrefixRoute, RouteHandler>();
  const handlerOf = (route: PrefixRoute): RouteHandler => {
    let handler = handlers.get(route);
    if (!handler) {
      handler = (req, res, info) => proxy.handle(req, res, route, info.path, { requestId: info.requestId, clientAddress: executor.clientAddress(req) });
      handlers.set(route, handler);
    }
    return handler;
  };
  router.mount({
    match: (_method, path) => {
      const route = table.match(path);
      return route && { label: route.prefix, handler: handlerOf(route) };
    },
  });
  return {
    table,
    match: (path) => table.match(path),
    close: () => {
      table.close();
      proxy.close();
    },
  };
}
