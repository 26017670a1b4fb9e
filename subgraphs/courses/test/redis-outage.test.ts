import { Disposables } from '@dream/common/testing';
import { CREATE, DELETE, courseInput, errorCode, startTestCourses, type TestCourses } from './helpers';

/** Dependency outages: Redis (events, denylist) down must not stop writes; the database down is a 500 health. */
const d = new Disposables();
let t: TestCourses;

beforeAll(async () => {
  t = await startTestCourses(d);
});
afterAll(() => d.disposeAll());

test('with Redis down, create and delete still succeed (events are logged, not fatal) and auth still works', async () => {
  const owner = t.user(['OWNER']);
  await t.redis.stop();
  const r = await t.gql(CREATE, { input: courseInput({ category: 'Outage' }) }, owner.token);
  expect(r.body.errors).toBeUndefined();
  const id = r.body.data!.createCourse.id as string;
  const del = await t.gql(DELETE, { id }, owner.token);
  expect(del.body.data!.deleteCourse.message).toBe(`Course ${id} deleted successfully.`);
  expect(errorCode(await t.gql(CREATE, { input: courseInput() }, t.user(['STUDENT']).token))).toBe('FORBIDDEN');
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
