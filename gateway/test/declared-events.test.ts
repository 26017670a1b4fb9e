import { EventEmitter } from 'node:events';
import { createLogger } from '@dream/common';
import { EVENT_SUBSCRIPTION_DIRECTIVE_SDL } from '@dream/common/events';
import { followDeclaredEvents } from '../src/subscriptions/declared-events';

const sdl = (fields: string) => `${EVENT_SUBSCRIPTION_DIRECTIVE_SDL}\ntype Lesson { id: ID! }\ntype Query { lesson(id: ID!): Lesson }\ntype Subscription {\n${fields}\n}`;

class FakeSupergraph extends EventEmitter {
  subgraphSdls: Array<[string, string]> = [];
}

describe('declared event fields', () => {
  const logger = createLogger('declared-events-test', { level: 'silent' });

  it('follows every composition, ignores fields on the fixed channels, and stops following', () => {
    const supergraph = new FakeSupergraph();
    const { fields, stop } = followDeclaredEvents(supergraph, logger);
    expect(fields.names).toEqual([]);

    supergraph.subgraphSdls = [
      [
        'lessons',
        sdl(`lessonUpdated(courseId: ID!): Lesson! @eventSubscription(channel: "lesson.updated", query: "lesson")
        sneaky: Lesson @eventSubscription(channel: "course.updated", query: "lesson")`),
      ],
    ];
    supergraph.emit('composed');
    expect(fields.names).toEqual(['lessonUpdated']);
    expect(fields.get('lessonUpdated')).toEqual({ field: 'lessonUpdated', channel: 'lesson.updated', query: 'lesson', arguments: ['courseId'], subgraph: 'lessons' });
    // the course channels carry their own schema (no id): a declared field cannot feed on them
    expect(fields.get('sneaky')).toBeUndefined();

    stop();
    supergraph.subgraphSdls = [];
    supergraph.emit('composed');
    expect(fields.names).toEqual(['lessonUpdated']);
    expect(supergraph.listenerCount('composed')).toBe(0);
  });
});
