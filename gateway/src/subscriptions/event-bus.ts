import { EventEmitter } from 'node:events';
import { createRedis, type Logger, type Redis } from '@dream/common';

/** Redis pub/sub channels the subgraphs publish to after a write commits (see DESIGN.md). */
export const COURSE_CHANNELS = ['course.created', 'course.updated', 'course.deleted'] as const;
export type CourseChannel = (typeof COURSE_CHANNELS)[number];
export const NOTIFICATION_CHANNEL = 'notification';
export type Channel = CourseChannel | typeof NOTIFICATION_CHANNEL;
const FIXED_CHANNELS = new Set<string>([...COURSE_CHANNELS, NOTIFICATION_CHANNEL]);

export interface CourseEvent {
  courseId: string;
  ownerId: string;
  category: string;
}

export interface NotificationEvent {
  userId: string;
  kind: string;
  courseId?: string | null;
  text: string;
  createdAt?: string;
}

export interface EventMap {
  'course.created': CourseEvent;
  'course.updated': CourseEvent;
  'course.deleted': CourseEvent;
  notification: NotificationEvent;
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Events come from other processes: anything that does not have the contract's shape is dropped. */
function parse(channel: Channel, raw: string): EventMap[Channel] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (channel === NOTIFICATION_CHANNEL) {
    if (!str(o.userId) || !str(o.kind) || typeof o.text !== 'string') return undefined;
    return {
      userId: o.userId,
      kind: o.kind,
      text: o.text,
      courseId: str(o.courseId) ? o.courseId : null,
      createdAt: str(o.createdAt) ? o.createdAt : undefined,
    };
  }
  if (!str(o.courseId) || !str(o.ownerId) || typeof o.category !== 'string') return undefined;
  return { courseId: o.courseId, ownerId: o.ownerId, category: o.category };
}

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
      if (this.declared.listenerCount(channel) > 0) this.emitDeclared(channel, message);
      if (!FIXED_CHANNELS.has(channel)) return;
      const event = parse(channel as Channel, message);
      if (!event) {
        logger.warn({ channel }, 'dropping a malformed domain event');
        return;
      }
      this.emitter.emit(channel, event);
    });
    this.subscribed = this.redis.subscribe(...COURSE_CHANNELS, NOTIFICATION_CHANNEL).then(
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
   * Listens to a channel named at run time; its payloads arrive as parsed JSON objects (anything
   * else is dropped). The channel is subscribed with the first listener and unsubscribed after the last.
   */
  onChannel(channel: string, listener: (payload: Record<string, unknown>) => void): () => void {
    this.declared.on(channel, listener);
    if (this.declared.listenerCount(channel) === 1 && this.redis && !FIXED_CHANNELS.has(channel)) {
      const redis = this.redis;
      this.declaredSubscriptions.set(
        channel,
        redis.subscribe(channel).then(
          () => undefined,
          (err: Error) => this.logger.warn({ err: err.message, channel }, 'could not subscribe to a declared event channel (ioredis retries on reconnect)'),
        ),
      );
    }
    return () => {
      this.declared.off(channel, listener);
      if (this.declared.listenerCount(channel) > 0 || !this.redis || FIXED_CHANNELS.has(channel)) return;
      this.declaredSubscriptions.delete(channel);
      this.redis.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Resolves once the SUBSCRIBE of a channel listened to with onChannel is acknowledged. */
  channelReady(channel: string): Promise<void> {
    return FIXED_CHANNELS.has(channel) ? this.subscribed : (this.declaredSubscriptions.get(channel) ?? Promise.resolve());
  }

  private emitDeclared(channel: string, message: string): void {
    let v: unknown;
    try {
      v = JSON.parse(message);
    } catch {
      v = undefined;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      this.logger.warn({ channel }, 'dropping a declared event that is not a JSON object');
      return;
    }
    this.declared.emit(channel, v);
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
