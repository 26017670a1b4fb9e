import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
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
}

/** Binds the request id into a child logger only when a handler logs (most requests never do). */
class Context implements RequestContext {
  private child: Logger | undefined;
  constructor(
    readonly requestId: string,
    readonly path: string,
    private readonly base: Logger,
  ) {}

  get logger(): Logger {
    return (this.child ??= this.base.child({ requestId: this.requestId }));
  }
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> | void;

/**
 * Routes by exact path, then method ('*' = any), with a Map lookup and no per-request allocation;
 * paths with parameters (`/v1/instances/<id>`) are prefix routes whose handler reads the rest.
 */
export class Router {
  private readonly exact = new Map<string, Map<string, RouteHandler>>();
  private readonly prefixes: Array<{ prefix: string; method: string; handler: RouteHandler }> = [];

  add(method: string, path: string, handler: RouteHandler): this {
    let byMethod = this.exact.get(path);
    if (!byMethod) this.exact.set(path, (byMethod = new Map()));
    byMethod.set(method, handler);
    return this;
  }

  /** Every path starting with `prefix` (longest registered prefix first is the caller's order). */
  addPrefix(method: string, prefix: string, handler: RouteHandler): this {
    this.prefixes.push({ prefix, method, handler });
    return this;
  }

  find(method: string, path: string): RouteHandler | undefined {
    const byMethod = this.exact.get(path);
    const exact = byMethod && (byMethod.get(method) ?? byMethod.get('*'));
    if (exact) return exact;
    for (const p of this.prefixes) {
      if ((p.method === method || p.method === '*') && path.startsWith(p.prefix)) return p.handler;
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

export interface HttpServiceOptions {
  port: number;
  host?: string;
  logger: Logger;
  router: Router;
  /** GET /health: 200 `{status: 'ok', …}` when ok, else 500 `{status: 'down', reason, …}`. */
  health?: () => Promise<HealthReport>;
  /** GET /metrics in Prometheus text format. */
  metrics?: Registry;
  /** Headers on every answer (default API_SECURITY_HEADERS). */
  securityHeaders?: Readonly<Record<string, string>>;
  /**
   * The answer to an error that is not an AppError (default: logged, 500 INTERNAL_SERVER_ERROR). A
   * service whose only failures are its store's returns 503 SERVICE_UNAVAILABLE here.
   */
  unexpectedError?: (err: unknown, ctx: RequestContext) => AppError;
}

export interface HttpService {
  server: Server;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  stop(): Promise<void>;
}

function healthRoute(health: () => Promise<HealthReport>): RouteHandler {
  return async (_req, res) => {
    const { ok, ...rest } = await health();
    sendJson(res, ok ? 200 : 500, { status: ok ? 'ok' : 'down', ...rest });
  };
}

function metricsRoute(registry: Registry): RouteHandler {
  return async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  };
}

/**
 * One HTTP server skeleton for every service: a request id on each answer and log line, security
 * headers, the router, /health and /metrics, the JSON error body built from AppError (never a stack),
 * and a debug access line per request.
 */
export async function startHttpService(opts: HttpServiceOptions): Promise<HttpService> {
  const { router, logger } = opts;
  if (opts.health) router.add('GET', '/health', healthRoute(opts.health));
  if (opts.metrics) router.add('GET', '/metrics', metricsRoute(opts.metrics));
  const headers = Object.entries(opts.securityHeaders ?? API_SECURITY_HEADERS);
  const unexpected =
    opts.unexpectedError ??
    ((err: unknown, ctx: RequestContext) => {
      ctx.logger.error({ err }, 'unhandled request error');
      return new AppError('INTERNAL_SERVER_ERROR', 'Internal server error.');
    });
  const accessLog = logger.isLevelEnabled('debug');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    for (const [k, v] of headers) res.setHeader(k, v);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const ctx = new Context(requestId, path, logger);
    if (accessLog) {
      const started = Date.now();
      res.once('finish', () => logger.debug({ requestId, method, url, status: res.statusCode, ms: Date.now() - started }, 'request'));
    }
    try {
      const handler = router.find(method, path);
      if (!handler) throw new AppError('NOT_FOUND', `No route for ${method} ${path}.`);
      await handler(req, res, ctx);
    } catch (err) {
      if (res.headersSent) {
        if (!(err instanceof AppError)) res.destroy();
        return;
      }
      // The body may be unread (a refused upload): drain it so the connection can be reused.
      req.resume();
      sendAppError(res, err instanceof AppError ? err : unexpected(err, ctx));
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, opts.port, opts.host ?? '0.0.0.0');
  const base = `http://127.0.0.1:${port}`;
  return { server, port, base, stop: () => closeServer(server) };
}
