import type { IncomingMessage, ServerResponse } from 'node:http';
import { trustedProxies, type Logger, type ServicesSnapshot } from '@dream/common';
import type { GatewayConfig } from '../config';
import { PrefixProxy } from './prefix-proxy';
import { RouteTable, type PrefixRoute } from './route-table';

export interface PrefixRoutes {
  table: RouteTable;
  /** The route `path` falls under, if a service announced one. */
  match(path: string): PrefixRoute | undefined;
  handle(req: IncomingMessage, res: ServerResponse, route: PrefixRoute, path: string, info: { requestId: string; clientAddress: string }): Promise<void>;
  close(): void;
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * The gateway's plain-HTTP routes announced by services in discovery: fed by every discovery
 * snapshot (`subscribe`), proxied by PrefixProxy. Only SUBGRAPHS and ROUTE_SERVICES may announce.
 */
export function createPrefixRoutes(opts: {
  config: GatewayConfig;
  logger: Logger;
  probe: (instanceUrl: string) => Promise<void>;
  subscribe: (onSnapshot: (snap: ServicesSnapshot) => void) => void;
}): PrefixRoutes {
  const { config, logger } = opts;
  const allowed = new Set([...list(config.SUBGRAPHS), ...list(config.ROUTE_SERVICES)]);
  const table = new RouteTable({
    allowed: (service) => allowed.has(service),
    maxBodyBytes: config.ROUTE_MAX_BODY_BYTES,
    breaker: { cooldownMs: config.BREAKER_COOLDOWN_MS, threshold: config.BREAKER_THRESHOLD },
    probe: (inst) => opts.probe(inst.url),
    logger: logger.child({ part: 'prefix-routes' }),
  });
  const proxy = new PrefixProxy({ idleTimeoutMs: config.ROUTE_IDLE_TIMEOUT_MS, trust: trustedProxies(config.TRUSTED_PROXIES) });
  opts.subscribe((snap) => table.update(snap));
  return {
    table,
    match: (path) => table.match(path),
    handle: (req, res, route, path, info) => proxy.handle(req, res, route, path, info),
    close: () => {
      table.close();
      proxy.close();
    },
  };
}
