import type { AuthUser, Authenticator, Logger } from '@dream/common';
import type { RequestInfo } from '@dream/common/subgraph';
import type { CacheOutbox } from './cache-outbox';
import type { CourseCache } from './course-cache';
import type { CoursesRepository } from './data/courses-repository';
import type { EnrollmentsRepository } from './data/enrollments-repository';
import type { CourseEvents, Notifier } from './events';
import { createLoaders, type Loaders } from './loaders';

/** Per-request GraphQL context. */
export interface CoursesContext {
  /** The verified caller; undefined when no token was sent. */
  user?: AuthUser;
  courses: CoursesRepository;
  enrollments: EnrollmentsRepository;
  loaders: Loaders;
  /** Redis cache of courses and course lists; writes call `cache.changed(id)` before answering. */
  cache?: CourseCache;
  /** Durable record of each write's cache invalidation (same transaction); absent with no cache. */
  outbox?: CacheOutbox;
  events: CourseEvents;
  /** Per-user notifications (lobby joins, new courses in followed categories); optional for embedders. */
  notifier?: Notifier;
  logger: Logger;
}

export interface ContextDeps {
  authenticator: Authenticator;
  courses: CoursesRepository;
  enrollments: EnrollmentsRepository;
  cache?: CourseCache;
  outbox?: CacheOutbox;
  events: CourseEvents;
  notifier?: Notifier;
}

/** The context of one request: its caller, fresh loaders (batching is per request) and its logger. */
export function contextFactory(deps: ContextDeps) {
  return async ({ req, logger }: RequestInfo): Promise<CoursesContext> => {
    const { authenticator, ...shared } = deps;
    return { ...shared, user: await authenticator.fromHeaders(req.headers), loaders: createLoaders(deps.courses, deps.enrollments, deps.cache), logger };
  };
}
