import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseContext } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import type { Migration } from 'kysely';
import type { RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import { announce } from './announce';
import { Authenticator } from './auth';
import { databaseHealthy, openDatabase, parseDatabaseUrl, type Database, type SqlDialect } from './db';
import { startGrpcServer, type GrpcServiceBinding } from './grpc/server';
import { JwtService, loadJwtKeys } from './jwt';
import { StartedParts } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { closeRedis, createRedis, redactRedisUrl, redisHealthy, type Redis } from './redis';
import { checkSecrets, subgraphSecrets } from './service-auth';
import type { SubgraphConfig } from './subgraph-config';
import { createMetricsRegistry, startSubgraphServer, type HealthReport, type HttpRoute, type RequestInfo } from './subgraph-server';

/** The shared parts startSubgraphService has started before it asks the subgraph for its own. */
export interface SubgraphInfra<Config extends SubgraphConfig, DB> {
  config: Config;
  logger: Logger;
  db: Database<DB>;
  redis: Redis;
  jwt: JwtService;
  /** Verifies bearer tokens and checks the logout denylist in Redis. */
  authenticator: Authenticator;
  /** Served on /metrics; caches and other parts register their metrics here. */
  registry: Registry;
  /** Registers how to stop a part the subgraph opened; it is stopped before the database and Redis. */
  onStop(name: string, stop: () => Promise<void> | void): void;
}

/** A named health probe beside the database (essential) and Redis (degrades) checks every subgraph has. */
export type HealthCheck = () => Promise<{ ok: boolean; essential: boolean }>;

/** What a subgraph builds from the shared parts: everything that is its own. */
export interface SubgraphParts<Ctx extends BaseContext, Exposed> {
  resolvers: GraphQLResolverMap<Ctx>;
  /** The per-request GraphQL context (caller, loaders, per-request logger). */
  context(info: RequestInfo): Promise<Ctx>;
  /** gRPC services it serves (health and reflection are added for it). */
  grpcServices: GrpcServiceBinding[];
  /** Plain HTTP routes under path prefixes, served by the same HTTP server as /graphql. */
  httpRoutes?: HttpRoute[];
  /** Extra health checks, by the name they are reported under on /health. */
  health?: Record<string, HealthCheck>;
  /** Handed back to whoever started the service (tests reach the repositories and caches through it). */
  exposed: Exposed;
}

/**
 * What a subgraph supplies to run: its name, schema, migrations and a `parts` step building its
 * resolvers, context, gRPC services and health checks from the shared parts. Everything else (config
 * checks, logger, database, Redis, tokens, metrics, gRPC and HTTP servers, discovery, shutdown order)
 * is startSubgraphService's.
 */
export interface SubgraphSpec<Config extends SubgraphConfig, DB, Ctx extends BaseContext, Exposed> {
  /** Logger name, discovery service name, `service` on /health. */
  name: string;
  config: Config;
  /** The SDL (schema.graphql as written): what the gateway composes and the SDL hash announced. */
  typeDefs: string;
  /** Migrations for the database at DATABASE_URL, per dialect; run before anything is served. */
  migrations(dialect: SqlDialect): Record<string, Migration>;
  /** True only for the subgraph that issues tokens; the others never hold the private key. */
  signsTokens?: boolean;
  /** Extra ioredis options (e.g. auto-pipelining for a write-heavy subgraph). */
  redisOptions?: RedisOptions;
  /** Builds the subgraph's own parts (caches, repositories, resolvers, context, gRPC services). */
  parts(infra: SubgraphInfra<Config, DB>): Promise<SubgraphParts<Ctx, Exposed>>;
}

/** A running subgraph: its addresses, the shared parts, what its `parts` step exposed, and stop(). */
export type SubgraphService<DB, Exposed> = SharedParts<DB> & Exposed;

/** The parts every running subgraph has, whatever its own `parts` step exposed. */
export interface SharedParts<DB> {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  port: number;
  /** The bound gRPC port. */
  grpcPort: number;
  logger: Logger;
  db: Database<DB>;
  redis: Redis;
  jwt: JwtService;
  authenticator: Authenticator;
  schema: GraphQLSchema;
  /** Deregisters, then stops everything in the reverse order of the start. Safe to call twice. */
  stop(): Promise<void>;
}

/** `schema.graphql` beside a subgraph's sources, as written. */
export const readTypeDefs = (dir: string): string => readFileSync(join(dir, 'schema.graphql'), 'utf8');

export function buildSchema<Ctx>(typeDefs: string, resolvers: GraphQLResolverMap<Ctx>): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as GraphQLResolverMap<unknown> });
}

/**
 * The health contract of every subgraph: the database is essential (500 without it); Redis only
 * carries the denylist, caches and events, so its outage is reported as degraded while writes work.
 */
function healthOf<DB>(db: Database<DB>, redis: Redis, extra: Record<string, HealthCheck> = {}): () => Promise<HealthReport> {
  return async () => {
    const names = Object.keys(extra);
    const [dbOk, redisOk, ...others] = await Promise.all([databaseHealthy(db), redisHealthy(redis), ...names.map((n) => extra[n]())]);
    const failedEssential = names.filter((n, i) => others[i].essential && !others[i].ok);
    const degraded = !redisOk || others.some((o) => !o.essential && !o.ok);
    const ok = dbOk && failedEssential.length === 0;
    const reason = !dbOk ? 'database unreachable' : failedEssential.length ? `${failedEssential.join(', ')} unavailable` : undefined;
    return {
      ok,
      db: dbOk ? 'up' : 'down',
      redis: redisOk ? 'up' : 'down',
      ...Object.fromEntries(names.map((n, i) => [n, others[i].ok ? 'up' : 'down'])),
      ...(degraded ? { degraded: true } : {}),
      ...(reason ? { reason } : {}),
    };
  };
}

/**
 * Starts a subgraph: config checks → logger → database + migrations → Redis → authenticator → the
 * subgraph's own parts → gRPC → HTTP → discovery. stop() undoes it in reverse; a step that fails stops
 * whatever the earlier steps started before the error is rethrown.
 */
export async function startSubgraphService<Config extends SubgraphConfig, DB, Ctx extends BaseContext, Exposed>(
  spec: SubgraphSpec<Config, DB, Ctx, Exposed>,
): Promise<SubgraphService<DB, Exposed>> {
  const { name, config } = spec;
  const logger = createLogger(name, { level: config.LOG_LEVEL });
  logger.info(
    { port: config.PORT, grpcPort: config.GRPC_PORT, host: config.HOST, cache: config.CACHE_ENABLED ? `${config.CACHE_TTL_SECONDS}s` : 'off', database: redactRedisUrl(config.DATABASE_URL), redis: redactRedisUrl(config.REDIS_URL) },
    `starting ${name} subgraph`,
  );
  checkSecrets(name, config, subgraphSecrets(config), logger);
  const keys = loadJwtKeys(config, logger);
  const jwt = new JwtService(spec.signsTokens ? { keys } : { keys: { publicKey: keys.publicKey } });
  const started = new StartedParts(logger);
  try {
    const db = await openDatabase<DB>({ url: config.DATABASE_URL, migrations: spec.migrations(parseDatabaseUrl(config.DATABASE_URL).dialect), logger });
    started.add('database', () => db.close());
    const redis = createRedis(config.REDIS_URL, logger, spec.redisOptions);
    started.add('redis', () => closeRedis(redis));
    const authenticator = new Authenticator(jwt, redis, logger);
    const registry = createMetricsRegistry();
    const parts = await spec.parts({ config, logger, db, redis, jwt, authenticator, registry, onStop: (part, stop) => started.add(part, stop) });
    const grpc = await startGrpcServer({ port: config.GRPC_PORT, host: config.HOST, logger, services: parts.grpcServices });
    started.add('grpc', () => grpc.stop());
    const schema = buildSchema(spec.typeDefs, parts.resolvers);
    const http = await startSubgraphServer<Ctx>({ name, schema, port: config.PORT, host: config.HOST, logger, registry, context: parts.context, health: healthOf(db, redis, parts.health), routes: parts.httpRoutes });
    started.add('http', () => http.stop());
    const registration = await announce({ discoveryUrl: config.DISCOVERY_URL, discoveryToken: config.DISCOVERY_TOKEN, advertiseHost: config.ADVERTISE_HOST, service: name, httpPort: http.port, grpcPort: grpc.port, sdl: spec.typeDefs, logger });
    // Deregistered first on stop, so traffic moves elsewhere before the servers close.
    if (registration) started.add('discovery registration', () => registration.deregister());
    return { ...parts.exposed, url: http.url, port: http.port, grpcPort: grpc.port, logger, db, redis, jwt, authenticator, schema, stop: () => started.stopAll() };
  } catch (err) {
    await started.stopAll();
    throw err;
  }
}
