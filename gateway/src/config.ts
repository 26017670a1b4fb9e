import { z } from 'zod';
import { DEFAULT_CORS_ORIGINS } from './security-headers';
import { baseEnv, flag, loadConfig, optionalString, port, positiveInt, redisSentinelEnv, redisUrlFromEnv, url } from '@dream/common';

/** Everything the gateway reads from the environment, with defaults that make `npm start` work. */
export const gatewayEnv = {
  ...baseEnv,
  PORT: port(8080),
  HOST: z.string().default('0.0.0.0'),
  DISCOVERY_URL: url('http://127.0.0.1:8500'),
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
  /** Merge identical in-flight subgraph queries (same operation, variables and forwarded headers; never mutations). */
  DEDUPE_INFLIGHT: flag(true),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const c = loadConfig('gateway', gatewayEnv, env);
  return { ...c, REDIS_URL: redisUrlFromEnv('gateway', c) };
}
