import { type Logger } from '@dream/common';
import { getProtos, wrapUnary, type GrpcServiceBinding } from '@dream/common/grpc';
import { requireServiceCaller, type CourseAccessService } from '../course-access';

/** courses.v1.CourseAccessService: access questions of our other services (service-signed when SERVICE_TOKEN is set). */
export function courseAccessServiceBinding(deps: { access: CourseAccessService; serviceSecret?: string; logger: Logger }): GrpcServiceBinding {
  const { access, serviceSecret, logger } = deps;
  return {
    definition: getProtos().courseAccessService,
    implementation: {
      GetCourseAccess: wrapUnary<Parameters<CourseAccessService['access']>[0], Awaited<ReturnType<CourseAccessService['access']>>>(
        async (call) => {
          requireServiceCaller(call, serviceSecret);
          return access.access(call.request);
        },
        { logger },
      ),
      ListCourseStudents: wrapUnary<Parameters<CourseAccessService['students']>[0], Awaited<ReturnType<CourseAccessService['students']>>>(
        async (call) => {
          requireServiceCaller(call, serviceSecret);
          return access.students(call.request);
        },
        { logger },
      ),
    },
  };
}
