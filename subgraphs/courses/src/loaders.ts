import DataLoader from 'dataloader';
import type { Course } from './domain';
import type { CourseCache } from './course-cache';
import type { CoursesRepository } from './data/courses-repository';
import type { EnrollmentsRepository } from './data/enrollments-repository';

/** Keeps every batch under Oracle's 1000-expression IN-list limit. */
const MAX_BATCH = 500;

export interface Loaders {
  /** Live course by id (undefined when unknown or deleted). */
  courseById: DataLoader<string, Course | undefined>;
  ownedCourses: DataLoader<string, Course[]>;
  enrolledCourses: DataLoader<string, Course[]>;
}

/**
 * Per-request loaders: a federated query asking for 50 courses or 50 users' course lists costs one
 * statement each instead of 50. Created per request so one user's results are never cached for another.
 * Course entities go through the Redis cache first (one MGET), the database only for the misses (one
 * query), and the misses are then cached.
 */
export function createLoaders(courses: CoursesRepository, enrollments: EnrollmentsRepository, cache?: CourseCache): Loaders {
  return {
    courseById: new DataLoader(
      async (ids) => {
        const found = cache
          ? await cache.course.loadMany(ids, (missing) => courses.findByIds(missing), (c) => c.id)
          : new Map((await courses.findByIds(ids)).map((c) => [c.id, c]));
        return ids.map((id) => found.get(id));
      },
      { maxBatchSize: MAX_BATCH },
    ),
    ownedCourses: new DataLoader(
      async (ownerIds) => {
        const byOwner = await courses.findByOwnerIds(ownerIds);
        return ownerIds.map((id) => byOwner.get(id) ?? []);
      },
      { maxBatchSize: MAX_BATCH },
    ),
    enrolledCourses: new DataLoader(
      async (userIds) => {
        const byUser = await enrollments.coursesByUserIds(userIds);
        return userIds.map((id) => byUser.get(id) ?? []);
      },
      { maxBatchSize: MAX_BATCH },
    ),
  };
}
