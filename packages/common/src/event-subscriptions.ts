import { Kind, parse, valueFromASTUntyped, type DocumentNode, type FieldDefinitionNode } from 'graphql';

/**
 * How a subgraph says that one of its Subscription fields is fed by a Redis channel, so the gateway
 * serves it with no code of its own:
 *
 *   type Subscription {
 *     lessonUpdated(courseId: ID!): Lesson! @eventSubscription(channel: "lesson.updated", query: "lesson")
 *   }
 *   type Query { lesson(id: ID!): Lesson }
 *
 * The service publishes a JSON object with the entity's `id` on `channel` after each change. Each
 * subscriber gets the events whose payload fields equal its subscription's arguments (same names;
 * an argument left out or null does not filter), and the entity is fetched with the subscriber's own
 * selection and token through the supergraph's `query(id:)` root field, so what it may not see
 * (null from that field) it does not get.
 */
export const EVENT_SUBSCRIPTION_DIRECTIVE = 'eventSubscription';

/** The directive's definition: put it in the subgraph's SDL (the gateway reads its uses from there). */
export const EVENT_SUBSCRIPTION_DIRECTIVE_SDL = 'directive @eventSubscription(channel: String!, query: String!) on FIELD_DEFINITION';

export interface EventSubscriptionField {
  /** The Subscription field, e.g. `lessonUpdated`. */
  field: string;
  /** The Redis pub/sub channel, e.g. `lesson.updated`. */
  channel: string;
  /** The root Query field taking `id: ID!` that resolves the event's entity, e.g. `lesson`. */
  query: string;
  /** The field's argument names: the payload fields that filter events. */
  arguments: string[];
}

export const EVENT_CHANNEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** The subscription root type's name: `schema { subscription: X }` when declared, else `Subscription`. */
function subscriptionTypeName(doc: DocumentNode): string {
  for (const d of doc.definitions) {
    if (d.kind !== Kind.SCHEMA_DEFINITION && d.kind !== Kind.SCHEMA_EXTENSION) continue;
    const op = d.operationTypes?.find((o) => o.operation === 'subscription');
    if (op) return op.type.name.value;
  }
  return 'Subscription';
}

function directiveArgs(field: FieldDefinitionNode): Record<string, unknown> | undefined {
  const use = field.directives?.find((d) => d.name.value === EVENT_SUBSCRIPTION_DIRECTIVE);
  if (!use) return undefined;
  return Object.fromEntries((use.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

/**
 * The event-fed Subscription fields a subgraph SDL declares, and why any use of the directive was
 * not taken (a bad channel or query name).
 */
export function eventSubscriptionsOf(sdl: string | DocumentNode): { fields: EventSubscriptionField[]; problems: string[] } {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl;
  const root = subscriptionTypeName(doc);
  const fields: EventSubscriptionField[] = [];
  const problems: string[] = [];
  for (const d of doc.definitions) {
    if ((d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION) || d.name.value !== root) continue;
    for (const f of d.fields ?? []) {
      const args = directiveArgs(f);
      if (!args) continue;
      const { channel, query } = args;
      if (typeof channel !== 'string' || !EVENT_CHANNEL.test(channel)) problems.push(`${f.name.value}: channel must match ${EVENT_CHANNEL}`);
      else if (typeof query !== 'string' || !NAME.test(query)) problems.push(`${f.name.value}: query must name a root Query field`);
      else fields.push({ field: f.name.value, channel, query, arguments: (f.arguments ?? []).map((a) => a.name.value) });
    }
  }
  return { fields, problems };
}

/**
 * Whether an event's payload passes a subscription's arguments: every argument given (not null)
 * must equal the payload field of the same name; a payload without that field does not pass.
 */
export function eventMatchesArguments(payload: Record<string, unknown>, args: Record<string, unknown>): boolean {
  for (const [name, want] of Object.entries(args)) {
    if (want === undefined || want === null) continue;
    const got = payload[name];
    if (got === undefined || got === null) return false;
    const same = typeof want === 'object' ? JSON.stringify(got) === JSON.stringify(want) : String(got) === String(want);
    if (!same) return false;
  }
  return true;
}
