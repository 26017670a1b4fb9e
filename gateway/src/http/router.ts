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

/** What the server needs of the route that serves a request. */
export type RouteMatch = Pick<Route, 'label' | 'handler'>;

/**
 * Routes whose paths are only known at run time (e.g. the path prefixes services announce in
 * discovery): asked for each request the fixed routes did not take.
 */
export interface RouteSource {
  match(method: string | undefined, path: string): RouteMatch | undefined;
}

/** Where the client surfaces add their HTTP routes; the server asks it for the route of each request. */
export interface Router {
  /**
   * Adds a route served before the GraphQL handler. `path` is an exact path or a RegExp tested against
   * the path; `method` '*' matches any. `label` names the route in metrics (default the path) so
   * per-id paths do not explode label cardinality.
   */
  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void;
  /** Adds a source of run-time routes, asked after every fixed route (in the order mounted). */
  mount(source: RouteSource): void;
}

export class Routes implements Router {
  private readonly list: Route[] = [];
  private readonly sources: RouteSource[] = [];

  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void {
    this.list.push({ method: method.toUpperCase(), path, handler, label: label ?? (typeof path === 'string' ? path : path.source) });
  }

  mount(source: RouteSource): void {
    this.sources.push(source);
  }

  /** The first fixed route added for this method and path, else the first mounted source's route. */
  match(method: string | undefined, path: string): RouteMatch | undefined {
    for (const r of this.list) {
      if (r.method !== '*' && r.method !== method) continue;
      if (typeof r.path === 'string' ? r.path !== path : !r.path.test(path)) continue;
      return r;
    }
    for (const source of this.sources) {
      const r = source.match(method, path);
      if (r) return r;
    }
    return undefined;
  }
}
