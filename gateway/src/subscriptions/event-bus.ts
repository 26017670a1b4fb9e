import { EventEmitter } from 'node:events';
import { createRedis, type Logger, type Redis } from '@dream/common';
import { EVENT_CHANNELS, parseEvent, type EventChannel, type EventMap } from '@dream/common/events';

export { COURSE_CHANNELS, NOTIFICATION_CHANNEL, type CourseChannel, type CourseEvent, type EventMap, type NotificationEvent } from '@dream/common/events';
export type Channel = EventChannel;

/**
 * One Redis subscriber connection per gateway, fanned out in-process: every graphql-ws subscription
 * and WS course-list client of this gateway listens here, so N subscribers cost one Redis connection
 * and each gateway replica serves its own clients from the same Redis channels.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly redis?: Redis;
  private readonly subscribed: Promise<void>;

  constructor(redisUrl: string | undefined, private readonly logger: Logger) {
    this.emitter.setMaxListeners(0);
    if (!redisUrl) {
      logger.warn('REDIS_URL is not set: subscriptions and WS course lists get no live updates');
      this.subscribed = Promise.resolve();
      return;
    }
    // No command timeout: a subscriber connection sits idle by design. ioredis re-subscribes on reconnect.
    this.redis = createRedis(redisUrl, logger, { commandTimeout: undefined, maxRetriesPerRequest: null });
    this.redis.on('message', (channel: string, message: string) => {
      const event = parseEvent(channel as Channel, message);
      if (!event) {
        logger.warn({ channel }, 'dropping a malformed domain event');
        return;
      }
      this.emitter.emit(channel, event);
    });
    this.subscribed = this.redis.subscribe(...EVENT_CHANNELS).then(
      () => undefined,
      (err: Error) => logger.warn({ err: err.message }, 'could not subscribe to domain events (ioredis retries on reconnect)'),
    );
  }

  /** Resolves once the Redis SUBSCRIBE is acknowledged (tests wait for it before publishing). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  on<C extends Channel>(channel: C, listener: (event: EventMap[C]) => void): () => void {
    const l = listener as (e: unknown) => void;
    this.emitter.on(channel, l);
    return () => this.emitter.off(channel, l);
  }

  listenerCount(channel: Channel): number {
    return this.emitter.listenerCount(channel);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    if (!this.redis) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
