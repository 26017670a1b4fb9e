import { Redis } from 'ioredis';
import { Disposables, waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { gqlWsClient, subscribe } from './client/ws-clients';
import { startLessonsSubgraph, type FixtureLesson } from './fixtures/lessons-subgraph';
import { Stack } from './helpers';

jest.setTimeout(60000);

describe('event subscriptions a subgraph declares with @eventSubscription', () => {
  const stack = new Stack();
  const d = new Disposables();
  let gw: Gateway;
  let lessons: Map<string, FixtureLesson>;
  let publisher: Redis;
  const alice = { id: 'id-alice', jwt: '' };
  const bob = { id: 'id-bob', jwt: '' };

  const publish = (lesson: FixtureLesson, extra: Record<string, unknown> = {}) => {
    lessons.set(lesson.id, lesson);
    return publisher.publish('lesson.updated', JSON.stringify({ id: lesson.id, courseId: lesson.courseId, status: lesson.status, ...extra }));
  };
  /** Resolves once `n` subscriptions are live and the gateway's SUBSCRIBE to the channel is acknowledged. */
  const live = async (n: number) => {
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= n, { what: `${n} live subscriptions` });
    await gw.clientSurface.events.channelReady('lesson.updated');
  };

  beforeAll(async () => {
    await stack.start();
    alice.jwt = stack.token(['OWNER'], 'alice');
    bob.jwt = stack.token(['STUDENT'], 'bob');
    // the gateway runs first: the subgraph's field is learnt from the SDL it announces later
    gw = await stack.gateway({ SUBGRAPHS: 'lessons' });
    const fixture = d.push(await startLessonsSubgraph({ jwt: stack.jwt, discoveryUrl: stack.discoveryUrl, discoveryToken: stack.discoveryToken }), (f) => f.stop());
    lessons = fixture.lessons;
    await gw.ready();
    publisher = d.push(new Redis(stack.redis.url), (r) => r.disconnect());
  });
  afterAll(async () => {
    await d.disposeAll();
    await stack.stop();
  });

  it('composes the declared field into the supergraph and knows its channel from the subgraph SDL', () => {
    expect(Object.keys(gw.gateway.schema!.getSubscriptionType()!.getFields())).toEqual(['lessonUpdated']);
    expect(gw.declaredEvents.get('lessonUpdated')).toEqual({ field: 'lessonUpdated', channel: 'lesson.updated', query: 'lesson', arguments: ['courseId'], subgraph: 'lessons' });
  });

  it('delivers events filtered by the arguments, each resolved with the subscriber’s own token', async () => {
    const selection = 'id title status viewer ownerNote';
    const aliceSub = subscribe(gqlWsClient(d, gw, { jwt: alice.jwt }), `subscription { lessonUpdated(courseId: "c1") { ${selection} } }`);
    const bobSub = subscribe(gqlWsClient(d, gw, { jwt: bob.jwt }), `subscription($c: ID!) { mine: lessonUpdated(courseId: $c) { ${selection} } }`, { c: 'c1' });
    const otherCourse = subscribe(gqlWsClient(d, gw, { jwt: bob.jwt }), `subscription { lessonUpdated(courseId: "c2") { id title } }`);
    await live(3);

    await publish({ id: 'l-c2', courseId: 'c2', title: 'Other course', status: 'READY', ownerId: alice.id });
    await publish({ id: 'l1', courseId: 'c1', title: 'Intro', status: 'PROCESSING', ownerId: alice.id, ownerNote: 're-record the end' });

    const a = await aliceSub.inbox.take((v) => v.data?.lessonUpdated?.id === 'l1', 3000, 'l1 for alice');
    expect(a.data.lessonUpdated).toEqual({ id: 'l1', title: 'Intro', status: 'PROCESSING', viewer: 'alice', ownerNote: 're-record the end' });
    const b = await bobSub.inbox.take((v) => v.data?.mine?.id === 'l1', 3000, 'l1 for bob');
    expect(b.data.mine).toEqual({ id: 'l1', title: 'Intro', status: 'PROCESSING', viewer: 'bob', ownerNote: null });
    const o = await otherCourse.inbox.take(() => true, 3000, 'the c2 lesson');
    expect(o.data.lessonUpdated).toEqual({ id: 'l-c2', title: 'Other course' });
    // events arrive in order: the c2 event came first, and the c1 subscribers never saw it
    expect(aliceSub.inbox.values).toHaveLength(1);
    expect(bobSub.inbox.values).toHaveLength(1);

    // an entity the subscriber may not see is not delivered to it; malformed events are dropped
    await publisher.publish('lesson.updated', 'not json');
    await publisher.publish('lesson.updated', JSON.stringify({ courseId: 'c1' }));
    await publish({ id: 'l2', courseId: 'c1', title: 'Draft', status: 'DRAFT', ownerId: alice.id, hidden: true });
    await publish({ id: 'l3', courseId: 'c1', title: 'Wrap-up', status: 'READY', ownerId: alice.id });
    await aliceSub.inbox.take((v) => v.data?.lessonUpdated?.id === 'l3', 3000, 'l3 for alice');
    await bobSub.inbox.take((v) => v.data?.mine?.id === 'l3', 3000, 'l3 for bob');
    expect(aliceSub.inbox.values.map((v) => v.data.lessonUpdated.id)).toEqual(['l1', 'l2', 'l3']);
    expect(bobSub.inbox.values.map((v) => v.data.mine.id)).toEqual(['l1', 'l3']);
    expect(otherCourse.inbox.values).toHaveLength(1);

    for (const s of [aliceSub, bobSub, otherCourse]) s.unsubscribe();
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions === 0, { what: 'unsubscribed' });
  });

  it('refuses a subscription whose required argument is missing, like any invalid operation', async () => {
    const sub = subscribe(gqlWsClient(d, gw, { jwt: bob.jwt }), 'subscription { lessonUpdated { id } }');
    await expect(sub.inbox.take(() => true, 3000)).rejects.toBeDefined();
    expect(JSON.stringify(sub.inbox.error)).toContain('GRAPHQL_VALIDATION_FAILED');
  });
});
