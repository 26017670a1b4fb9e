import { sql, type Kysely } from 'kysely';
import type { SqlDialect } from '@dream/common/db';
import type { CacheOutboxRow, CourseRow, CoursesDb, EnrollmentRow } from './types';

/** Position of a course in the newest-first order: the keyset behind `cursor`/`after`. */
export interface CourseKey {
  createdAt: string;
  id: string;
}

export interface ListFilter {
  /** Already lower-cased. */
  categoryKey?: string;
  ownerId?: string;
  /** Case-insensitive substring of the course name, already lower-cased. */
  nameContains?: string;
  after?: CourseKey;
  limit: number;
}

/** A LIKE pattern matching `text` literally anywhere (a backslash escapes %, _ and itself, with ESCAPE in both dialects). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Every statement the repositories run, as builders over any Kysely (a transaction, the live
 * database, or `compileOnly('oracle')` in tests). Keeping them here lets one test compile every
 * query for Oracle without an Oracle server. Row limits differ: Oracle has no LIMIT (it takes
 * `fetch first n rows only`) and SQLite has no FETCH, hence `take`.
 */
export function courseQueries(db: Kysely<CoursesDb>, dialect: SqlDialect) {
  const take = <QB extends { limit(n: number): QB; fetch(n: number): QB }>(q: QB, n: number): QB =>
    dialect === 'oracle' ? q.fetch(n) : q.limit(n);
  const live = () => db.selectFrom('courses').selectAll('courses').where('courses.deleted_at', 'is', null);
  return {
    insertOutbox: (row: CacheOutboxRow) => db.insertInto('cache_outbox').values(row),
    /** Oldest first, so a backlog drains in the order it was written. */
    pendingOutbox: (limit: number) => take(db.selectFrom('cache_outbox').selectAll().orderBy('created_at').orderBy('id'), limit),
    deleteOutbox: (ids: readonly string[]) => db.deleteFrom('cache_outbox').where('id', 'in', [...ids]),
    insertCourse: (row: CourseRow) => db.insertInto('courses').values(row),
    courseById: (id: string) => live().where('courses.id', '=', id),
    coursesByIds: (ids: readonly string[]) => live().where('courses.id', 'in', [...ids]),
    coursesByOwnerIds: (ownerIds: readonly string[]) =>
      live().where('courses.owner_id', 'in', [...ownerIds]).orderBy('courses.created_at', 'desc').orderBy('courses.id', 'desc'),
    listCourses: (f: ListFilter) => {
      let q = live();
      if (f.categoryKey !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['courses.category']), '=', f.categoryKey!));
      if (f.ownerId !== undefined) q = q.where('courses.owner_id', '=', f.ownerId);
      if (f.nameContains !== undefined) {
        const pattern = containsPattern(f.nameContains);
        q = q.where(sql<boolean>`lower(${sql.ref('courses.name')}) like ${pattern} escape '\\'`);
      }
      if (f.after) {
        const a = f.after;
        q = q.where((eb) =>
          eb.or([
            eb('courses.created_at', '<', a.createdAt),
            eb.and([eb('courses.created_at', '=', a.createdAt), eb('courses.id', '<', a.id)]),
          ]),
        );
      }
      return q.orderBy('courses.created_at', 'desc').orderBy('courses.id', 'desc').$call((q) => take(q, f.limit));
    },
    // Categories compare case-insensitively, so "Programming" and "programming" are one category;
    // min() picks one stored spelling deterministically.
    categories: () =>
      db
        .selectFrom('courses')
        .select((eb) => [eb.fn.min('courses.category').as('category'), eb.fn('lower', ['courses.category']).as('category_key')])
        .where('courses.deleted_at', 'is', null)
        .groupBy((eb) => eb.fn('lower', ['courses.category']))
        .orderBy('category_key'),
    updateCourse: (id: string, patch: Partial<Pick<CourseRow, 'name' | 'info' | 'category' | 'price' | 'updated_at'>>) =>
      db.updateTable('courses').set(patch).where('id', '=', id).where('deleted_at', 'is', null),
    softDeleteCourse: (id: string, at: string) =>
      db.updateTable('courses').set({ deleted_at: at, updated_at: at }).where('id', '=', id).where('deleted_at', 'is', null),
    /** The newest live course of a category the user neither owns nor is enrolled in. */
    lobbyCandidate: (userId: string, categoryKey: string) =>
      live()
        .where((eb) => eb(eb.fn('lower', ['courses.category']), '=', categoryKey))
        .where('courses.owner_id', '<>', userId)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('enrollments')
                .select('enrollments.id')
                .whereRef('enrollments.course_id', '=', 'courses.id')
                .where('enrollments.user_id', '=', userId),
            ),
          ),
        )
        .orderBy('courses.created_at', 'desc')
        .orderBy('courses.id', 'desc')
        .$call((q) => take(q, 1)),
  };
}

export function enrollmentQueries(db: Kysely<CoursesDb>) {
  return {
    insertEnrollment: (row: EnrollmentRow) => db.insertInto('enrollments').values(row),
    /**
     * A purchase decided in one statement: inserts `row` only while its course is live and still costs
     * `row.price_paid`, reading both from the course row at that moment (INSERT … SELECT). A deletion or
     * price change that commits first makes it insert nothing; one that commits after finds the
     * enrollment made at the old price, which is the price at the moment of the purchase.
     */
    insertPurchaseOfLiveCourse: (row: EnrollmentRow) =>
      db
        .insertInto('enrollments')
        .columns(['id', 'user_id', 'course_id', 'source', 'price_paid', 'idempotency_key', 'created_at'])
        .expression(
          db
            .selectFrom('courses')
            .select((eb) => [
              eb.val(row.id).as('id'),
              eb.val(row.user_id).as('user_id'),
              'courses.id as course_id',
              eb.val(row.source).as('source'),
              'courses.price as price_paid',
              eb.val(row.idempotency_key).as('idempotency_key'),
              eb.val(row.created_at).as('created_at'),
            ])
            .where('courses.id', '=', row.course_id)
            .where('courses.deleted_at', 'is', null)
            .where('courses.price', '=', row.price_paid),
        ),
    enrollmentById: (id: string) => db.selectFrom('enrollments').selectAll().where('id', '=', id),
    enrollmentByUserCourse: (userId: string, courseId: string) =>
      db.selectFrom('enrollments').selectAll().where('user_id', '=', userId).where('course_id', '=', courseId),
    enrollmentByIdempotencyKey: (key: string) => db.selectFrom('enrollments').selectAll().where('idempotency_key', '=', key),
    /** Live courses of many users with the enrolled user's id, newest enrollment first: one statement. */
    enrolledCoursesByUserIds: (userIds: readonly string[]) =>
      db
        .selectFrom('enrollments')
        .innerJoin('courses', 'courses.id', 'enrollments.course_id')
        .selectAll('courses')
        .select('enrollments.user_id as enrolled_user_id')
        .where('enrollments.user_id', 'in', [...userIds])
        .where('courses.deleted_at', 'is', null)
        .orderBy('enrollments.created_at', 'desc')
        .orderBy('courses.id', 'desc'),
    followByUserCategory: (userId: string, categoryKey: string) =>
      db.selectFrom('category_follows').selectAll().where('user_id', '=', userId).where('category', '=', categoryKey),
    insertFollow: (userId: string, categoryKey: string, at: string) =>
      db.insertInto('category_follows').values({ user_id: userId, category: categoryKey, created_at: at }),
    followersOfCategory: (categoryKey: string) =>
      db.selectFrom('category_follows').select('user_id').where('category', '=', categoryKey),
    /** Which of `courseIds` the user is enrolled in (the course access check of other services). */
    enrolledCourseIdsOfUser: (userId: string, courseIds: readonly string[]) =>
      db.selectFrom('enrollments').select('course_id').where('user_id', '=', userId).where('course_id', 'in', [...courseIds]),
    studentIdsOfCourse: (courseId: string) =>
      db.selectFrom('enrollments').select('user_id').where('course_id', '=', courseId).orderBy('created_at').orderBy('user_id'),
  };
}
