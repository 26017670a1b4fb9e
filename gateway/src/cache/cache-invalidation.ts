import { Counter, type Registry } from 'prom-client';
import { createRedis, type Logger, type Redis } from '@dream/common';
import { COURSE_CHANNELS, NOTIFICATION_CHANNEL, parseEvent, type EventChannel, type EventMap } from '@dream/common/events';
import type { GatewayConfig } from '../config';
import { CacheStore } from './cache-store';
import { EntityCache } from './entity-cache';

/** The cache tags a domain event touches (entities are tagged `<Type>:<key>`, root lists `list:<Type>`). */
export function tagsOfEvent<C extends EventChannel>(channel: C, event: EventMap[C]): string[] {
  if (channel === NOTIFICATION_CHANNEL) return [`User:${(event as EventMap['notification']).userId}`];
  const e = event as EventMap['course.updated'];
  // the course, its owner's course list (User.ownedCourses), and every root list of courses
  return [`Course:${e.courseId}`, `User:${e.ownerId}`, 'list:Course'];
}

const CHANNELS: EventChannel[] = [...COURSE_CHANNELS, NOTIFICATION_CHANNEL];

export interface RunningEntityCache {
  cache: EntityCache;
  /** Resolves once the invalidation channels are subscribed (tests publish after it). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The gateway's entity cache with its own two Redis connections: commands, and a subscriber to the
 * course and user events that invalidate it (every gateway hears every event). The local layer is
 * emptied whenever either connection drops: events may be missed while it is down.
 */
export function startEntityCache(config: GatewayConfig, logger: Logger, registry?: Registry): RunningEntityCache {
  const outcomes = new Counter({
    name: 'gateway_entity_cache_total',
    help: 'Cacheable subgraph values by outcome: hit, miss (sent upstream), stale (answered expired for a subgraph that could not)',
    labelNames: ['subgraph', 'outcome'],
    registers: registry ? [registry] : [],
  });
  const url = config.REDIS_URL!;
  const redis = createRedis(url, logger);
  const sub: Redis = createRedis(url, logger, { commandTimeout: undefined, maxRetriesPerRequest: null });
  let subscribedOnce = false;
  const store = new CacheStore({
    redis,
    subscribed: () => subscribedOnce && sub.status === 'ready',
    localMaxEntries: config.ENTITY_CACHE_LOCAL_MAX_ENTRIES,
    logger,
  });
  const cache = new EntityCache(
    store,
    {
      privatePerUser: config.ENTITY_CACHE_PRIVATE,
      staleMs: config.ENTITY_CACHE_STALE_SECONDS * 1000,
      maxAgeCapMs: config.ENTITY_CACHE_MAX_AGE_SECONDS * 1000,
      writeBypassMs: config.ENTITY_CACHE_WRITE_BYPASS_MS,
    },
    logger,
    (subgraph, outcome, n) => outcomes.inc({ subgraph, outcome }, n),
  );
  for (const conn of [redis, sub]) {
    conn.on('close', () => store.connectionLost());
    conn.on('ready', () => store.clearLocal());
  }
  sub.on('message', (channel: string, message: string) => {
    if (!(CHANNELS as string[]).includes(channel)) return;
    const event = parseEvent(channel as EventChannel, message);
    if (!event) return;
    void store.invalidate(tagsOfEvent(channel as EventChannel, event));
  });
  // ioredis subscribes again after a reconnect, but only to what a first SUBSCRIBE reached
  sub.on('ready', () => {
    if (!subscribedOnce) sub.subscribe(...CHANNELS).then(() => void (subscribedOnce = true), () => undefined);
  });
  const subscribed = sub.subscribe(...CHANNELS).then(
    () => void (subscribedOnce = true),
    (err: Error) => logger.warn({ err: err.message }, 'entity cache: could not subscribe to invalidation events (ioredis retries on reconnect)'),
  );
  return {
    cache,
    ready: () => subscribed,
    stop: async () => {
      for (const conn of [sub, redis]) {
        try {
          await conn.quit();
        } catch {
          conn.disconnect();
        }
      }
    },
  };
}
