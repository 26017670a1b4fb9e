import { EventEmitter } from 'node:events';
import { createRedis, type Logger, type Redis } from '@dream/common';
import { EVENT_CHANNELS, isFixedChannel, parseDeclaredEvent, parseEvent, type DeclaredEvent, type EventChannel, type EventMap } from '@dream/common/events';

export { COURSE_CHANNELS, NOTIFICATION_CHANNEL, type CourseChannel, type CourseEvent, type EventMap, type NotificationEvent } from '@dream/common/events';
export type Channel = EventChannel;

/**
 * One Redis subscriber connection per gateway, fanned out in-process: every graphql-ws subscription
 * and WS course-list client of this gateway listens here, so N subscribers cost one Redis connection
 * and each gateway replica serves its own clients from the same Redis channels.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Listeners of channels named at run time (subgraph-declared event subscriptions), by channel. */
  private readonly declared = new EventEmitter();
  /** The SUBSCRIBE of each declared channel while it has listeners. */
  private readonly declaredSubscriptions = new Map<string, Promise<void>>();
  private readonly redis?: Redis;
  private readonly subscribed: Promise<void>;

  constructor(redisUrl: string | undefined, private readonly logger: Logger) {
    this.emitter.setMaxListeners(0);
    this.declared.setMaxListeners(0);
    if (!redisUrl) {
      logger.warn('REDIS_URL is not set: subscriptions and WS course lists get no live updates');
      this.subscribed = Promise.resolve();
      return;
    }
    // No command timeout: a subscriber connection sits idle by design. ioredis re-subscribes on reconnect.
    this.redis = createRedis(redisUrl, logger, { commandTimeout: undefined, maxRetriesPerRequest: null });
    this.redis.on('message', (channel: string, message: string) => {
      if (!isFixedChannel(channel)) {
        this.emitDeclared(channel, message);
        return;
      }
      const event = parseEvent(channel, message);
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

  /**
   * Listens to a channel a subgraph declared (`@eventSubscription`); its payloads arrive parsed with the
   * generic declared-event schema (anything else is dropped). The channel is subscribed with the first
   * listener and unsubscribed after the last. The fixed channels are refused: they have their own schema.
   */
  onChannel(channel: string, listener: (event: DeclaredEvent) => void): () => void {
    if (isFixedChannel(channel)) throw new Error(`${channel} is one of the gateway's own event channels, not a declared one`);
    this.declared.on(channel, listener);
    if (this.declared.listenerCount(channel) === 1 && this.redis) {
      this.declaredSubscriptions.set(
        channel,
        this.redis.subscribe(channel).then(
          () => undefined,
          (err: Error) => this.logger.warn({ err: err.message, channel }, 'could not subscribe to a declared event channel (ioredis retries on reconnect)'),
        ),
      );
    }
    return () => {
      this.declared.off(channel, listener);
      if (this.declared.listenerCount(channel) > 0 || !this.redis) return;
      this.declaredSubscriptions.delete(channel);
      this.redis.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Resolves once the SUBSCRIBE of a channel listened to with onChannel is acknowledged. */
  channelReady(channel: string): Promise<void> {
    return isFixedChannel(channel) ? this.subscribed : (this.declaredSubscriptions.get(channel) ?? Promise.resolve());
  }

  private emitDeclared(channel: string, message: string): void {
    if (this.declared.listenerCount(channel) === 0) return; // unsubscribed a moment ago
    const event = parseDeclaredEvent(message);
    if (!event) {
      this.logger.warn({ channel }, 'dropping a declared event that is not a JSON object with an id');
      return;
    }
    this.declared.emit(channel, event);
  }

  listenerCount(channel: Channel): number {
    return this.emitter.listenerCount(channel);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    this.declared.removeAllListeners();
    if (!this.redis) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
