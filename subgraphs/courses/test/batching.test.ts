import { useStack } from '@dream/testenv';
import { CREATE, courseInput, type TestCourses } from './helpers';

/** Entity loads are batched per request: N references cost one statement, not N. */
const stack = useStack({ discovery: false });
let t: TestCourses;
const owners: string[] = [];
const courseIds: string[] = [];
let studentId = '';
let studentToken = '';

beforeAll(async () => {
  t = await stack.subgraph('courses');
  // 50 owners with one course each, and a student enrolled in 10 of them through the lobby.
  for (let i = 0; i < 50; i++) {
    const o = stack.user(['OWNER']);
    owners.push(o.id);
    const r = await t.gql(CREATE, { input: courseInput({ name: `C${i}`, category: i < 10 ? 'Batch' : 'Other' }) }, o.token);
    courseIds.push(r.body.data!.createCourse.id);
  }
  const s = stack.user(['STUDENT']);
  studentId = s.id;
  studentToken = s.token;
  for (let i = 0; i < 10; i++) await t.gql(`mutation { joinLobby(category: "Batch") { courseId } }`, undefined, s.token);
});

async function countQueries(query: string, variables: Record<string, unknown>, token?: string) {
  const before = t.service.db.stats.queries;
  const r = await t.gql(query, variables, token);
  expect(r.body.errors).toBeUndefined();
  return { queries: t.service.db.stats.queries - before, data: r.body.data! };
}

test('50 Course representations in _entities cost one database query', async () => {
  const { queries, data } = await countQueries(
    `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Course { id name owner { id } } } }`,
    { reps: courseIds.map((id) => ({ __typename: 'Course', id })) },
  );
  expect(queries).toBe(1);
  expect(data._entities.map((c: { id: string }) => c.id)).toEqual(courseIds);
  expect(data._entities[7]).toEqual({ id: courseIds[7], name: 'C7', owner: { id: owners[7] } });
});

test('unknown and duplicate references still cost one query; unknown ones resolve to null', async () => {
  const reps = [...courseIds.slice(0, 5), 'missing', courseIds[0]].map((id) => ({ __typename: 'Course', id }));
  const { queries, data } = await countQueries(
    `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Course { id } } }`,
    { reps },
  );
  expect(queries).toBe(1);
  expect(data._entities[5]).toBeNull();
  expect(data._entities[6]).toEqual({ id: courseIds[0] });
});

test('ownedCourses of 50 User representations cost one database query', async () => {
  const { queries, data } = await countQueries(
    `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { ownedCourses { id } } } }`,
    { reps: owners.map((id) => ({ __typename: 'User', id })) },
  );
  expect(queries).toBe(1);
  expect(data._entities.map((u: { ownedCourses: Array<{ id: string }> }) => u.ownedCourses.map((c) => c.id))).toEqual(
    courseIds.map((id) => [id]),
  );
});

test('enrolledCourses of 50 User representations: only the caller\'s own list is loaded (one query), the others are null', async () => {
  const reps = [studentId, ...owners.slice(0, 49)].map((id) => ({ __typename: 'User', id }));
  const { queries, data } = await countQueries(
    `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id enrolledCourses { id } } } }`,
    { reps },
    studentToken,
  );
  expect(queries).toBe(1);
  expect(data._entities[0].enrolledCourses).toHaveLength(10);
  expect(data._entities[1].enrolledCourses).toBeNull();
});

test('courses with owner and a page of 50 is one query too (owner is a reference, not a lookup)', async () => {
  const { queries, data } = await countQueries(`query { courses(first: 50) { id owner { id } } }`, {});
  expect(queries).toBe(1);
  expect(data.courses).toHaveLength(50);
});
