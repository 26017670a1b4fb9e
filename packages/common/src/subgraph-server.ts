import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { handleGraphQLHttp } from './apollo-http';
import { formatGraphQLError } from './errors';
import { Router, startHttpService, type HealthReport, type RouteHandler } from './http-service';
import type { Logger } from './logger';

export type { HealthReport };

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

function apolloServer<Ctx extends BaseContext>(schema: GraphQLSchema): ApolloServer<Ctx> {
  return new ApolloServer<Ctx>({
    schema,
    formatError: formatGraphQLError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: false,
    // Apollo would stop itself on SIGTERM/SIGINT and re-send the signal to the process, which
    // installShutdown then takes for a second signal and exits before deregistering. Shutdown is ours.
    stopOnTerminationSignals: false,
    // Inline (ftv1) traces only serve Apollo Studio reporting, which we do not use; they cost CPU per request.
    // Apollo's cache-control plugin (on by default) wraps every resolver to work out a per-answer
    // `cache-control` header that nobody reads: the gateway takes the `@cacheControl` hints from each
    // subgraph's SDL. Off, a 50-course page no longer pays a hook per field.
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled()],
  });
}

/**
 * Serves a subgraph schema on the common HTTP skeleton: POST/GET /graphql, /health (200 ok / 500 with
 * a reason) and /metrics. Every request gets a request id (the gateway's when it sent one) on its log lines.
 */
export async function startSubgraphServer<Ctx extends BaseContext>(opts: SubgraphServerOptions<Ctx>): Promise<SubgraphServer> {
  const registry = opts.registry ?? createMetricsRegistry();
  const requests = new Counter({ name: 'subgraph_graphql_requests_total', help: 'GraphQL requests received by this subgraph instance', registers: [registry] });
  const apollo = apolloServer<Ctx>(opts.schema);
  await apollo.start();
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const router = new Router().add('*', '/graphql', async (req, res, { requestId, logger }) => {
    requests.inc();
    await handleGraphQLHttp(apollo, req, res, () => opts.context({ req, requestId, logger }), maxBody);
  });
  for (const route of opts.routes ?? []) {
    const handler: RouteHandler = (req, res, { requestId, logger }) => route.handle(req, res, { req, requestId, logger });
    router.add('*', route.prefix, handler).addPrefix('*', `${route.prefix}/`, handler);
  }
  const health = opts.health ?? (async () => ({ ok: true }));
  try {
    const http = await startHttpService({
      port: opts.port,
      host: opts.host,
      logger: opts.logger,
      router,
      metrics: registry,
      health: async () => ({ ...(await health()), service: opts.name }),
    });
    const url = `${http.base}/graphql`;
    opts.logger.info({ port: http.port, url }, `${opts.name} subgraph listening`);
    return {
      server: http.server,
      port: http.port,
      url,
      registry,
      stop: async () => {
        await http.stop();
        await apollo.stop();
      },
    };
  } catch (err) {
    await apollo.stop();
    throw err;
  }
}
