import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { EntityCache, GenerationalCache, type CacheMetrics, type Logger } from '@dream/common';
import type { Course } from './domain';

/**
 * The courses subgraph's Redis cache (see docs/purchase.md, "Cache"):
 * - `v1:course:<id>` — one course (cache-aside in the courseById loader);
 * - `v1:course-list:<generation>:<hash of the arguments>` — the ids of a `courses(...)` page. Any course
 *   write bumps the generation, so no replica can serve a list from before the write.
 */
export interface CourseCache {
  course: EntityCache<Course>;
  lists: GenerationalCache<string[]>;
  /**
   * Call after course writes commit and before answering: drops the courses and every cached list.
   * Never throws; true when Redis has the invalidation (false: kept in memory, and in the outbox).
   */
  changed(...courseIds: string[]): Promise<boolean>;
}

export interface CourseCacheOptions {
  redis: Redis;
  enabled: boolean;
  ttlSeconds: number;
  metrics: CacheMetrics;
  logger?: Logger;
}

export function createCourseCache(opts: CourseCacheOptions): CourseCache {
  const course = new EntityCache<Course>({ ...opts, entity: 'course' });
  const lists = new GenerationalCache<string[]>({ ...opts, entity: 'course-list' });
  return {
    course,
    lists,
    changed: async (...courseIds) => {
      const [a, b] = await Promise.all([course.invalidate(courseIds), lists.invalidateAll()]);
      return a && b;
    },
  };
}

/** A short stable key for a list query's arguments. */
export function listKey(args: Record<string, unknown>): string {
  return createHash('sha1').update(JSON.stringify(args)).digest('base64url');
}
