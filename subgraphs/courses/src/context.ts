import type { AuthUser, Logger } from '@dream/common';
import type { CourseCache } from './course-cache';
import type { CacheOutbox } from './cache-outbox';
import type { CoursesRepository } from './data/courses-repository';
import type { EnrollmentsRepository } from './data/enrollments-repository';
import type { CourseEvents, Notifier } from './events';
import type { Loaders } from './loaders';

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
