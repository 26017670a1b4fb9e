import { badInput, conflict, forbidden, hasRole, notFound, type AuthUser, type Logger } from '@dream/common';
import { type BuyCourseRequest, type BuyCourseResponse } from '@dream/common/grpc';
import type { CoursesRepository } from './data/courses-repository';
import type { EnrollmentsRepository } from './data/enrollments-repository';
import type { Notifier } from './events';

/** The spec's answer to a purchase, first or repeated. */
export const PURCHASE_MESSAGE = 'Student bought course using gRPC.';

/** Ids and idempotency keys are opaque, but bounded and printable so they are safe to store and log. */
const TOKEN_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export interface PurchaseDeps {
  courses: CoursesRepository;
  enrollments: EnrollmentsRepository;
  notifier: Notifier;
  logger: Logger;
}

/**
 * courses.v1.PurchaseService/BuyCourse behind the gRPC adapter. The buyer is the verified user of the
 * call's token; the body's user_id may only repeat it. Exactly-once comes from the database (unique
 * user+course, unique idempotency key): a repeat, concurrent or later, answers with the same enrollment
 * and alreadyOwned = true.
 */
export class PurchaseService {
  constructor(private readonly deps: PurchaseDeps) {}

  async buy(user: AuthUser, req: BuyCourseRequest, requestId: string): Promise<BuyCourseResponse> {
    if (req.userId && req.userId !== user.id) throw forbidden('user_id must be the user of the token (or left empty).');
    if (!hasRole(user, 'STUDENT')) throw forbidden('Only a user with the STUDENT role can buy courses.');
    if (!TOKEN_RE.test(req.courseId)) throw badInput('course_id is required (up to 128 letters, digits, ".", "_", ":", "-").', [{ field: 'courseId', message: 'Invalid course id.' }]);
    if (req.idempotencyKey && !TOKEN_RE.test(req.idempotencyKey)) {
      throw badInput('idempotency_key must be 1-128 letters, digits, ".", "_", ":", "-".', [{ field: 'idempotencyKey', message: 'Invalid idempotency key.' }]);
    }
    const log = this.deps.logger.child({ requestId, userId: user.id, courseId: req.courseId });

    // A repeat without an idempotency key (half the calls under the benchmark, and every client retry)
    // is answered by one indexed read of (user, course): the same answer the full path below gives, since
    // an enrollment in a course is never its owner's.
    if (!req.idempotencyKey) {
      const prior = await this.deps.enrollments.findEnrollment(user.id, req.courseId);
      if (prior) {
        log.info({ enrollmentId: prior.id }, 'repeat purchase: already owned');
        return { message: PURCHASE_MESSAGE, enrollmentId: prior.id, alreadyOwned: true };
      }
    }

    // Read from the database, not the cache: the owner and price must be current.
    const course = await this.deps.courses.findById(req.courseId);
    if (!course) {
      // A retry of a purchase that succeeded before the course was deleted still answers success.
      const prior = await this.deps.enrollments.findEnrollment(user.id, req.courseId);
      if (prior) return { message: PURCHASE_MESSAGE, enrollmentId: prior.id, alreadyOwned: true };
      throw notFound(`Course ${req.courseId} not found.`);
    }
    if (course.ownerId === user.id) throw forbidden('You cannot buy your own course.');

    const { enrollment, alreadyOwned } = await this.deps.enrollments.purchase(
      { userId: user.id, courseId: course.id, idempotencyKey: req.idempotencyKey || undefined },
      // the course was just read, and without a key the (user, course) enrollment was just looked up
      { price: Number(course.price), notOwned: !req.idempotencyKey },
    );
    // A key already used for another purchase must not answer for this one.
    if (enrollment.user_id !== user.id || enrollment.course_id !== course.id) {
      throw conflict('This idempotency key was already used for a different purchase.');
    }
    if (alreadyOwned) {
      log.info({ enrollmentId: enrollment.id }, 'repeat purchase: already owned');
    } else {
      log.info({ enrollmentId: enrollment.id, pricePaid: enrollment.price_paid }, 'course bought');
      // After the commit; never fails nor delays the purchase's answer (a Redis round trip per call).
      this.deps.notifier
        .notify({
          userId: course.ownerId,
          kind: 'course.bought',
          courseId: course.id,
          text: `${user.username} bought your course "${course.name}".`,
          createdAt: enrollment.created_at,
        })
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not publish the purchase notification'));
    }
    return { message: PURCHASE_MESSAGE, enrollmentId: enrollment.id, alreadyOwned };
  }
}
