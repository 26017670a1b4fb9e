import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@dream/common';

/** What a route handler gets besides req/res. */
export interface RouteInfo {
  requestId: string;
  logger: Logger;
  /** Path without the query string. */
  path: string;
  url: URL;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, info: RouteInfo) => unknown;

export interface Route {
  method: string;
  path: string | RegExp;
  label: string;
  handler: RouteHandler;
}

/** Where the client surfaces add their HTTP routes; the server asks it for the route of each request. */
export interface Router {
  /**
   * Adds a route served before the GraphQL handler. `path` is an exact path or a RegExp tested against
   * the path; `method` '*' matches any. `label` names the route in metrics (default the path) so
   * per-id paths do not explode label cardinality.
   */
  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void;
}

export class Routes implements Router {
  private readonly list: Route[] = [];

  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void {
    this.list.push({ method: method.toUpperCase(), path, handler, label: label ?? (typeof path === 'string' ? path : path.source) });
  }

  /** The first route added for this method and path. */
  match(method: string | undefined, path: string): Route | undefined {
    for (const r of this.list) {
      if (r.method !== '*' && r.method !== method) continue;
      if (typeof r.path === 'string' ? r.path !== path : !r.path.test(path)) continue;
      return r;
    }
    return undefined;
  }
}
