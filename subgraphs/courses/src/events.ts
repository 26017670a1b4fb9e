import { publishEvent, type CourseChannel, type CourseEvent, type NotificationMessage } from '@dream/common/events';
import type { Logger, Redis } from '@dream/common';

export type { CourseChannel, CourseEvent, NotificationMessage };

/**
 * Where domain events go. Resolvers call `publish` only after the write has committed; publishing
 * never throws and never fails the write (a missed event costs a stale subscriber, not lost data).
 */
export interface CourseEvents {
  publish(channel: CourseChannel, event: CourseEvent): Promise<void>;
}

/** Publishes `{courseId, ownerId, category}` on the course channels of the common event contract. */
export class RedisCourseEvents implements CourseEvents {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async publish(channel: CourseChannel, event: CourseEvent): Promise<void> {
    try {
      await publishEvent(this.redis, channel, event);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, channel, courseId: event.courseId }, 'could not publish course event');
    }
  }
}

/** Publishes notifications after the write committed; never throws (like CourseEvents). */
export interface Notifier {
  notify(event: NotificationMessage): Promise<void>;
}

export class RedisNotifier implements Notifier {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async notify(event: NotificationMessage): Promise<void> {
    try {
      await publishEvent(this.redis, 'notification', event);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, kind: event.kind, userId: event.userId }, 'could not publish notification');
    }
  }
}
