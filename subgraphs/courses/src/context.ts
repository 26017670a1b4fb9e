import type { AuthUser, Logger } from '@dream/common';
import type { CoursesRepository } from './data/courses-repository';
import type { EnrollmentsRepository } from './data/enrollments-repository';
import type { CourseEvents } from './events';
import type { Loaders } from './loaders';

/** Per-request GraphQL context. */
export interface CoursesContext {
  /** The verified caller; undefined when no token was sent. */
  user?: AuthUser;
  courses: CoursesRepository;
  enrollments: EnrollmentsRepository;
  loaders: Loaders;
  events: CourseEvents;
  logger: Logger;
}
