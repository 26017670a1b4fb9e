import type { Generated } from 'kysely';

/** Row shapes of the courses service's schema (timestamps are ISO-8601 UTC strings, sortable as text). */
export interface CoursesTable {
  id: string;
  owner_id: string;
  name: string;
  /** Nullable because Oracle stores '' as NULL; read back as ''. */
  info: string | null;
  category: string;
  price: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export type EnrollmentSource = 'purchase' | 'lobby';

export interface EnrollmentsTable {
  id: string;
  user_id: string;
  course_id: string;
  source: EnrollmentSource;
  price_paid: number;
  idempotency_key: string | null;
  created_at: string;
}

export interface CategoryFollowsTable {
  user_id: string;
  /** Lower-cased: follows match categories case-insensitively. */
  category: string;
  created_at: Generated<string>;
}

/**
 * Cache invalidations written in the same transaction as the course change they are for, deleted once
 * Redis has them: one that could not reach Redis survives a crash of the writer and is applied by any
 * replica (see cache-outbox.ts).
 */
export interface CacheOutboxTable {
  id: string;
  course_id: string;
  created_at: string;
}

export interface CoursesDb {
  courses: CoursesTable;
  cache_outbox: CacheOutboxTable;
  enrollments: EnrollmentsTable;
  category_follows: CategoryFollowsTable;
}

export type CourseRow = CoursesTable;
export type CacheOutboxRow = CacheOutboxTable;
export type EnrollmentRow = EnrollmentsTable;
