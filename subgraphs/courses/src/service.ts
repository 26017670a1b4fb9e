import { cacheMetrics } from '@dream/common';
import { readTypeDefs, startSubgraphService, type SubgraphInfra, type SubgraphParts, type SubgraphService } from '@dream/common/subgraph';
import { CacheOutbox } from './cache-outbox';
import type { CoursesConfig } from './config';
import { contextFactory, type CoursesContext } from './context';
import { createCourseCache, type CourseCache } from './course-cache';
import { CoursesRepository } from './data/courses-repository';
import { EnrollmentsRepository } from './data/enrollments-repository';
import { coursesMigrations } from './data/migrations';
import type { CoursesDb } from './data/types';
import { RedisCourseEvents, RedisNotifier } from './events';
import { purchaseServiceBinding } from './grpc/buy-course';
import { courseAccessServiceBinding } from './grpc/course-access';
import { CourseAccessService } from './course-access';
import { PurchaseService } from './purchase';
import { resolvers } from './resolvers';

export const SERVICE_NAME = 'courses';

/** The subgraph's SDL as written (what composition and `_service { sdl }` see). */
export const typeDefs = readTypeDefs(__dirname);

/** What a running courses subgraph exposes beside the shared parts (tests reach into these). */
export interface CoursesParts {
  courses: CoursesRepository;
  enrollments: EnrollmentsRepository;
  cache: CourseCache;
  purchases: PurchaseService;
}

export type CoursesSubgraph = SubgraphService<CoursesDb, CoursesParts>;

/**
 * Invalidations that could not reach Redis are kept durably with the change; they are applied before
 * serving, on a timer, and whenever this replica's Redis connection comes back.
 */
async function startOutbox(infra: SubgraphInfra<CoursesConfig, CoursesDb>, cache: CourseCache): Promise<CacheOutbox | undefined> {
  const { config, db, redis, logger } = infra;
  if (!config.CACHE_ENABLED) return undefined;
  const outbox = new CacheOutbox({ db: db.db, dialect: db.dialect, cache, logger, pollMs: config.CACHE_OUTBOX_POLL_MS, stats: db.stats });
  await outbox.applyPending();
  outbox.start();
  const onRedisReady = () => void outbox.applyPending();
  redis.on('ready', onRedisReady);
  infra.onStop('cache outbox', async () => {
    redis.off('ready', onRedisReady);
    await outbox.stop();
  });
  return outbox;
}

async function coursesParts(infra: SubgraphInfra<CoursesConfig, CoursesDb>): Promise<SubgraphParts<CoursesContext, CoursesParts>> {
  const { config, logger, db, redis, authenticator, registry } = infra;
  const courses = new CoursesRepository(db.db, db.dialect);
  const enrollments = new EnrollmentsRepository(db.db, db.dialect);
  const cache = createCourseCache({ redis, enabled: config.CACHE_ENABLED, ttlSeconds: config.CACHE_TTL_SECONDS, metrics: cacheMetrics(registry), logger });
  const outbox = await startOutbox(infra, cache);
  const events = new RedisCourseEvents(redis, logger);
  const notifier = new RedisNotifier(redis, logger);
  const purchases = new PurchaseService({ courses, enrollments, notifier, logger });
  return {
    resolvers,
    context: contextFactory({ authenticator, courses, enrollments, cache, outbox, events, notifier }),
    grpcServices: [
      purchaseServiceBinding({ purchases, authenticator, serviceSecret: config.SERVICE_TOKEN, logger }),
      courseAccessServiceBinding({ access: new CourseAccessService({ courses, enrollments }), serviceSecret: config.SERVICE_TOKEN, logger }),
    ],
    exposed: { courses, enrollments, cache, purchases },
  };
}

/** Starts one courses replica (see startSubgraphService for the order and what stop() closes). */
export function startCoursesSubgraph(config: CoursesConfig): Promise<CoursesSubgraph> {
  return startSubgraphService({
    name: SERVICE_NAME,
    config,
    typeDefs,
    migrations: coursesMigrations,
    // Auto-pipelining: commands issued in the same tick (denylist checks, notifications and cache reads of
    // concurrent calls) go out in one socket write, which saves a replica CPU under BuyCourse.
    redisOptions: { enableAutoPipelining: true },
    parts: coursesParts,
  });
}
