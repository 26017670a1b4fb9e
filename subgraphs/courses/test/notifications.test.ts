import { Redis } from 'ioredis';
import { waitFor } from '@dream/common/testing';
import { useStack } from '@dream/testenv';
import { type TestCourses } from './helpers';

const CREATE = 'mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }';
const JOIN = 'mutation($c: String!) { joinLobby(category: $c) { courseId } }';

describe('notifications (published on `notification` after the write commits)', () => {
  const stack = useStack({ discovery: false });
  let t: TestCourses;
  const got: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    t = await stack.subgraph('courses');
    const sub = stack.d.push(new Redis(stack.redis.url), (c) => c.disconnect());
    sub.on('message', (_: string, message: string) => got.push(JSON.parse(message)));
    await sub.subscribe('notification');
  });
  beforeEach(() => {
    got.length = 0;
  });

  const create = async (token: string, name: string, category: string) => {
    const r = await t.gql(CREATE, { input: { name, info: '', category, price: 1 } }, token);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.createCourse.id as string;
  };

  test('a lobby join notifies the course owner; a new course notifies the followers of its category', async () => {
    const owner = stack.user(['OWNER'], 'olivia');
    const s1 = stack.user(['STUDENT'], 'sam');
    const s2 = stack.user(['STUDENT'], 'sue');
    const first = await create(owner.token, 'Intro', 'Chess');
    const r = await t.gql(JOIN, { c: 'chess' }, s1.token);
    expect(r.body.data!.joinLobby.courseId).toBe(first);
    await waitFor(() => got.length >= 1, { what: 'the join notification' });
    expect(got).toEqual([{ userId: owner.id, kind: 'course.joined', courseId: first, text: 'sam joined your course "Intro".' }]);

    // s1 now follows chess (through the lobby); s2 does not
    got.length = 0;
    const second = await create(owner.token, 'Endgames', 'CHESS');
    await waitFor(() => got.length >= 1, { what: 'the follower notification' });
    expect(got).toEqual([{ userId: s1.id, kind: 'course.new-in-category', courseId: second, text: 'New course "Endgames" in CHESS.' }]);
    expect(got.some((n) => n.userId === s2.id)).toBe(false);
  });

  test('a failed join notifies nobody', async () => {
    const r = await t.gql(JOIN, { c: 'no-such-category' }, stack.user(['STUDENT']).token);
    expect(r.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // a marker published after the failure arrives after anything it could have published
    await t.service.redis.publish('notification', JSON.stringify({ marker: true }));
    await waitFor(() => got.length >= 1, { what: 'marker' });
    expect(got).toEqual([{ marker: true }]);
  });
});
