import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CORS_ORIGINS } from './http/security-headers';
import { TRUSTED_DOCUMENTS_MODES } from './trusted-documents';
import { ConfigError, type ServiceSecret, baseEnv, flag, loadConfig, optionalString, port, positiveInt, redisSentinelEnv, redisUrlFromEnv, url } from '@dream/common';

/** web/dist of this repository (gateway/src → ../../web/dist). */
export const DEFAULT_WEB_ROOT = resolve(__dirname, '../../web/dist');

/** Everything the gateway reads from the environment, with defaults that make `npm start` work. */
export const gatewayEnv = {
  ...baseEnv,
  PORT: port(8080),
  HOST: z.string().default('0.0.0.0'),
  DISCOVERY_URL: url('http://127.0.0.1:8500'),
  /** Sent to discovery on every call (see discovery's DISCOVERY_TOKEN). */
  DISCOVERY_TOKEN: optionalString(),
  /**
   * The only subgraph names the gateway composes and routes to (comma-separated); any other name found
   * in discovery is ignored with a warning, so a stray or rogue registration cannot add to the graph.
   */
  SUBGRAPHS: z.string().default('users,courses'),
  /**
   * Services besides SUBGRAPHS whose announced path prefixes (discovery `routes`) the gateway proxies
   * (comma-separated); a prefix announced by any other service is ignored with a warning.
   */
  ROUTE_SERVICES: z.string().default(''),
  /** Largest request body per proxied request under an announced prefix; a service's own announced limit is capped by it. */
  ROUTE_MAX_BODY_BYTES: positiveInt(1024 * 1024 * 1024),
  /** A proxied exchange with no byte in either direction for this long is ended (504 before the answer started). */
  ROUTE_IDLE_TIMEOUT_MS: positiveInt(30_000),
  /** Optional: the JWT denylist (logout) lives there; without it revoked tokens are not checked here. */
  REDIS_URL: optionalString(),
  ...redisSentinelEnv,
  JWT_PUBLIC_KEY: optionalString(),
  JWT_KEYS_DIR: optionalString(),
  /** Bound on every upstream call (subgraph fetch, SDL fetch, health probe). */
  UPSTREAM_TIMEOUT_MS: positiveInt(5000),
  /** How long an instance's open breaker waits before the half-open probe. */
  BREAKER_COOLDOWN_MS: positiveInt(5000),
  /** Consecutive failures that open an instance's breaker. */
  BREAKER_THRESHOLD: positiveInt(3),
  /** Latency outlier detection: eject (no ordinary traffic) an instance this many times slower than the others' median… */
  OUTLIER_LATENCY_FACTOR: z.coerce.number().min(1.5).max(100).default(3),
  /** …and at least this slow (ms); 0 turns outlier detection off. */
  OUTLIER_MIN_LATENCY_MS: z.coerce.number().int().min(0).default(200),
  /** First ejection (doubles on each repeat, up to 10×); the instance returns once its health probe is fast. */
  OUTLIER_EJECT_MS: positiveInt(3000),
  MAX_BODY_BYTES: positiveInt(1024 * 1024),
  MAX_QUERY_DEPTH: positiveInt(12),
  MAX_ALIASES: positiveInt(30),
  /** Estimated cost ceiling: every field 1, list fields multiply their selection by `first` (or LIST_ASSUMED_SIZE). */
  MAX_QUERY_COST: positiveInt(10_000),
  /** Lexical tokens the parser reads before it gives up on a document (graphql-js `maxTokens`). */
  MAX_QUERY_TOKENS: positiveInt(5_000),
  /** Fields an operation may select once fragments are expanded, and selections in one selection set. */
  MAX_FIELDS: positiveInt(1_000),
  MAX_SELECTIONS_PER_SET: positiveInt(200),
  /** The size assumed for a list field without a `first`/`limit` argument. */
  LIST_ASSUMED_SIZE: positiveInt(100),
  /** One info line per request (with its request id); 5xx answers are always logged. */
  ACCESS_LOG: flag(true),
  /**
   * Comma-separated origins allowed by CORS (`http://host:*` = any port of that host); `*` allows
   * every origin (opt-in). Default: Apollo Studio/Sandbox and localhost.
   */
  CORS_ORIGINS: z.string().default(DEFAULT_CORS_ORIGINS),
  /** Strict-Transport-Security max-age in seconds; 0 (default) sends none (set it behind a TLS terminator). */
  HSTS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(0),
  /** Body limit of the REST shims (their bodies are small; /graphql keeps MAX_BODY_BYTES). */
  REST_MAX_BODY_BYTES: positiveInt(64 * 1024),
  /** Most courses GET /api/courses and the WS course lists return (they page through the supergraph). */
  COURSE_LIST_MAX: positiveInt(1000),
  /** graphql-ws: a connection that sends no connection_init within this is closed with 4408. */
  CONNECTION_INIT_TIMEOUT_MS: positiveInt(3000),
  /** WebSocket ping interval (graphql-ws and the /courses shims); a peer that misses one pong is terminated. */
  WS_KEEPALIVE_MS: positiveInt(12_000),
  /** graphql-ws: operations one connection may run at once; more answer RATE_LIMITED errors (a subscribe flood stays bounded). */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: positiveInt(100),
  /** Largest WebSocket message accepted from a client. */
  WS_MAX_PAYLOAD_BYTES: positiveInt(64 * 1024),
  /**
   * Proxies in front of the gateway whose X-Forwarded-For is believed (addresses, CIDRs, or
   * loopback/linklocal/uniquelocal). Empty (default): the socket peer is the client, whatever it sends.
   */
  TRUSTED_PROXIES: z.string().default(''),
  /** Open WebSockets (graphql-ws and the /courses lists) on this gateway; more upgrades answer 429. */
  WS_MAX_CONNECTIONS: positiveInt(20_000),
  /** Open WebSockets per client address (IPv6: per /64). */
  WS_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(200),
  /** Live graphql-ws subscriptions on this gateway; more answer RATE_LIMITED. */
  MAX_SUBSCRIPTIONS: positiveInt(50_000),
  /** Live graphql-ws subscriptions per client address (IPv6: per /64). */
  MAX_SUBSCRIPTIONS_PER_ADDRESS: positiveInt(1000),
  /**
   * /ready and /metrics name internal addresses and breaker states: with a token they answer only
   * `Authorization: Bearer <STATUS_TOKEN>` (Prometheus: `authorization.credentials`); without one, only
   * clients on this machine (loopback peers). /health stays public.
   */
  STATUS_TOKEN: optionalString(),
  /** Lifetime of a single-use WebSocket ticket (POST /api/ws-ticket, then `?ticket=` on the upgrade). */
  WS_TICKET_TTL_SECONDS: positiveInt(30),
  /**
   * Worker processes serving the one port (node:cluster, a supervisor restarts a worker that dies):
   * `auto` = one per core (one when REDIS_URL is unset), 1 = a single process and no supervisor.
   * Each worker has its own subscribers and Redis subscriber; more than one needs Redis (see workers.md).
   */
  GATEWAY_WORKERS: z
    .string()
    .default('auto')
    .refine((v) => v === 'auto' || /^[1-9]\d{0,2}$/.test(v), 'expected auto or a whole number 1-999'),
  /** Merge identical in-flight subgraph queries (same operation, variables and forwarded headers; never mutations). */
  DEDUPE_INFLIGHT: flag(true),
  /**
   * Entity cache: subgraph answers the subgraphs mark cacheable (`@cacheControl`) are kept in Redis
   * and a local layer, invalidated by course and user events; needs REDIS_URL. Off by default.
   */
  ENTITY_CACHE: flag(false),
  /** Entries the in-process layer keeps (least recently used dropped first). */
  ENTITY_CACHE_LOCAL_MAX_ENTRIES: positiveInt(10_000),
  /** Cache PRIVATE data per user; false (default): PRIVATE data is never cached. */
  ENTITY_CACHE_PRIVATE: flag(false),
  /**
   * How long past its maxAge a PUBLIC entry may answer for a subgraph that cannot (every instance
   * down or failing), marked stale; 0 turns the fallback off.
   */
  ENTITY_CACHE_STALE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /**
   * Upper bound on the maxAge of every hint (seconds); 0 keeps entries only as the fallback of a
   * subgraph that cannot answer (every read goes upstream while it can).
   */
  ENTITY_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3600),
  /** After a caller's mutation, that caller's reads skip the cache this long (its invalidation events are on their way). */
  ENTITY_CACHE_WRITE_BYPASS_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** The built web app served at `/` (`npm run build -w web`); an empty value serves none. */
  WEB_ROOT: z.string().default(DEFAULT_WEB_ROOT),
  /** off | allow | required: see trusted-documents.ts. `allow` keeps /graphql open to every client. */
  TRUSTED_DOCUMENTS: z.enum(TRUSTED_DOCUMENTS_MODES).default('allow'),
  /** The web build's hash → document manifest; default `<WEB_ROOT>/trusted-documents.json`. */
  TRUSTED_DOCUMENTS_MANIFEST: optionalString(),
};

type RawGatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;
/** The gateway's configuration; GATEWAY_WORKERS is resolved to a number. */
export type GatewayConfig = Omit<RawGatewayConfig, 'GATEWAY_WORKERS'> & { GATEWAY_WORKERS: number };

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): GatewayConfig {
  const c = loadConfig('gateway', gatewayEnv, env);
  const REDIS_URL = redisUrlFromEnv('gateway', c);
  // without Redis no gateway would hear invalidations: a cache that cannot be invalidated is refused
  if (c.ENTITY_CACHE && !REDIS_URL) throw new ConfigError('gateway', ['ENTITY_CACHE: needs REDIS_URL (or the Sentinel settings)']);
  return { ...c, REDIS_URL, GATEWAY_WORKERS: workerCount(c.GATEWAY_WORKERS, REDIS_URL, cores) };
}

/**
 * How many worker processes: WebSocket tickets, the JWT denylist and the subscription events must be seen
 * by every worker, and without Redis each would keep its own, so several workers need REDIS_URL.
 */
function workerCount(setting: string, redisUrl: string | undefined, cores: number): number {
  if (setting === 'auto') return redisUrl ? Math.max(1, cores) : 1;
  const n = Number(setting);
  if (n > 1 && !redisUrl)
    throw new ConfigError('gateway', [
      `GATEWAY_WORKERS: ${n} workers need REDIS_URL (or REDIS_SENTINELS): WebSocket tickets, revoked tokens and subscription events are shared through Redis`,
    ]);
  return n;
}

/** The service secrets the gateway refuses to start without under NODE_ENV=production (deploy checks read this too). */
export const requiredSecrets = (): Array<ServiceSecret & 'DISCOVERY_TOKEN'> => ['DISCOVERY_TOKEN'];
