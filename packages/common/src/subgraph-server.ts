import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { handleGraphQLHttp } from './apollo-http';
import { AppError, formatGraphQLError } from './errors';
import { closeServer, listen, requestIdOf, sendError, sendJson, REQUEST_ID_HEADER } from './http';
import type { Logger } from './logger';

export interface HealthReport {
  ok: boolean;
  reason?: string;
  [k: string]: unknown;
}

export interface RequestInfo {
  req: IncomingMessage;
  requestId: string;
  logger: Logger;
}

/**
 * Plain HTTP served beside GraphQL under a path prefix (e.g. a subgraph's `/media` uploads and playback).
 * The handler owns the response (streaming, status, headers); a thrown AppError becomes its JSON error.
 */
export interface HttpRoute {
  /** `/media`: matches `/media` and everything under `/media/`. */
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<void>;
}

export interface SubgraphServerOptions<Ctx extends BaseContext> {
  name: string;
  schema: GraphQLSchema;
  port: number;
  host?: string;
  logger: Logger;
  context: (info: RequestInfo) => Promise<Ctx>;
  health?: () => Promise<HealthReport>;
  maxBodyBytes?: number;
  registry?: Registry;
  routes?: HttpRoute[];
}

export interface SubgraphServer {
  server: Server;
  port: number;
  url: string;
  registry: Registry;
  stop(): Promise<void>;
}

/** A Prometheus registry with the default process metrics, to share between the server and other modules (cache). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Serves a subgraph schema on node:http: POST/GET /graphql, /health (200 ok / 500 with a reason)
 * and /metrics. Every request gets a request id (the gateway's when it sent one) on its log lines.
 */
export async function startSubgraphServer<Ctx extends BaseContext>(opts: SubgraphServerOptions<Ctx>): Promise<SubgraphServer> {
  const registry = opts.registry ?? new Registry();
  if (!opts.registry) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'subgraph_graphql_requests_total',
    help: 'GraphQL requests received by this subgraph instance',
    registers: [registry],
  });
  const apollo = new ApolloServer<Ctx>({
    schema: opts.schema,
    formatError: formatGraphQLError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: false,
    // Apollo would stop itself on SIGTERM/SIGINT and re-send the signal to the process, which
    // installShutdown then takes for a second signal and exits before deregistering. Shutdown is ours.
    stopOnTerminationSignals: false,
    // Inline (ftv1) traces only serve Apollo Studio reporting, which we do not use; they cost CPU per request.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const path = (req.url ?? '/').split('?')[0];
    let route: HttpRoute | undefined;
    try {
      if (path === '/graphql') {
        requests.inc();
        const logger = opts.logger.child({ requestId });
        await handleGraphQLHttp(apollo, req, res, () => opts.context({ req, requestId, logger }), maxBody);
      } else if (path === '/health' && req.method === 'GET') {
        const report = opts.health ? await opts.health() : { ok: true };
        const { ok, ...rest } = report;
        sendJson(res, ok ? 200 : 500, { status: ok ? 'ok' : 'down', service: opts.name, ...rest });
      } else if (path === '/metrics' && req.method === 'GET') {
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      } else if ((route = opts.routes?.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`)))) {
        await route.handle(req, res, { req, requestId, logger: opts.logger.child({ requestId }) });
      } else {
        sendError(res, 'NOT_FOUND', `No route for ${req.method} ${path}.`);
      }
    } catch (e) {
      if (e instanceof AppError) {
        if (!res.headersSent) sendError(res, e.code, e.message);
        return;
      }
      opts.logger.error({ err: e, requestId }, 'unhandled request error');
      if (!res.headersSent) sendError(res, 'INTERNAL_SERVER_ERROR', 'Internal server error.');
      else res.destroy();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, opts.port, opts.host ?? '0.0.0.0');
  const url = `http://127.0.0.1:${port}/graphql`;
  opts.logger.info({ port, url }, `${opts.name} subgraph listening`);
  return {
    server,
    port,
    url,
    registry,
    stop: async () => {
      await closeServer(server);
      await apollo.stop();
    },
  };
}
