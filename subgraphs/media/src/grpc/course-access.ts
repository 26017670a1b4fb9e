import DataLoader from 'dataloader';
import { type Logger } from '@dream/common';
import { callMetadata, createCourseAccessServiceClient, grpcInstancesOf, type CourseAccess, type CourseAccessServiceHandlers, type GrpcServiceClient } from '@dream/common/grpc';

/** What courses.v1.CourseAccessService answers for one (user, course). */
export type { CourseAccess } from '@dream/common/grpc';

/** Access questions to the courses service; implemented over gRPC, and by tests only through the real service. */
export interface CourseAccessSource {
  /** Existence, owner and the user's enrollment of each course (one call for all). */
  access(userId: string | undefined, courseIds: readonly string[], requestId?: string): Promise<Map<string, CourseAccess>>;
  /** Ids of the users enrolled in the course. */
  students(courseId: string, requestId?: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface CourseAccessClientOptions {
  discoveryUrl?: string;
  discoveryToken?: string;
  /** COURSES_GRPC_URL: used only without discovery. */
  staticAddresses?: string;
  serviceSecret?: string;
  deadlineMs: number;
  logger: Logger;
}

/** Courses' CourseAccessService on whichever instances discovery knows (retried once elsewhere: both are reads). */
export function createCourseAccessClient(opts: CourseAccessClientOptions): CourseAccessSource {
  const found = grpcInstancesOf({ service: 'courses', ...opts });
  if (found.source === 'none') opts.logger.warn('neither DISCOVERY_URL nor COURSES_GRPC_URL is set: every access check is refused');
  const client: GrpcServiceClient<CourseAccessServiceHandlers> = createCourseAccessServiceClient({
    instances: found.instances,
    deadlineMs: opts.deadlineMs,
    logger: opts.logger,
  });
  const metadata = (requestId?: string) => callMetadata({ requestId, service: { name: 'media', secret: opts.serviceSecret } });
  return {
    async access(userId, courseIds, requestId) {
      const res = await client.unary('GetCourseAccess', { userId: userId ?? '', courseIds: [...courseIds] }, { idempotent: true, metadata: metadata(requestId) });
      return new Map(res.courses.map((c) => [c.courseId, c]));
    },
    async students(courseId, requestId) {
      const res = await client.unary('ListCourseStudents', { courseId }, { idempotent: true, metadata: metadata(requestId) });
      return res.userIds;
    },
    close: async () => {
      client.close();
      await found.stop();
    },
  };
}

/** Courses' answer per request: one gRPC call for every course a query touches (the server caps a call at 100). */
export function courseAccessLoader(source: CourseAccessSource, userId: string | undefined, requestId?: string): DataLoader<string, CourseAccess> {
  return new DataLoader<string, CourseAccess>(
    async (ids) => {
      const answers = await source.access(userId, ids, requestId);
      return ids.map((id) => answers.get(id) ?? { courseId: id, exists: false, ownerId: '', enrolled: false });
    },
    { maxBatchSize: 100 },
  );
}
