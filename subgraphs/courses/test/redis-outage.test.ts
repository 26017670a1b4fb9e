import { useStack } from '@dream/testenv';
import { CREATE, DELETE, courseInput, errorCode, type TestCourses } from './helpers';

/** Dependency outages: Redis (events, denylist) down fails authenticated calls closed (503); the database down is a 500 health. */
const stack = useStack({ discovery: false });
let t: TestCourses;

beforeAll(async () => {
  t = await stack.subgraph('courses');
});

test('with Redis down, tokens are not trusted (the denylist cannot be read): 503, nothing written; anonymous reads work', async () => {
  const owner = stack.user(['OWNER']);
  const created = await t.gql(CREATE, { input: courseInput({ category: 'Outage' }) }, owner.token);
  const id = created.body.data!.createCourse.id as string;
  await stack.redis.stop();
  const r = await t.gql(CREATE, { input: courseInput({ category: 'Outage' }) }, owner.token);
  expect(r.status).toBe(503);
  expect(errorCode(r)).toBe('SERVICE_UNAVAILABLE');
  const del = await t.gql(DELETE, { id }, owner.token);
  expect(errorCode(del)).toBe('SERVICE_UNAVAILABLE');
  const read = await t.gql(`query($id: ID!) { course(id: $id) { id } }`, { id });
  expect(read.body.data!.course.id).toBe(id);
  const health = await t.http('/health');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'ok', db: 'up', redis: 'down', degraded: true });
});

test('with the database gone, /health is 500 with a reason and reads are an internal error, not a hang', async () => {
  await t.service.db.close();
  const health = await t.http('/health');
  expect(health.status).toBe(500);
  expect(health.body).toMatchObject({ status: 'down', db: 'down', reason: 'database unreachable' });
  const r = await t.gql(`{ categories }`);
  expect(r.body.errors?.[0].message).not.toMatch(/destroyed|sqlite|kysely/i);
});
