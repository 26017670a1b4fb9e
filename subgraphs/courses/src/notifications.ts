import type { AuthUser, Logger } from '@dream/common';
import type { EnrollmentsRepository } from './data/enrollments-repository';
import { categoryKey, type Course } from './domain';
import type { Notifier } from './events';

/**
 * Notifications the courses subgraph sends after a write commits (the gateway delivers them to
 * `myNotifications`). Like every event here, they never fail or delay the write's answer with an error.
 */

/** A student joined `course` through the lobby: its owner hears about it. */
export async function notifyLobbyJoin(notifier: Notifier, course: Course, student: AuthUser): Promise<void> {
  if (course.ownerId === student.id) return;
  await notifier.notify({
    userId: course.ownerId,
    kind: 'course.joined',
    courseId: course.id,
    text: `${student.username} joined your course "${course.name}".`,
  });
}

/** A new course in a category: everyone who follows the category (through the lobby) hears about it. */
export async function notifyCategoryFollowers(
  notifier: Notifier,
  enrollments: EnrollmentsRepository,
  course: Course,
  logger: Logger,
): Promise<void> {
  let followers: string[];
  try {
    followers = await enrollments.followersOf(categoryKey(course.category));
  } catch (err) {
    logger.warn({ err: (err as Error).message, courseId: course.id }, 'could not load category followers; no notifications sent');
    return;
  }
  await Promise.all(
    followers
      .filter((userId) => userId !== course.ownerId)
      .map((userId) =>
        notifier.notify({
          userId,
          kind: 'course.new-in-category',
          courseId: course.id,
          text: `New course "${course.name}" in ${course.category}.`,
        }),
      ),
  );
}
