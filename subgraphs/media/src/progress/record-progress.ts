import { badInput, forbidden, requireUser } from '@dream/common';
import type { MediaContext } from '../context';
import { accessTo, isOwner, mayWatch } from '../lessons/access';
import type { Lesson } from '../lessons/lesson';
import type { ProgressState } from './rules';

/** LessonProgress as the schema shows it. */
export const progressView = (s: ProgressState) => ({
  positionSeconds: s.positionSeconds,
  watchedSeconds: s.watchedSeconds,
  completed: s.completed,
  completedAt: s.completedAt,
});

function checkSeconds(value: number, field: string): void {
  if (!Number.isFinite(value) || value < 0) throw badInput(`${field} must be a number of seconds ≥ 0.`, [{ field, message: 'Invalid seconds.' }]);
}

/**
 * recordLessonProgress: the owner or an enrolled student, on a READY lesson. When this report completes
 * the last lesson of the course, the course completion is recorded once and notified once.
 */
export async function recordProgress(ctx: MediaContext, lesson: Lesson | undefined, report: { positionSeconds: number; watchedSeconds: number }) {
  const user = requireUser(ctx.user);
  checkSeconds(report.positionSeconds, 'positionSeconds');
  checkSeconds(report.watchedSeconds, 'watchedSeconds');
  const access = lesson ? await accessTo(ctx, lesson.courseId) : undefined;
  // A student learns nothing about lessons they cannot see: unknown, hidden and not theirs answer alike.
  const visible = lesson && access && mayWatch(access, user) && (lesson.status === 'READY' || isOwner(access, user));
  if (!visible) throw forbidden('Only the owner and the students of this course can record progress on its READY lessons.');
  if (lesson.status !== 'READY' || lesson.durationSeconds === null) throw badInput('This lesson cannot be watched yet (it is not READY).');
  const applied = await ctx.progress.record(user.id, { id: lesson.id, courseId: lesson.courseId, durationSeconds: lesson.durationSeconds }, report);
  if (applied.newlyCompleted) await completeCourseIfDone(ctx, user, lesson, access.ownerId);
  return progressView(applied.state);
}

async function completeCourseIfDone(ctx: MediaContext, user: { id: string; username: string }, lesson: Lesson, ownerId: string): Promise<void> {
  const counts = (await ctx.progress.courseCounts(user.id, [lesson.courseId])).get(lesson.courseId);
  if (!counts || counts.ready === 0 || counts.completed < counts.ready) return;
  if (!(await ctx.progress.markCourseCompleted(user.id, lesson.courseId))) return;
  ctx.logger.info({ userId: user.id, courseId: lesson.courseId }, 'course completed');
  await ctx.events.notify({ userId: user.id, kind: 'course.completed', courseId: lesson.courseId, text: 'You completed every lesson of the course.' });
  if (ownerId !== user.id) {
    await ctx.events.notify({ userId: ownerId, kind: 'course.completed-by-student', courseId: lesson.courseId, text: `${user.username} completed your course.` });
  }
}
