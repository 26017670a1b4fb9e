import type { Redis } from 'ioredis';
import type { Logger } from '@dream/common';

/** Redis pub/sub channels for course changes; the gateway maps subscriptions onto them. */
export type CourseEventChannel = 'course.created' | 'course.updated' | 'course.deleted';

export interface CourseEvent {
  courseId: string;
  ownerId: string;
  category: string;
}

/**
 * Where domain events go. Resolvers call `publish` only after the write has committed; publishing
 * never throws and never fails the write (a missed event costs a stale subscriber, not lost data).
 */
export interface CourseEvents {
  publish(channel: CourseEventChannel, event: CourseEvent): Promise<void>;
}

/** Publishes `{courseId, ownerId, category}` as JSON with Redis PUBLISH. */
export class RedisCourseEvents implements CourseEvents {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async publish(channel: CourseEventChannel, event: CourseEvent): Promise<void> {
    try {
      await this.redis.publish(channel, JSON.stringify(event));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, channel, courseId: event.courseId }, 'could not publish course event');
    }
  }
}

/** For embedding without Redis. */
export const noCourseEvents: CourseEvents = { publish: async () => undefined };

/** Redis channel of per-user notifications; the gateway delivers them to `myNotifications`. */
export const NOTIFICATION_CHANNEL = 'notification';

/** `{userId, kind, courseId, text}`: userId is the recipient. */
export interface NotificationEvent {
  userId: string;
  kind: string;
  courseId?: string;
  text: string;
  /** ISO-8601; when the event happened (the gateway stamps its own time when absent). */
  createdAt?: string;
}

/** Publishes notifications after the write committed; never throws (like CourseEvents). */
export interface Notifier {
  notify(event: NotificationEvent): Promise<void>;
}

export class RedisNotifier implements Notifier {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async notify(event: NotificationEvent): Promise<void> {
    try {
      await this.redis.publish(NOTIFICATION_CHANNEL, JSON.stringify(event));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, kind: event.kind, userId: event.userId }, 'could not publish notification');
    }
  }
}
