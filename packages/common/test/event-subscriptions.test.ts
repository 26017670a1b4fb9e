import { eventMatchesArguments, eventSubscriptionsOf, EVENT_SUBSCRIPTION_DIRECTIVE_SDL } from '../src/events';

describe('@eventSubscription in a subgraph SDL', () => {
  it('finds the declared fields with their channel, query field and arguments', () => {
    const sdl = `${EVENT_SUBSCRIPTION_DIRECTIVE_SDL}
      type Lesson { id: ID! }
      type Query { lesson(id: ID!): Lesson }
      type Subscription {
        lessonUpdated(courseId: ID!, status: String): Lesson! @eventSubscription(channel: "lesson.updated", query: "lesson")
        plain: Lesson
      }
      extend type Subscription { other: Lesson @eventSubscription(channel: "other", query: "lesson") }`;
    expect(eventSubscriptionsOf(sdl)).toEqual({
      fields: [
        { field: 'lessonUpdated', channel: 'lesson.updated', query: 'lesson', arguments: ['courseId', 'status'] },
        { field: 'other', channel: 'other', query: 'lesson', arguments: [] },
      ],
      problems: [],
    });
  });

  it('follows a renamed subscription root and reports unusable declarations', () => {
    const sdl = `schema { query: Q subscription: S }
      type Q { x: Int }
      type S { a: Int @eventSubscription(channel: "bad channel!", query: "x") b: Int @eventSubscription(channel: "ok", query: "not a name") }
      type Subscription { ignored: Int @eventSubscription(channel: "c", query: "x") }`;
    const found = eventSubscriptionsOf(sdl);
    expect(found.fields).toEqual([]);
    expect(found.problems).toEqual([expect.stringMatching(/^a: channel/), expect.stringMatching(/^b: query/)]);
  });
});

describe('eventMatchesArguments', () => {
  it('compares the given arguments with the payload fields of the same name', () => {
    const payload = { id: 'l1', courseId: 'c1', position: 3, tags: ['a'] };
    expect(eventMatchesArguments(payload, { courseId: 'c1' })).toBe(true);
    expect(eventMatchesArguments(payload, { courseId: 'c2' })).toBe(false);
    expect(eventMatchesArguments(payload, { position: '3', courseId: null, other: undefined })).toBe(true);
    expect(eventMatchesArguments(payload, { tags: ['a'] })).toBe(true);
    // a payload that does not carry the field does not pass (fail closed)
    expect(eventMatchesArguments(payload, { ownerId: 'u1' })).toBe(false);
  });
});
