import {
  Authenticator,
  JwtService,
  authenticateCall,
  checkSecrets,
  cacheMetrics,
  createLogger,
  createMetricsRegistry,
  getProtos,
  requestIdOfCall,
  startGrpcServer,
  wrapUnary,
  type GrpcServerHandle,
  createRedis,
  loadJwtKeys,
  redisHealthy,
  startSubgraphServer,
  type JwtKeys,
  type Logger,
} from '@dream/common';
import type { Redis } from 'ioredis';
import { type CoursesConfig, requiredSecrets } from './config';
import type { CoursesContext } from './context';
import { CoursesRepository } from './data/courses-repository';
import { databaseHealthy, openCoursesDatabase, type CoursesDatabase } from './data/database';
import { EnrollmentsRepository } from './data/enrollments-repository';
import { createCourseCache, type CourseCache } from './course-cache';
import { CacheOutbox } from './cache-outbox';
import { RedisCourseEvents, RedisNotifier, type CourseEvents, type Notifier } from './events';
import { createLoaders } from './loaders';
import { PurchaseService } from './purchase';
import { CourseAccessService, requireServiceCaller } from './course-access';
import { buildCoursesSchema } from './schema';

/**
 * QUIT when Redis is there (flushes pending commands), disconnect otherwise: with Redis down, QUIT
 * would wait in the offline queue forever and SIGTERM would never finish.
 */
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const timer = setTimeout(() => redis.disconnect(), 1000);
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

export interface CoursesOverrides {
  logger?: Logger;
  /** A Redis client to use instead of connecting to REDIS_URL (not closed on stop). */
  redis?: Redis;
  /** JWT verification keys instead of JWT_PUBLIC_KEY / JWT_KEYS_DIR. */
  keys?: JwtKeys;
  /** Where domain events go instead of Redis PUBLISH. */
  events?: CourseEvents;
  /** Where notifications go instead of Redis PUBLISH on `notification`. */
  notifier?: Notifier;
}

export interface CoursesSubgraph {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  port: number;
  /** The bound gRPC port (PurchaseService, CourseAccessService, health, reflection). */
  grpcPort: number;
  db: CoursesDatabase;
  redis: Redis;
  courses: CoursesRepository;
  enrollments: EnrollmentsRepository;
  cache: CourseCache;
  purchases: PurchaseService;
  stop(): Promise<void>;
}

/** Opens the database (migrating it), connects Redis and serves the courses subgraph. */
export async function startCoursesSubgraph(config: CoursesConfig, overrides: CoursesOverrides = {}): Promise<CoursesSubgraph> {
  const logger = overrides.logger ?? createLogger('courses', { level: config.LOG_LEVEL });
  checkSecrets('courses', config, requiredSecrets(config), logger);
  const keys = overrides.keys ?? loadJwtKeys({ JWT_PUBLIC_KEY: config.JWT_PUBLIC_KEY, JWT_KEYS_DIR: config.JWT_KEYS_DIR }, logger);
  // Courses only verifies: never hold the private key here even when the dev key pair provides one.
  const jwt = new JwtService({ keys: { publicKey: keys.publicKey } });
  const db = await openCoursesDatabase(config.DATABASE_URL, logger);
  const ownRedis = !overrides.redis;
  // Auto-pipelining: commands issued in the same tick (denylist checks, notifications and cache reads of
  // concurrent calls) go out in one socket write; one write per command was 5 % of a replica's CPU under BuyCourse.
  const redis = overrides.redis ?? createRedis(config.REDIS_URL, logger, { enableAutoPipelining: true });
  const authenticator = new Authenticator(jwt, redis, logger);
  const events = overrides.events ?? new RedisCourseEvents(redis, logger);
  const courses = new CoursesRepository(db.db, db.dialect);
  const enrollments = new EnrollmentsRepository(db.db, db.dialect);
  const registry = createMetricsRegistry();
  const cache = createCourseCache({
    redis,
    enabled: config.CACHE_ENABLED,
    ttlSeconds: config.CACHE_TTL_SECONDS,
    metrics: cacheMetrics(registry),
    logger,
  });
  // Invalidations that could not reach Redis (kept durably with the change); applied before serving,
  // on a timer, and whenever this replica's Redis connection comes back.
  const outbox = config.CACHE_ENABLED ? new CacheOutbox({ db: db.db, dialect: db.dialect, cache, logger, pollMs: config.CACHE_OUTBOX_POLL_MS, stats: db.stats }) : undefined;
  await outbox?.applyPending();
  outbox?.start();
  const onRedisReady = () => void outbox?.applyPending();
  redis.on('ready', onRedisReady);
  const notifier = overrides.notifier ?? new RedisNotifier(redis, logger);
  const purchases = new PurchaseService({ courses, enrollments, notifier, logger });
  const access = new CourseAccessService({ courses, enrollments });

  let server;
  let grpcServer: GrpcServerHandle | undefined;
  try {
    grpcServer = await startGrpcServer({
      port: config.GRPC_PORT,
      host: config.HOST,
      logger,
      services: [
        {
          definition: getProtos().purchaseService,
          implementation: {
            BuyCourse: wrapUnary(
              async (call) => {
                // The buyer is the token's user; UNAUTHENTICATED without a valid token.
                const user = await authenticateCall(call, authenticator, config.SERVICE_TOKEN);
                return purchases.buy(user, call.request, requestIdOfCall(call));
              },
              { logger },
            ),
          },
        },
        {
          definition: getProtos().courseAccessService,
          implementation: {
            GetCourseAccess: wrapUnary(
              async (call) => {
                requireServiceCaller(call, config.SERVICE_TOKEN);
                return access.access(call.request);
              },
              { logger },
            ),
            ListCourseStudents: wrapUnary(
              async (call) => {
                requireServiceCaller(call, config.SERVICE_TOKEN);
                return access.students(call.request);
              },
              { logger },
            ),
          },
        },
      ],
    });
    server = await startSubgraphServer<CoursesContext>({
      name: 'courses',
      schema: buildCoursesSchema(),
      port: config.PORT,
      host: config.HOST,
      logger,
      registry,
      context: async ({ req, logger: reqLogger }) => ({
        user: await authenticator.fromHeaders(req.headers),
        courses,
        enrollments,
        loaders: createLoaders(courses, enrollments, cache),
        cache,
        outbox,
        events,
        notifier,
        logger: reqLogger,
      }),
      // Same contract as users: the database is essential (500 without it); Redis only carries events
      // and the denylist, so its outage is reported as degraded while writes keep working.
      health: async () => {
        const [dbOk, redisOk] = await Promise.all([databaseHealthy(db), redisHealthy(redis)]);
        return {
          ok: dbOk,
          db: dbOk ? 'up' : 'down',
          redis: redisOk ? 'up' : 'down',
          ...(redisOk ? {} : { degraded: true }),
          ...(dbOk ? {} : { reason: 'database unreachable' }),
        };
      },
    });
  } catch (e) {
    await outbox?.stop();
    redis.off('ready', onRedisReady);
    await grpcServer?.stop();
    await db.close();
    if (ownRedis) redis.disconnect();
    throw e;
  }

  const srv = server;
  const grpcSrv = grpcServer;
  let stopped = false;
  return {
    url: srv.url,
    port: srv.port,
    grpcPort: grpcSrv.port,
    db,
    redis,
    courses,
    enrollments,
    cache,
    purchases,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all([srv.stop(), grpcSrv.stop()]);
      await outbox?.stop();
      redis.off('ready', onRedisReady);
      await db.close();
      if (ownRedis) await closeRedis(redis);
    },
  };
}
