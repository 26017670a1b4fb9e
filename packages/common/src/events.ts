import type { Redis } from 'ioredis';
import { z } from 'zod';

// The SDL side of declared event subscriptions (directive, parser, argument filter) belongs to this contract too.
export * from './event-subscriptions';

/**
 * The Redis pub/sub contract between the subgraphs (publishers, after a write commits) and the
 * gateway (one subscriber per replica, fanning out to subscriptions and WS course lists). Written
 * once here so the two sides cannot drift: channel names, and a zod schema per event; channels
 * subgraphs declare with `@eventSubscription` share one generic schema (declaredEventSchema).
 */
export const COURSE_CHANNELS = ['course.created', 'course.updated', 'course.deleted'] as const;
export type CourseChannel = (typeof COURSE_CHANNELS)[number];
/** Per-user notifications; `userId` is the recipient. */
export const NOTIFICATION_CHANNEL = 'notification';
export type EventChannel = CourseChannel | typeof NOTIFICATION_CHANNEL;
export const EVENT_CHANNELS: readonly EventChannel[] = [...COURSE_CHANNELS, NOTIFICATION_CHANNEL];

const id = z.string().min(1);
/** Optional text: anything but a non-empty string reads as absent rather than dropping the whole event. */
const optionalText = z.unknown().optional().transform((v) => (typeof v === 'string' && v.length > 0 ? v : undefined));

export const courseEventSchema = z.object({ courseId: id, ownerId: id, category: z.string() });

export const notificationEventSchema = z.object({
  userId: id,
  kind: id,
  text: z.string(),
  courseId: optionalText.transform((v) => v ?? null),
  /** ISO-8601; when the event happened (the gateway stamps its own time when absent). */
  createdAt: optionalText,
});

export const EVENT_SCHEMAS = {
  'course.created': courseEventSchema,
  'course.updated': courseEventSchema,
  'course.deleted': courseEventSchema,
  notification: notificationEventSchema,
} as const;

export type CourseEvent = z.output<typeof courseEventSchema>;
/** A notification as the gateway reads it (courseId null when none). */
export type NotificationEvent = z.output<typeof notificationEventSchema>;
/** A notification as a publisher writes it. */
export interface NotificationMessage {
  userId: string;
  kind: string;
  text: string;
  courseId?: string;
  createdAt?: string;
}

/** What a subscriber gets on each channel. */
export type EventMap = { [C in EventChannel]: z.output<(typeof EVENT_SCHEMAS)[C]> };
/** What a publisher sends on each channel. */
export type EventMessageMap = { [C in CourseChannel]: CourseEvent } & { [NOTIFICATION_CHANNEL]: NotificationMessage };

/** Publishes one event as JSON. Rejects when Redis does; the caller decides whether that fails its write. */
export async function publishEvent<C extends EventChannel>(redis: Pick<Redis, 'publish'>, channel: C, event: EventMessageMap[C]): Promise<void> {
  await redis.publish(channel, JSON.stringify(event));
}

/** Events come from other processes: anything without the contract's shape is undefined (dropped). */
export function parseEvent<C extends EventChannel>(channel: C, raw: string): EventMap[C] | undefined {
  const schema = (EVENT_SCHEMAS as Record<string, z.ZodType | undefined>)[channel];
  return schema ? (parseJson(schema, raw) as EventMap[C] | undefined) : undefined;
}

function parseJson<S extends z.ZodType>(schema: S, raw: string): z.output<S> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const result = schema.safeParse(json);
  return result.success ? result.data : undefined;
}

/**
 * Channels a subgraph declares for an `@eventSubscription` field (see event-subscriptions.ts) are not
 * known here, so their contract is generic: a JSON object naming its entity's `id` (read as a string);
 * every other field passes through, and the subscription's arguments filter on them.
 */
export const declaredEventSchema = z.looseObject({
  id: z.union([z.string().min(1), z.number().finite()]).transform(String),
});
export type DeclaredEvent = z.output<typeof declaredEventSchema>;
/** What a publisher sends on a declared channel. */
export type DeclaredEventMessage = { id: string | number } & Record<string, unknown>;

/** A declared channel must not be one of the fixed ones above: those carry their own schema, without `id`. */
export const isFixedChannel = (channel: string): channel is EventChannel => (EVENT_CHANNELS as readonly string[]).includes(channel);

/** Publishes one event on a channel a subgraph declared with `@eventSubscription`. */
export async function publishDeclaredEvent(redis: Pick<Redis, 'publish'>, channel: string, event: DeclaredEventMessage): Promise<void> {
  await redis.publish(channel, JSON.stringify(event));
}

/** A declared channel's event: anything that is not a JSON object with an `id` is undefined (dropped). */
export function parseDeclaredEvent(raw: string): DeclaredEvent | undefined {
  return parseJson(declaredEventSchema, raw);
}
