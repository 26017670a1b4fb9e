import { createHash } from 'node:crypto';
import { badInput, forbidden, hasRole, unauthenticated, type AuthUser } from '@dream/common';
import { callMetadata } from '@dream/common/grpc';
import type { CoursesClient } from './grpc/courses-client';
import type { UsersRepository } from './data/users-repository';

const TOKEN_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export interface PurchaseResult {
  message: string;
  enrollmentId: string;
  alreadyOwned: boolean;
  /** A federated reference: the gateway resolves the course's fields from the courses subgraph. */
  course: { __typename: 'Course'; id: string };
}

/**
 * The key used when the client sends none: derived from (user, course), so a repeated or retried
 * purchase of the same course by the same student can never buy twice.
 */
export function defaultIdempotencyKey(userId: string, courseId: string): string {
  return `auto:${createHash('sha256').update(`${userId}\u0000${courseId}`).digest('base64url').slice(0, 43)}`;
}

/**
 * Mutation.buyCourse: the caller must be a STUDENT that exists here; the purchase itself is recorded by
 * courses (courses.v1.PurchaseService/BuyCourse over gRPC), which verifies the forwarded token again.
 * Marked idempotent, so a call that timed out is retried once on another courses instance.
 */
export async function buyCourse(
  deps: { repo: UsersRepository; courses: CoursesClient },
  user: AuthUser,
  token: string,
  args: { courseId: unknown; idempotencyKey?: unknown },
  requestId: string,
): Promise<PurchaseResult> {
  if (!hasRole(user, 'STUDENT')) throw forbidden('Only a user with the STUDENT role can buy courses.');
  const courseId = typeof args.courseId === 'string' ? args.courseId.trim() : '';
  if (!TOKEN_RE.test(courseId)) throw badInput('courseId is not a valid course id.', [{ field: 'courseId', message: 'Invalid course id.' }]);
  let key: string;
  if (args.idempotencyKey === undefined || args.idempotencyKey === null || args.idempotencyKey === '') {
    key = defaultIdempotencyKey(user.id, courseId);
  } else if (typeof args.idempotencyKey === 'string' && TOKEN_RE.test(args.idempotencyKey)) {
    key = args.idempotencyKey;
  } else {
    throw badInput('idempotencyKey must be 1-128 letters, digits, ".", "_", ":", "-".', [{ field: 'idempotencyKey', message: 'Invalid idempotency key.' }]);
  }
  // The token is valid, but the account must still exist (checked in the database, not the cache).
  if (!(await deps.repo.findById(user.id))) throw unauthenticated('The account of this token no longer exists.');

  // fromGrpcError already happened inside the client: refusals arrive as AppErrors (NOT_FOUND, FORBIDDEN, …).
  const res = await deps.courses.purchase.unary(
    'BuyCourse',
    { userId: user.id, courseId, idempotencyKey: key },
    { idempotent: true, metadata: callMetadata({ token, requestId, service: { name: 'users', secret: deps.courses.serviceSecret } }) },
  );
  return {
    message: res.message,
    enrollmentId: res.enrollmentId,
    alreadyOwned: res.alreadyOwned,
    course: { __typename: 'Course', id: courseId },
  };
}
