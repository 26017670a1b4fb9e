import type { Redis } from 'ioredis';
import type { Logger } from '@dream/common';
import type { LessonStatus } from '../data/types';

/**
 * Redis pub/sub channel of lesson changes. The gateway serves `lessonUpdated(courseId)` from it: each
 * message names the lesson, and the gateway asks `Query.lesson(id)` on the subscriber's behalf, so a
 * subscriber only ever sees what that query shows them.
 */
export const LESSON_UPDATED_CHANNEL = 'lesson.updated';

/** `{ id, courseId, status, progress? }`: progress is 0..100 while transcoding. */
export interface LessonUpdatedEvent {
  id: string;
  courseId: string;
  status: LessonStatus;
  progress?: number;
}

/** Redis channel of per-user notifications; the gateway delivers them to `myNotifications`. */
export const NOTIFICATION_CHANNEL = 'notification';

/** `{userId, kind, courseId, text, createdAt}`: userId is the recipient (same shape as the courses service's). */
export interface NotificationEvent {
  userId: string;
  kind: 'lesson.ready' | 'course.completed' | 'course.completed-by-student';
  courseId: string;
  text: string;
  createdAt?: string;
}

/**
 * Where lesson events and notifications go. Called after the change committed; publishing never throws
 * (a missed event costs a stale subscriber, not lost data).
 */
export interface MediaEvents {
  lessonUpdated(event: LessonUpdatedEvent): Promise<void>;
  notify(event: NotificationEvent): Promise<void>;
}

export class RedisMediaEvents implements MediaEvents {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  lessonUpdated(event: LessonUpdatedEvent): Promise<void> {
    return this.publish(LESSON_UPDATED_CHANNEL, event, { lessonId: event.id });
  }

  notify(event: NotificationEvent): Promise<void> {
    return this.publish(NOTIFICATION_CHANNEL, event, { kind: event.kind, userId: event.userId });
  }

  private async publish(channel: string, event: object, log: Record<string, string>): Promise<void> {
    try {
      await this.redis.publish(channel, JSON.stringify(event));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, channel, ...log }, 'could not publish media event');
    }
  }
}
