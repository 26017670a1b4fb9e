import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { conflict, notFound } from '@dream/common';
import { isUniqueViolation, mapDbError, type SqlDialect } from '@dream/common/db';
import { toCourse, type Course } from '../domain';
import { nowIso } from './clock';
import { courseQueries, enrollmentQueries } from './queries';
import type { CoursesDb, EnrollmentRow } from './types';

export interface LobbyJoin {
  course: Course;
  enrollment: EnrollmentRow;
}

export interface Purchase {
  enrollment: EnrollmentRow;
  alreadyOwned: boolean;
}

/**
 * The stored form of a client's idempotency key: scoped to the buyer (a hash of user and key, 45
 * characters), so two students who happen to pick the same key ("1", a date) never collide — without
 * the scope the second was refused with CONFLICT and learned that someone else had used that key.
 */
export function scopedIdempotencyKey(userId: string, key: string): string {
  return `u:${createHash('sha256').update(`${userId}\u0000${key}`).digest('base64url')}`;
}

/** Enrollments (purchases and lobby joins) and category follows. */
export class EnrollmentsRepository {
  constructor(
    private readonly db: Kysely<CoursesDb>,
    private readonly dialect: SqlDialect,
  ) {}

  /** Live enrolled courses of each user, newest enrollment first; one statement. */
  async coursesByUserIds(userIds: readonly string[]): Promise<Map<string, Course[]>> {
    const byUser = new Map<string, Course[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return byUser;
    try {
      const rows = await enrollmentQueries(this.db).enrolledCoursesByUserIds(userIds).execute();
      for (const { enrolled_user_id, ...course } of rows) byUser.get(enrolled_user_id)?.push(toCourse(course));
      return byUser;
    } catch (e) {
      mapDbError(e);
    }
  }

  /**
   * Enrolls the student in the newest live course of the category they neither own nor attend, and
   * follows the category, in one transaction. undefined when there is no such course. Two joins racing
   * for the same course: the loser hits the (user_id, course_id) unique constraint and tries again,
   * so it gets the next course instead.
   */
  async joinLobby(userId: string, categoryKey: string): Promise<LobbyJoin | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const candidate = await courseQueries(trx, this.dialect).lobbyCandidate(userId, categoryKey).executeTakeFirst();
          if (!candidate) return undefined;
          const at = nowIso();
          const enrollment: EnrollmentRow = {
            id: randomUUID(),
            user_id: userId,
            course_id: candidate.id,
            source: 'lobby',
            price_paid: 0,
            idempotency_key: null,
            created_at: at,
          };
          const q = enrollmentQueries(trx);
          await q.insertEnrollment(enrollment).execute();
          const follow = await q.followByUserCategory(userId, categoryKey).executeTakeFirst();
          if (!follow) await q.insertFollow(userId, categoryKey, at).execute();
          return { course: toCourse(candidate), enrollment };
        });
      } catch (e) {
        if (isUniqueViolation(e) && attempt < 3) continue;
        mapDbError(e);
      }
    }
  }

  /**
   * A purchase (the seam for gRPC PurchaseService.BuyCourse): idempotent per idempotency key and per
   * (user, course). A repeat returns the existing enrollment with alreadyOwned = true.
   */
  async purchase(
    input: { userId: string; courseId: string; idempotencyKey?: string },
    /**
     * What the caller has just read itself, to save the repeated statements: `price` (the course exists)
     * and `notOwned` (no enrollment of this user in this course was found). The insert's unique
     * constraints still decide a race, so exactly-once holds either way.
     */
    known: { price?: number; notOwned?: boolean } = {},
  ): Promise<Purchase> {
    const q = enrollmentQueries(this.db);
    const storedKey = input.idempotencyKey ? scopedIdempotencyKey(input.userId, input.idempotencyKey) : undefined;
    const existing = async () =>
      (storedKey ? await q.enrollmentByIdempotencyKey(storedKey).executeTakeFirst() : undefined) ??
      (await q.enrollmentByUserCourse(input.userId, input.courseId).executeTakeFirst());
    try {
      if (!known.notOwned || input.idempotencyKey) {
        const prior = await existing();
        if (prior) return { enrollment: prior, alreadyOwned: true };
      }
      // Decided by one statement: the insert happens only if the course is live and costs what we
      // record. Nothing inserted means it was deleted or repriced since it was read: read it again.
      let price = known.price;
      for (let attempt = 0; attempt < 3; attempt++) {
        if (price === undefined) {
          const course = await courseQueries(this.db, this.dialect).courseById(input.courseId).executeTakeFirst();
          if (!course) throw notFound(`Course ${input.courseId} not found.`);
          price = Number(course.price);
        }
        const enrollment: EnrollmentRow = {
          id: randomUUID(),
          user_id: input.userId,
          course_id: input.courseId,
          source: 'purchase',
          price_paid: price,
          idempotency_key: storedKey ?? null,
          created_at: nowIso(),
        };
        try {
          const res = await q.insertPurchaseOfLiveCourse(enrollment).executeTakeFirst();
          const inserted =
            res.numInsertedOrUpdatedRows !== undefined
              ? Number(res.numInsertedOrUpdatedRows) > 0
              : !!(await q.enrollmentById(enrollment.id).executeTakeFirst());
          if (inserted) return { enrollment, alreadyOwned: false };
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          const raced = await existing();
          if (raced) return { enrollment: raced, alreadyOwned: true };
          throw e;
        }
        price = undefined;
      }
      throw conflict('The course changed while it was being bought; try again.');
    } catch (e) {
      mapDbError(e);
    }
  }

  /** The user's enrollment in a course (bought or joined), if any; deleted courses included. */
  async findEnrollment(userId: string, courseId: string): Promise<EnrollmentRow | undefined> {
    try {
      return await enrollmentQueries(this.db).enrollmentByUserCourse(userId, courseId).executeTakeFirst();
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Users following a category (for notifications). */
  async followersOf(categoryKey: string): Promise<string[]> {
    try {
      return (await enrollmentQueries(this.db).followersOfCategory(categoryKey).execute()).map((r) => r.user_id);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** The subset of `courseIds` the user is enrolled in (deleted courses included; callers check liveness). */
  async enrolledCourseIds(userId: string, courseIds: readonly string[]): Promise<Set<string>> {
    if (courseIds.length === 0) return new Set();
    try {
      const rows = await enrollmentQueries(this.db).enrolledCourseIdsOfUser(userId, courseIds).execute();
      return new Set(rows.map((r) => r.course_id));
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Ids of the users enrolled in a course, oldest enrollment first. */
  async studentIdsOf(courseId: string): Promise<string[]> {
    try {
      return (await enrollmentQueries(this.db).studentIdsOfCourse(courseId).execute()).map((r) => r.user_id);
    } catch (e) {
      mapDbError(e);
    }
  }
}
