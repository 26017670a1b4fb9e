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

export interface CoursesDb {
  courses: CoursesTable;
  enrollments: EnrollmentsTable;
  category_follows: CategoryFollowsTable;
}

export type CourseRow = CoursesTable;
export type EnrollmentRow = EnrollmentsTable;
