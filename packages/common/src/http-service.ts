import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Counter, Histogram, Registry } from 'prom-client';
import { AppError } from './errors';
import { closeServer, listen, requestIdOf, sendError, sendJson, REQUEST_ID_HEADER } from './http';
import type { Logger } from './logger';

export * from './http';

/** What a route handler gets besides the request and response. */
export interface RequestContext {
  readonly requestId: string;
  /** The service logger with the request id bound. */
  readonly logger: Logger;
  /** The URL path without the query string. */
  readonly path: string;
  /** The whole request URL, parsed (query string included). */
  readonly url: URL;
}

/** Builds the child logger and the parsed URL only when a handler reads them (most requests never do). */
class Context implements RequestContext {
  private child: Logger | undefined;
  private parsed: URL | undefined;
  constructor(
    readonly requestId: string,
    readonly path: string,
    private readonly rawUrl: string,
    private readonly base: Logger,
  ) {}

  get logger(): Logger {
    return (this.child ??= this.base.child({ requestId: this.requestId }));
  }

  get url(): URL {
    return (this.parsed ??= new URL(this.rawUrl, 'http://localhost'));
  }
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => unknown;

/** The route that serves a request: its handler and the label it has in metrics and access lines. */
export interface RouteMatch {
  readonly label: string;
  readonly handler: RouteHandler;
}

/**
 * Routes whose paths are only known at run time (e.g. the path prefixes services announce in
 * discovery): asked for each request the fixed routes did not take.
 */
export interface RouteSource {
  match(method: string, path: string): RouteMatch | undefined;
}

/** What a part that adds HTTP routes needs (REST shims, status pages): never the server itself. */
export interface RouteRegistry {
  /**
   * Adds a route: `path` is an exact path or a RegExp tested against the path; `method` '*' matches
   * any. `label` names the route in metrics (default the path) so per-id paths do not explode label
   * cardinality.
   */
  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void;
  /** Adds a source of run-time routes, asked after every fixed route (in the order mounted). */
  mount(source: RouteSource): void;
}

interface PatternRoute {
  method: string;
  test: (path: string) => boolean;
  match: RouteMatch;
}

/**
 * Exact paths first (a Map lookup by path, then by method, '*' = any; no per-request allocation), then
 * prefix and RegExp routes in the order added, then the mounted run-time sources in the order mounted.
 */
export class Router implements RouteRegistry {
  private readonly exact = new Map<string, Map<string, RouteMatch>>();
  private readonly patterns: PatternRoute[] = [];
  private readonly sources: RouteSource[] = [];

  add(method: string, path: string, handler: RouteHandler, label = path): this {
    let byMethod = this.exact.get(path);
    if (!byMethod) this.exact.set(path, (byMethod = new Map()));
    byMethod.set(method.toUpperCase(), { label, handler });
    return this;
  }

  /** Every path starting with `prefix`; the handler reads the rest of `ctx.path`. */
  addPrefix(method: string, prefix: string, handler: RouteHandler, label = `${prefix}*`): this {
    this.patterns.push({ method: method.toUpperCase(), test: (path) => path.startsWith(prefix), match: { label, handler } });
    return this;
  }

  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void {
    if (typeof path === 'string') this.add(method, path, handler, label);
    else this.patterns.push({ method: method.toUpperCase(), test: (p) => path.test(p), match: { label: label ?? path.source, handler } });
  }

  mount(source: RouteSource): void {
    this.sources.push(source);
  }

  match(method: string, path: string): RouteMatch | undefined {
    const byMethod = this.exact.get(path);
    const exact = byMethod && (byMethod.get(method) ?? byMethod.get('*'));
    if (exact) return exact;
    for (const p of this.patterns) {
      if ((p.method === method || p.method === '*') && p.test(path)) return p.match;
    }
    for (const source of this.sources) {
      const r = source.match(method, path);
      if (r) return r;
    }
    return undefined;
  }
}

export interface HealthReport {
  ok: boolean;
  reason?: string;
  [k: string]: unknown;
}

/** Headers of a JSON API that is never framed, sniffed or allowed to load anything. */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** The JSON error body built from an AppError: `{"error": {code, message, field?, fields?}}` with its status. */
export function sendAppError(res: ServerResponse, err: AppError): void {
  const extra = err.fields?.length ? { field: err.fields[0]!.field, fields: err.fields } : {};
  sendError(res, err.code, err.message, extra);
}

/** Per-request metrics the skeleton records when the request's answer is finished. */
export interface RequestMetrics {
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
}

/** Cross-origin access for browser apps that send tokens in headers (never cookies). */
export interface CorsOptions {
  /** The value of `access-control-allow-origin` for this Origin, or undefined to grant nothing. */
  allow(origin: string): string | undefined;
  /** `access-control-expose-headers` of granted answers (default the request id header). */
  exposeHeaders?: string;
}

export interface HttpServiceOptions {
  port: number;
  host?: string;
  logger: Logger;
  router: Router;
  /** GET /health: 200 `{status: 'ok', …}` when ok, else 500 `{status: 'down', reason, …}`. */
  health?: () => Promise<HealthReport> | HealthReport;
  /** GET /metrics in Prometheus text format (public; guard it with a route of your own otherwise). */
  metrics?: Registry;
  /** Counted per route label, method and status on every answer. */
  requestMetrics?: RequestMetrics;
  /**
   * Headers on every answer (default API_SECURITY_HEADERS), or a function of method and path for a
   * service whose pages need another policy (it should return the same object for the same answer).
   */
  securityHeaders?: Readonly<Record<string, string>> | ((method: string, path: string) => Readonly<Record<string, string>>);
  /** CORS on every route (OPTIONS with an Origin is the preflight: 204). Default: no CORS headers. */
  cors?: CorsOptions;
  /**
   * One access line per request at info (`true`); otherwise at debug, written only when the logger is
   * at debug. Answers with a 5xx status are always written, at warn.
   */
  accessLog?: boolean;
  /**
   * The answer to an error that is not an AppError (default: logged, 500 INTERNAL_SERVER_ERROR). A
   * service whose only failures are its store's returns 503 SERVICE_UNAVAILABLE here.
   */
  unexpectedError?: (err: unknown, ctx: RequestContext) => AppError;
  /** Writes an error answer (default `sendAppError`); e.g. GraphQL's `{"errors": […]}` shape on /graphql. */
  sendError?: (res: ServerResponse, err: AppError, ctx: RequestContext) => void;
}

export interface HttpService {
  server: Server;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  stop(): Promise<void>;
}

/** GET /health from a health check: 200 `{status: 'ok', …}` or 500 `{status: 'down', reason, …}`. */
export function healthRoute(health: () => Promise<HealthReport> | HealthReport): RouteHandler {
  return async (_req, res) => {
    const { ok, ...rest } = await health();
    sendJson(res, ok ? 200 : 500, { status: ok ? 'ok' : 'down', ...rest });
  };
}

/** GET /metrics: the registry in Prometheus text format. */
export function metricsRoute(registry: Registry): RouteHandler {
  return async (_req, res) => {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(text);
  };
}

const PREFLIGHT: RouteMatch = { label: 'preflight', handler: () => undefined };

/**
 * One HTTP server skeleton for every service: a request id on each answer and log line, security
 * headers, CORS, the router, /health and /metrics, the JSON error body built from AppError (never a
 * stack), request metrics and an access line per request.
 */
export async function startHttpService(opts: HttpServiceOptions): Promise<HttpService> {
  const { router, logger, requestMetrics, cors } = opts;
  if (opts.health) router.add('GET', '/health', healthRoute(opts.health));
  if (opts.metrics) router.add('GET', '/metrics', metricsRoute(opts.metrics));
  const security = opts.securityHeaders ?? API_SECURITY_HEADERS;
  const headersOf = typeof security === 'function' ? security : () => security;
  const unexpected =
    opts.unexpectedError ??
    ((err: unknown, ctx: RequestContext) => {
      ctx.logger.error({ err }, 'unhandled request error');
      return new AppError('INTERNAL_SERVER_ERROR', 'Internal server error.');
    });
  const sendErr = opts.sendError ?? sendAppError;
  const exposeHeaders = cors?.exposeHeaders ?? REQUEST_ID_HEADER;
  const infoLines = opts.accessLog === true;
  const debugLines = !infoLines && logger.isLevelEnabled('debug');
  const watchFinish = !!requestMetrics || infoLines || debugLines;

  /** Request metrics and the access line, once the answer is written. */
  const finished = (req: IncomingMessage, res: ServerResponse, requestId: string, path: string, route: RouteMatch | undefined, started: bigint) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const label = route?.label ?? 'other';
    const status = res.statusCode;
    if (requestMetrics) {
      requestMetrics.requests.inc({ route: label, method: req.method ?? 'GET', status: String(status) });
      requestMetrics.latency.observe({ route: label }, seconds);
    }
    if (status >= 500 || infoLines || debugLines) {
      const line = { requestId, method: req.method, path, route: label, status, ms: Math.round(seconds * 1e4) / 10 };
      if (status >= 500) logger.warn(line, 'request');
      else if (infoLines) logger.info(line, 'request');
      else logger.debug(line, 'request');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const headers = headersOf(method, path);
    for (const k in headers) res.setHeader(k, headers[k]!);
    let route: RouteMatch | undefined;
    // 5xx answers are logged whatever the access-log setting, so the finish hook is always there for them
    res.once('finish', () => (watchFinish || res.statusCode >= 500) && finished(req, res, requestId, path, route, started));
    const origin = req.headers.origin;
    if (cors && origin !== undefined) {
      const allowed = cors.allow(origin);
      // Granted or refused, the answer depends on Origin (unless every origin is allowed): without Vary a
      // shared cache could serve a refused origin's answer (no grant) to an allowed one, or the reverse.
      if (allowed !== '*') res.setHeader('vary', 'origin');
      if (allowed) {
        res.setHeader('access-control-allow-origin', allowed);
        res.setHeader('access-control-expose-headers', exposeHeaders);
      }
      if (method === 'OPTIONS') {
        route = PREFLIGHT;
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
          'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'content-type, authorization, jwt'),
          'access-control-max-age': '600',
        });
        res.end();
        return;
      }
    }
    const ctx = new Context(requestId, path, url, logger);
    try {
      route = router.match(method, path);
      if (!route) throw new AppError('NOT_FOUND', `No route for ${method} ${path}.`);
      await route.handler(req, res, ctx);
    } catch (err) {
      if (res.headersSent) {
        if (!(err instanceof AppError)) res.destroy();
        return;
      }
      // The body may be unread (a refused upload): drain it so the connection can be reused.
      req.resume();
      sendErr(res, err instanceof AppError ? err : unexpected(err, ctx), ctx);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, opts.port, opts.host ?? '0.0.0.0');
  const base = `http://127.0.0.1:${port}`;
  return { server, port, base, stop: () => closeServer(server) };
}
