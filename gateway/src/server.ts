// first: flattens @apollo/federation-internals' re-export getters before @apollo/gateway loads (hot path)
import './flat-exports';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import {
  AppError,
  Authenticator,
  checkSecrets,
  isLoopback,
  secretMatches,
  trustedProxies,
  DiscoveryClient,
  JwtService,
  createLogger,
  createRedis,
  extractToken,
  formatGraphQLError,
  handleGraphQLHttp,
  loadJwtKeys,
  type InstanceStatus,
  type Logger,
  type Redis,
} from '@dream/common';
import {
  Router,
  sendAppError,
  sendJson,
  startHttpService,
  type HttpService,
  type RequestContext,
  type RouteHandler,
  type RouteMatch,
} from '@dream/common/http';
import { createClientSurface, type ClientSurface } from './client-surface';
import { type GatewayConfig, requiredSecrets } from './config';
import type { GatewayContext } from './context';
import { PooledDataSource, WriteFence } from './data-source';
import { startEntityCache, type RunningEntityCache } from './cache/cache-invalidation';
import { staleMarkerPlugin } from './cache/stale-marker';
import { createExecutor, noSupergraphYet, type Auth } from './graphql/executor';
import { attachGraphiql } from './http/graphiql';
import { corsMatcher, securityHeadersOf } from './http/security-headers';
import { GUARDED_STATUS_ROUTES } from './http/status-routes';
import { createWebApp, type WebApp } from './http/web-app';
import { queryLimitsOf, queryLimitsPlugin } from './limits';
import { GatewayMetrics } from './metrics';
import { clusterMetricsRoute } from './workers/cluster-metrics';
import { Pools } from './pools';
import { SupergraphManager, type DiscoverySource } from './supergraph-manager';
import { TrustedDocuments } from './trusted-documents';
import { UpstreamClient } from './upstream';
import { registerPrefixRoutes, type PrefixRoutes } from './routes/prefix-routes';
import { followDeclaredEvents, type DeclaredEventFields } from './subscriptions/declared-events';
import { WsTickets } from './ws/tickets';

export type { RequestContext, RouteHandler } from '@dream/common/http';

export interface GatewayDeps {
  logger?: Logger;
  /** Where the subgraph list comes from; default a DiscoveryClient on config.DISCOVERY_URL. */
  discovery?: DiscoverySource;
  /** JWT verification (with the Redis denylist); default built from config. */
  authenticator?: Authenticator;
  /** Redis for the denylist when no authenticator is given; default from REDIS_URL (none if unset). */
  redis?: Redis;
  /** The worker slot when this gateway is one of several processes on one port: every metric gets a `worker` label. */
  workerSlot?: number;
  /**
   * Take no connection until the first supergraph composes (at most this long, then listen anyway). For a
   * worker joining a cluster that already serves: the cluster hands connections to every listening worker,
   * and one still without a supergraph would answer 503 while its siblings could have served.
   */
  listenAfterSupergraphMs?: number;
}

export interface ReadyReport {
  status: 'ready' | 'not-ready';
  supergraph: boolean;
  discoveryVersion?: number;
  subgraphs: Record<string, { available: number; instances: InstanceStatus[] }>;
  /** Announced path prefixes (not part of readiness: a service's HTTP routes do not make the gateway unready). */
  routes: Record<string, { service: string; available: number; instances: InstanceStatus[] }>;
}

export interface Gateway {
  /** http://127.0.0.1:PORT (the GraphQL endpoint is `${url}/graphql`). */
  url: string;
  port: number;
  /** The one http.Server: attach graphql-ws / WS shims to its 'upgrade' event. */
  server: Server;
  gateway: ApolloGateway;
  /** The Apollo server once a supergraph is loaded (undefined before). */
  readonly apollo: ApolloServer<GatewayContext> | undefined;
  pools: Pools;
  supergraph: SupergraphManager;
  metrics: GatewayMetrics;
  authenticator: Authenticator;
  logger: Logger;
  config: GatewayConfig;
  /**
   * Adds a route served before the GraphQL handler (REST shims). `path` is an exact path or a RegExp
   * tested against the path; `method` '*' matches any. `label` names the route in metrics (default
   * the path) so per-id paths do not explode label cardinality.
   */
  route(method: string, path: string | RegExp, handler: RouteHandler, label?: string): void;
  /** Resolves once a supergraph is loaded and Apollo serves it. */
  ready(): Promise<void>;
  /** Verifies the token of a request like /graphql does: undefined without one, AppError UNAUTHENTICATED for a bad one. */
  authenticate(headers: IncomingMessage['headers']): Promise<Auth>;
  /** Single-use WebSocket tickets (POST /api/ws-ticket). */
  tickets: WsTickets;
  /** The client's address (X-Forwarded-For only from TRUSTED_PROXIES). */
  clientAddress(req: IncomingMessage): string;
  /** A GatewayContext for a request, for running operations through `apollo.executeOperation` from shims. */
  contextFor(req: IncomingMessage, requestId: string, auth: Auth): GatewayContext;
  readyReport(): ReadyReport;
  /** The trusted-documents policy of /graphql (HTTP and graphql-ws). */
  trusted: TrustedDocuments;
  /** Path prefixes services announce in discovery, proxied to their pools (routes/). */
  prefixRoutes: PrefixRoutes;
  /** Subscription fields subgraphs declare with @eventSubscription, as of the last composition. */
  declaredEvents: DeclaredEventFields;
  /** REST shims, OpenAPI, graphql-ws and WS course lists. */
  clientSurface: ClientSurface;
  /** The entity cache when ENTITY_CACHE is on. */
  entityCache?: RunningEntityCache;
  stop(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';

/** GraphQL-shaped error body for /graphql (clients expect `errors`, not the REST `error` shape). */
function sendGraphQLError(res: ServerResponse, err: AppError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] }, headers);
}

/**
 * An operation whose only outcome is "a subgraph is down" answers HTTP 503 (not 200), so load
 * balancers and clients see the outage; partial data keeps 200.
 */
const unavailableStatusPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const body = response.body;
        if (body.kind !== 'single') return;
        const { data, errors } = body.singleResult;
        if (!errors?.length || !errors.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return;
        const noData = data == null || Object.values(data).every((v) => v === null);
        if (noData) response.http.status = 503;
      },
    };
  },
};

/** The web app as run-time routes: GET/HEAD paths outside the API's own. */
function webAppRoutes(webApp: WebApp): { match(method: string, path: string): RouteMatch | undefined } {
  const route: RouteMatch = { label: 'web', handler: (req, res, ctx: RequestContext) => webApp.serve(req, res, ctx.path) };
  return { match: (method, path) => ((method === 'GET' || method === 'HEAD') && webApp.claims(path) ? route : undefined) };
}

/**
 * Starts the gateway on one port: /graphql (POST/GET via @apollo/server + @apollo/gateway, Sandbox
 * on browser GET), /health, /live, /ready, /metrics, and any routes added with `route()`. It listens at
 * once; /graphql answers 503 and /health 500 until discovery has yielded a composable supergraph.
 */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const logger = deps.logger ?? createLogger('gateway', { level: config.LOG_LEVEL });
  checkSecrets('gateway', config, requiredSecrets(), logger);
  const upstream = new UpstreamClient(config.UPSTREAM_TIMEOUT_MS);
  const pools = new Pools({
    upstream,
    logger,
    cooldownMs: config.BREAKER_COOLDOWN_MS,
    threshold: config.BREAKER_THRESHOLD,
    outlier:
      config.OUTLIER_MIN_LATENCY_MS > 0
        ? { latencyFactor: config.OUTLIER_LATENCY_FACTOR, minLatencyMs: config.OUTLIER_MIN_LATENCY_MS, ejectMs: config.OUTLIER_EJECT_MS, maxEjectMs: config.OUTLIER_EJECT_MS * 10 }
        : undefined,
  });
  const metrics = new GatewayMetrics(pools, deps.workerSlot);
  const ownsRedis = !deps.authenticator && !deps.redis && !!config.REDIS_URL;
  const redis = deps.redis ?? (ownsRedis ? createRedis(config.REDIS_URL!, logger) : undefined);
  const authenticator =
    deps.authenticator ??
    new Authenticator(
      new JwtService({ keys: loadJwtKeys({ JWT_PUBLIC_KEY: config.JWT_PUBLIC_KEY, JWT_KEYS_DIR: config.JWT_KEYS_DIR }, logger) }),
      redis,
      logger,
    );
  const tickets = new WsTickets(redis, config.WS_TICKET_TTL_SECONDS);
  const discovery = deps.discovery ?? new DiscoveryClient({ discoveryUrl: config.DISCOVERY_URL, logger, token: config.DISCOVERY_TOKEN });
  const allowedSubgraphs = config.SUBGRAPHS.split(',').map((s) => s.trim()).filter(Boolean);
  const supergraph = new SupergraphManager({ discovery, pools, upstream, logger, allowedSubgraphs });

  const fence = new WriteFence();
  const entityCache = config.ENTITY_CACHE ? startEntityCache(config, logger.child({ part: 'entity-cache' }), metrics.registry) : undefined;
  if (entityCache) {
    const refreshHints = () => entityCache.cache.refresh(supergraph.subgraphSdls);
    refreshHints();
    supergraph.on('composed', refreshHints);
  }
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.forGateway(),
    buildService: ({ name }) =>
      new PooledDataSource({
        name,
        pool: () => pools.get(name),
        upstream,
        dedupe: config.DEDUPE_INFLIGHT,
        fence,
        cache: entityCache?.cache,
        onUpstreamError: (subgraph, err) => {
          metrics.upstreamErrors.inc({ subgraph });
          logger.warn({ subgraph, err: (err as Error).message }, 'subgraph fetch failed');
        },
      }),
    logger: {
      debug: () => undefined,
      info: (m: unknown) => logger.debug({ apollo: String(m) }, 'apollo gateway'),
      warn: (m: unknown) => logger.warn({ apollo: String(m) }, 'apollo gateway'),
      error: (m: unknown) => logger.error({ apollo: String(m) }, 'apollo gateway'),
    },
  });

  const trusted = TrustedDocuments.load(
    config.TRUSTED_DOCUMENTS,
    config.TRUSTED_DOCUMENTS_MANIFEST ?? join(config.WEB_ROOT, 'trusted-documents.json'),
    logger,
  );
  const webApp = config.WEB_ROOT ? createWebApp(config.WEB_ROOT, logger) : undefined;
  let apollo: ApolloServer<GatewayContext> | undefined;
  let stopped = false;
  const router = new Router();
  let markStopped: () => void = () => undefined;
  const stoppedSignal = new Promise<void>((resolve) => (markStopped = resolve));

  // Apollo starts once the first supergraph composes; until then /graphql answers 503.
  const apolloReady = (async () => {
    await supergraph.ready();
    if (stopped) return;
    const server = new ApolloServer<GatewayContext>({
      gateway,
      formatError: formatGraphQLError,
      includeStacktraceInErrorResponses: false,
      introspection: true,
      // Shutdown is ours (main.ts, in order: client surface, HTTP server, then Apollo). Apollo's own
      // SIGINT/SIGTERM handler would stop Apollo while /graphql still takes requests and then re-send
      // the signal, which the shutdown takes for a second Ctrl-C once its grace period is over.
      stopOnTerminationSignals: false,
      // the lexer stops at this many tokens: a 1 MB document is refused after reading a few KB of it
      parseOptions: { maxTokens: config.MAX_QUERY_TOKENS },
      plugins: [
        ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
        queryLimitsPlugin(queryLimitsOf(config)),
        unavailableStatusPlugin,
        ...(entityCache ? [staleMarkerPlugin] : []),
      ],
    });
    await server.start();
    if (stopped) {
      await server.stop();
      return;
    }
    apollo = server;
    logger.info('gateway is serving a supergraph');
  })();
  apolloReady.catch((err) => logger.error({ err }, 'gateway failed to start Apollo'));

  const executor = createExecutor({
    apollo: () => apollo,
    schema: () => gateway.schema,
    authenticator,
    trust: trustedProxies(config.TRUSTED_PROXIES),
    logger,
  });
  const { authenticate, clientAddress, contextFor } = executor;

  const readyReport = (): ReadyReport => {
    const subgraphs: ReadyReport['subgraphs'] = {};
    for (const [name, pool] of pools.entries()) subgraphs[name] = { available: pool.available, instances: pool.status() };
    const ok = !!apollo && supergraph.subgraphs.every((n) => (subgraphs[n]?.available ?? 0) > 0);
    const routes: ReadyReport['routes'] = {};
    for (const r of prefixRoutes.table.all()) routes[r.prefix] = { service: r.service, available: r.pool.available, instances: r.pool.status() };
    return { status: ok ? 'ready' : 'not-ready', supergraph: !!apollo, discoveryVersion: supergraph.snapshot?.version, subgraphs, routes };
  };

  const serveGraphQL = async (req: IncomingMessage, res: ServerResponse, requestId: string) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      sendGraphQLError(res, new AppError('BAD_USER_INPUT', 'Use GET or POST on /graphql.'), { allow: 'GET, POST' });
      return;
    }
    const server = apollo;
    if (!server) {
      req.resume();
      sendGraphQLError(res, noSupergraphYet(), { 'retry-after': '1' });
      return;
    }
    let auth: Auth;
    try {
      auth = await authenticate(req.headers);
    } catch (err) {
      req.resume();
      if (err instanceof AppError) return sendGraphQLError(res, err);
      throw err;
    }
    const context = contextFor(req, requestId, auth);
    await handleGraphQLHttp(server, req, res, async () => context, config.MAX_BODY_BYTES, trusted.prepareHttp);
  };

  /** The status endpoints' guard: the STATUS_TOKEN, or without one a client on this machine. */
  const statusAllowed = (req: IncomingMessage): boolean =>
    config.STATUS_TOKEN ? secretMatches(extractToken(req.headers), config.STATUS_TOKEN) : isLoopback(req.socket.remoteAddress);
  const guarded =
    (handler: RouteHandler): RouteHandler =>
    (req, res, ctx) => {
      if (!statusAllowed(req)) throw new AppError('UNAUTHENTICATED', `${ctx.path} is internal: send Authorization: Bearer <STATUS_TOKEN>.`);
      return handler(req, res, ctx);
    };

  router.add('*', GRAPHQL_PATH, (req, res, ctx) => serveGraphQL(req, res, ctx.requestId));
  // liveness: the process answers; a missing supergraph is readiness' business (/health)
  router.add('GET', '/live', (_req, res) => sendJson(res, 200, { status: 'alive' }));
  const statusPages: Record<string, RouteHandler> = {
    '/ready': (_req, res) => {
      const report = readyReport();
      sendJson(res, report.status === 'ready' ? 200 : 503, report);
    },
    // several workers share the port: any one of them answers for all (one process: its own registry)
    '/metrics': clusterMetricsRoute(metrics.registry),
  };
  // registered from the list the deploy checks read, so the two cannot drift
  for (const path of GUARDED_STATUS_ROUTES) router.add('GET', path, guarded(statusPages[path]!));

  // every part is built before the server listens: the first request finds all routes in place
  const declaredEvents = followDeclaredEvents(supergraph, logger.child({ part: 'declared-events' }));
  const clientSurface = createClientSurface({ config, logger, executor, router, tickets, trusted, declared: declaredEvents.fields });
  const prefixRoutes = registerPrefixRoutes({
    config,
    logger,
    router,
    executor,
    probe: (url) => upstream.health(url),
    discovered: (onSnapshot) => supergraph.on('discovered', onSnapshot),
  });
  metrics.trackRoutes(() => prefixRoutes.table.all());
  metrics.trackWebSockets(() => ({ subscriptions: clientSurface.graphqlWs.activeSubscriptions, connections: clientSurface.connections.size }));
  attachGraphiql(router);
  // the web app answers GET/HEAD paths no route claims, after the announced prefixes
  if (webApp) router.mount(webAppRoutes(webApp));
  supergraph.start();
  if (deps.listenAfterSupergraphMs) await firstSupergraphOrTimeout(apolloReady, deps.listenAfterSupergraphMs, logger);
  const http: HttpService = await startHttpService({
    port: config.PORT,
    host: config.HOST,
    logger,
    router,
    health: () => (apollo ? { ok: true, subgraphs: supergraph.subgraphs } : { ok: false, reason: 'no supergraph loaded yet' }),
    requestMetrics: metrics,
    securityHeaders: securityHeadersOf({ hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS }),
    // Sandbox (embedded from Apollo's origin) and browser apps call us cross-origin with header tokens, no cookies
    cors: { allow: corsMatcher(config.CORS_ORIGINS) },
    accessLog: config.ACCESS_LOG,
    sendError: (res, err, ctx) => (ctx.path === GRAPHQL_PATH ? sendGraphQLError(res, err) : sendAppError(res, err)),
  }).catch(async (err: unknown) => {
    // the client surface holds a Redis subscriber and timers, the route pools their probes: a port that
    // cannot be bound must not leave them open
    await clientSurface.stop();
    prefixRoutes.close();
    declaredEvents.stop();
    await entityCache?.stop();
    throw err;
  });
  const { server, port, base: url } = http;
  server.on('upgrade', clientSurface.onUpgrade);
  logger.info({ port, url: `${url}${GRAPHQL_PATH}`, discovery: config.DISCOVERY_URL }, 'gateway listening');

  const gw: Gateway = {
    url,
    port,
    server,
    gateway,
    get apollo() {
      return apollo;
    },
    pools,
    supergraph,
    prefixRoutes,
    declaredEvents: declaredEvents.fields,
    metrics,
    authenticator,
    logger,
    config,
    route: (method, path, handler, label) => router.route(method, path, handler, label),
    ready: async () => {
      await Promise.race([apolloReady, stoppedSignal]);
      if (!apollo) throw new Error('gateway stopped before a supergraph was loaded');
    },
    authenticate,
    tickets,
    clientAddress,
    contextFor,
    readyReport,
    trusted,
    clientSurface,
    entityCache,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      markStopped();
      server.off('upgrade', clientSurface.onUpgrade);
      await clientSurface.stop();
      declaredEvents.stop();
      await http.stop();
      await supergraph.stop();
      if (apollo) await apollo.stop();
      else await gateway.stop().catch(() => undefined);
      pools.close();
      prefixRoutes.close();
      await upstream.close();
      await entityCache?.stop();
      if (ownsRedis) redis?.disconnect();
    },
  };
  return gw;
}

async function firstSupergraphOrTimeout(apolloReady: Promise<void>, ms: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
  const late = await Promise.race([apolloReady.then(() => false, () => false), timedOut]);
  clearTimeout(timer);
  if (late) logger.warn({ waitedMs: ms }, 'no supergraph yet: listening anyway (requests get 503 until one composes)');
}
