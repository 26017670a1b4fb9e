import type { Redis } from 'ioredis';
import type { Logger } from '@dream/common';
import { NOTIFICATION_CHANNEL, publishEvent, type NotificationMessage } from '@dream/common/events';
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

/** Media's notifications (on the shared `notification` channel the gateway delivers to `myNotifications`). */
export interface NotificationEvent extends NotificationMessage {
  kind: 'lesson.ready' | 'course.completed' | 'course.completed-by-student';
  courseId: string;
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
    return this.publish(() => this.redis.publish(LESSON_UPDATED_CHANNEL, JSON.stringify(event)), { channel: LESSON_UPDATED_CHANNEL, lessonId: event.id });
  }

  notify(event: NotificationEvent): Promise<void> {
    return this.publish(() => publishEvent(this.redis, NOTIFICATION_CHANNEL, event), { channel: NOTIFICATION_CHANNEL, kind: event.kind, userId: event.userId });
  }

  private async publish(send: () => Promise<unknown>, log: Record<string, string>): Promise<void> {
    try {
      await send();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, ...log }, 'could not publish media event');
    }
  }
}
