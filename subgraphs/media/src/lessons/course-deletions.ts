import type { Redis } from 'ioredis';
import type { Logger } from '@dream/common';
import { parseEvent, type CourseChannel } from '@dream/common/events';
import type { LessonsRepository } from '../data/lessons-repository';
import type { LessonLifecycle } from './lifecycle';

/** The courses service's Redis channel for a deleted course (the shared events contract). */
const COURSE_DELETED_CHANNEL = 'course.deleted' satisfies CourseChannel;

/**
 * Removes the lessons and files of courses the courses service deleted. Every replica hears the event and
 * tries; deleting is idempotent, so the first one does the work and the others find nothing left.
 */
export class CourseDeletions {
  private subscriber?: Redis;

  constructor(private readonly deps: { redis: Redis; lessons: LessonsRepository; lifecycle: LessonLifecycle; logger: Logger }) {}

  async start(): Promise<void> {
    // A subscribed connection can issue no other command: a connection of its own.
    const sub = this.deps.redis.duplicate();
    this.subscriber = sub;
    sub.on('message', (channel: string, text: string) => {
      if (channel === COURSE_DELETED_CHANNEL) void this.onMessage(text);
    });
    sub.on('error', (err: Error) => this.deps.logger.warn({ err: err.message }, 'course deletion subscriber'));
    await sub.subscribe(COURSE_DELETED_CHANNEL);
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
  }

  private async onMessage(text: string): Promise<void> {
    const courseId = parseEvent(COURSE_DELETED_CHANNEL, text)?.courseId;
    if (!courseId) return;
    try {
      await this.removeCourse(courseId);
    } catch (err) {
      this.deps.logger.error({ err, courseId }, 'could not remove the lessons of a deleted course');
    }
  }

  /** Deletes every lesson of the course with its assets' files. */
  async removeCourse(courseId: string): Promise<number> {
    const lessons = (await this.deps.lessons.ofCourses([courseId], false)).get(courseId) ?? [];
    for (const lesson of lessons) {
      const deleted = await this.deps.lessons.delete(lesson.id);
      await Promise.all((deleted?.assetIds ?? []).map((assetId) => this.deps.lifecycle.removeFiles(assetId)));
    }
    if (lessons.length) this.deps.logger.info({ courseId, lessons: lessons.length }, 'removed the lessons of a deleted course');
    return lessons.length;
  }
}
