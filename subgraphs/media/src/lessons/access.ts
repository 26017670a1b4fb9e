import type DataLoader from 'dataloader';
import { forbidden, notFound, requireUser, type AuthUser, type Logger } from '@dream/common';
import type { CourseAccess } from '../grpc/course-access';
import type { Lesson } from './lesson';

/** What a request needs to decide who may see and change lessons. */
export interface AccessContext {
  user?: AuthUser;
  courseAccess: DataLoader<string, CourseAccess>;
  logger: Logger;
}

/**
 * Courses' answer about one course. When it cannot be had (courses down, timeouts, a refused call) the
 * answer is FORBIDDEN: nothing is shown or changed on a guess.
 */
export async function accessTo(ctx: AccessContext, courseId: string): Promise<CourseAccess> {
  try {
    return await ctx.courseAccess.load(courseId);
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message, courseId }, 'course access check failed; refusing');
    throw forbidden('Access to this course could not be checked right now; try again shortly.');
  }
}

/** The signed-in owner of the live course; 401 without a token, 404 for an unknown course, 403 for anyone else. */
export async function requireOwner(ctx: AccessContext, courseId: string): Promise<AuthUser> {
  const user = requireUser(ctx.user);
  const access = await accessTo(ctx, courseId);
  if (!access.exists) throw notFound(`Course ${courseId} not found.`);
  if (access.ownerId !== user.id) throw forbidden('Only the owner of this course can change its lessons.');
  return user;
}

export const isOwner = (access: CourseAccess, user: AuthUser | undefined): boolean => !!user && access.exists && access.ownerId === user.id;

/** The owner sees every lesson of the course; anybody else only READY lessons of a live course. */
export const canSee = (lesson: Lesson, access: CourseAccess, user: AuthUser | undefined): boolean =>
  isOwner(access, user) || (access.exists && lesson.status === 'READY');

/** Playback and progress: the owner and enrolled students. */
export const mayWatch = (access: CourseAccess, user: AuthUser | undefined): boolean => isOwner(access, user) || (!!user && access.exists && access.enrolled);

/** The lesson when the caller may see it; null otherwise (hidden the same way as an unknown id). */
export async function visibleLesson(ctx: AccessContext, lesson: Lesson | undefined): Promise<Lesson | null> {
  if (!lesson) return null;
  return canSee(lesson, await accessTo(ctx, lesson.courseId), ctx.user) ? lesson : null;
}
