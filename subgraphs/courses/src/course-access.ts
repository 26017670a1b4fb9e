import { badInput, verifyServiceAuth, SERVICE_AUTH_KEY } from '@dream/common';
import { type CourseAccess, type GetCourseAccessRequest, type GetCourseAccessResponse, type ListCourseStudentsRequest, type ListCourseStudentsResponse } from '@dream/common/grpc';
import type { CoursesRepository } from './data/courses-repository';
import type { EnrollmentsRepository } from './data/enrollments-repository';

/** Same shape rule as purchases: ids are opaque but bounded and printable. */
const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** Far below Oracle's 1000-item IN limit; a page of lessons never spans more courses than this. */
export const MAX_ACCESS_IDS = 100;

function checkId(id: string, field: string): void {
  if (!ID_RE.test(id)) throw badInput(`${field} must be 1-128 letters, digits, ".", "_", ":", "-".`, [{ field, message: 'Invalid id.' }]);
}

/**
 * The service signature of a courses.v1.CourseAccessService call. With SERVICE_TOKEN set every call must
 * be signed by one of our services (UNAUTHENTICATED otherwise); without it (development) calls are open,
 * as for every other gRPC method, and checkSecrets has warned at start.
 */
export function requireServiceCaller(call: { metadata: { get(key: string): unknown[] } }, serviceSecret: string | undefined): void {
  if (!serviceSecret) return;
  const sent = call.metadata.get(SERVICE_AUTH_KEY)[0];
  verifyServiceAuth(typeof sent === 'string' ? sent : undefined, serviceSecret);
}

/** Answers other services' questions about a course's owner and students (courses.v1.CourseAccessService). */
export class CourseAccessService {
  constructor(private readonly deps: { courses: CoursesRepository; enrollments: EnrollmentsRepository }) {}

  async access(req: GetCourseAccessRequest): Promise<GetCourseAccessResponse> {
    const ids = [...new Set(req.courseIds)];
    if (ids.length === 0 || ids.length > MAX_ACCESS_IDS) {
      throw badInput(`course_ids must hold 1..${MAX_ACCESS_IDS} ids.`, [{ field: 'courseIds', message: 'Wrong number of ids.' }]);
    }
    ids.forEach((id) => checkId(id, 'courseIds'));
    if (req.userId) checkId(req.userId, 'userId');
    const [live, enrolled] = await Promise.all([
      this.deps.courses.findByIds(ids),
      req.userId ? this.deps.enrollments.enrolledCourseIds(req.userId, ids) : Promise.resolve(new Set<string>()),
    ]);
    const owners = new Map(live.map((c) => [c.id, c.ownerId]));
    const courses: CourseAccess[] = ids.map((courseId) => {
      const ownerId = owners.get(courseId);
      return { courseId, exists: ownerId !== undefined, ownerId: ownerId ?? '', enrolled: ownerId !== undefined && enrolled.has(courseId) };
    });
    return { courses };
  }

  async students(req: ListCourseStudentsRequest): Promise<ListCourseStudentsResponse> {
    checkId(req.courseId, 'courseId');
    const course = await this.deps.courses.findById(req.courseId);
    if (!course) return { userIds: [] };
    return { userIds: await this.deps.enrollments.studentIdsOf(course.id) };
  }
}
