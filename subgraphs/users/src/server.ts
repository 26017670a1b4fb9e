import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import {
  Authenticator,
  checkSecrets,
  JwtService,
  cacheMetrics,
  createLogger,
  createMetricsRegistry,
  getProtos,
  startGrpcServer,
  wrapUnary,
  type GrpcServerHandle,
  createRedis,
  loadJwtKeys,
  openDatabase,
  redisHealthy,
  trustedProxies,
  startSubgraphServer,
  type Database,
  type HealthReport,
  type JwtKeys,
  type Logger,
} from '@dream/common';
import { type UsersConfig, requiredSecrets } from './config';
import { contextFactory } from './context';
import { createCoursesClient, type CoursesClient } from './courses-client';
import { getUsers } from './grpc-users';
import { createUserCache, type UserProfile } from './user-cache';
import type { EntityCache } from '@dream/common';
import { migrations } from './data/migrations';
import { UsersRepository, type UsersDb } from './data/users-repository';
import { LoginRateLimiter } from './login-rate-limit';
import { dummyHash } from './passwords';
import { createResolvers } from './resolvers';

export const SERVICE_NAME = 'users';

/** The subgraph's SDL, as served by `_service { sdl }` and composed by the gateway. */
export const typeDefsSource = readFileSync(join(__dirname, 'schema.graphql'), 'utf8');

export interface UsersOverrides {
  logger?: Logger;
  /** A Redis client to use instead of connecting to REDIS_URL (not closed by stop()). */
  redis?: Redis;
  /** Keys to use instead of JWT_* / JWT_KEYS_DIR. */
  jwtKeys?: JwtKeys;
}

export interface UsersSubgraph {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  port: number;
  /** The bound gRPC port (UserService, health, reflection). */
  grpcPort: number;
  stop(): Promise<void>;
  db: Database<UsersDb>;
  redis: Redis;
  authenticator: Authenticator;
  jwt: JwtService;
  repo: UsersRepository;
  schema: GraphQLSchema;
  cache: EntityCache<UserProfile>;
  courses: CoursesClient;
}

/** Checks the database with the cheapest statement each dialect accepts. */
async function pingDatabase(db: Database<UsersDb>): Promise<void> {
  const q = db.dialect === 'oracle' ? sql`select 1 from dual` : sql`select 1`;
  await q.execute(db.db);
}

/**
 * Starts one users subgraph instance: opens (and migrates) the database, connects Redis, and serves
 * /graphql, /health and /metrics on config.PORT (0 = a free port). stop() closes all it opened.
 */
export async function startUsersSubgraph(config: UsersConfig, overrides: UsersOverrides = {}): Promise<UsersSubgraph> {
  const logger = overrides.logger ?? createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  checkSecrets(SERVICE_NAME, config, requiredSecrets(config), logger);
  const keys = overrides.jwtKeys ?? loadJwtKeys(config, logger);
  const jwt = new JwtService({ keys, ttlSeconds: config.JWT_TTL_SECONDS });
  // Computed before serving so the first unknown-user login is not slower than the others.
  await dummyHash();
  const db = await openDatabase<UsersDb>({ url: config.DATABASE_URL, migrations, logger });
  const ownRedis = !overrides.redis;
  const redis = overrides.redis ?? createRedis(config.REDIS_URL, logger);

  let grpcServer: GrpcServerHandle | undefined;
  let courses: CoursesClient | undefined;
  try {
    const repo = new UsersRepository(db.db);
    const registry = createMetricsRegistry();
    const cache = createUserCache({
      redis,
      enabled: config.CACHE_ENABLED,
      ttlSeconds: config.CACHE_TTL_SECONDS,
      metrics: cacheMetrics(registry),
      logger,
    });
    courses = createCoursesClient({
      discoveryUrl: config.DISCOVERY_URL,
      staticAddresses: config.COURSES_GRPC_URL,
      deadlineMs: config.GRPC_DEADLINE_MS,
      logger,
      discoveryToken: config.DISCOVERY_TOKEN,
      serviceSecret: config.SERVICE_TOKEN,
    });
    const authenticator = new Authenticator(jwt, redis, logger);
    const limiter = new LoginRateLimiter(
      redis,
      {
        maxAttempts: config.LOGIN_MAX_ATTEMPTS,
        maxAccountAttempts: config.LOGIN_ACCOUNT_MAX_ATTEMPTS,
        windowSeconds: config.LOGIN_WINDOW_SECONDS,
        maxSignups: config.SIGNUP_MAX_PER_WINDOW,
        signupWindowSeconds: config.SIGNUP_WINDOW_SECONDS,
      },
      logger,
    );
    const schema = buildSubgraphSchema([
      {
        typeDefs: parse(typeDefsSource),
        resolvers: createResolvers({ repo, jwt, authenticator, limiter, courses, invalidateUser: async (id) => void (await cache.invalidate([id])) }),
      },
    ]);

    const health = async (): Promise<HealthReport> => {
      const redisUp = await redisHealthy(redis);
      try {
        await pingDatabase(db);
      } catch (e) {
        return { ok: false, reason: `database unreachable: ${(e as Error).message}`, db: 'down', redis: redisUp ? 'up' : 'down' };
      }
      // Redis down degrades (no denylist reads, no rate limit, no logout) but the service still answers.
      return { ok: true, db: 'up', redis: redisUp ? 'up' : 'down', ...(redisUp ? {} : { degraded: true }) };
    };

    grpcServer = await startGrpcServer({
      port: config.GRPC_PORT,
      host: config.HOST,
      logger,
      services: [
        {
          definition: getProtos().userService,
          implementation: { GetUsers: wrapUnary((call) => getUsers({ repo, cache, authenticator, serviceSecret: config.SERVICE_TOKEN }, call), { logger }) },
        },
      ],
    });
    const grpcSrv = grpcServer;
    const coursesClient = courses;

    const server = await startSubgraphServer({
      name: SERVICE_NAME,
      schema,
      port: config.PORT,
      host: config.HOST,
      logger,
      registry,
      context: contextFactory({ repo, authenticator, cache, trustedProxies: trustedProxies(config.TRUSTED_PROXIES) }),
      health,
    });

    let stopped = false;
    return {
      url: server.url,
      port: server.port,
      grpcPort: grpcSrv.port,
      db,
      redis,
      authenticator,
      jwt,
      repo,
      schema,
      cache,
      courses: coursesClient,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await Promise.all([server.stop(), grpcSrv.stop()]);
        await coursesClient.close();
        await db.close();
        if (ownRedis) redis.disconnect();
      },
    };
  } catch (e) {
    await grpcServer?.stop();
    await courses?.close();
    await db.close();
    if (ownRedis) redis.disconnect();
    throw e;
  }
}
