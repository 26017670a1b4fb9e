import { waitFor } from '@dream/common/testing';
import { useStack } from '@dream/testenv';
import { errorCode, mediaFixtures, type TestMedia, type TestUser } from './helpers';

const RECORD = `mutation($l: ID!, $p: Float!, $w: Float!) { recordLessonProgress(lessonId: $l, positionSeconds: $p, watchedSeconds: $w) { positionSeconds watchedSeconds completed completedAt } }`;
const COURSE = `query($c: ID!) { _entities(representations: [{ __typename: "Course", id: $c }]) { ... on Course { myProgress { completedLessons totalLessons percent } lessons { id myProgress { watchedSeconds completed } } } } }`;
const CREATE = `mutation($c: ID!, $t: String!) { createLesson(courseId: $c, title: $t) { id } }`;

const stack = useStack({ discovery: false, serviceAuth: true });
let t: TestMedia;
let owner: TestUser;
let student: TestUser;
let stranger: TestUser;

beforeAll(async () => {
  t = await mediaFixtures(stack);
  owner = t.user(['OWNER'], 'olga');
  student = t.user(['STUDENT'], 'sam');
  stranger = t.user(['STUDENT'], 'stan');
});

async function lessonIn(courseId: string, title: string, ready = true): Promise<string> {
  const id = (await t.gql(CREATE, { c: courseId, t: title }, owner.token)).body.data!.createLesson.id as string;
  if (ready) await t.makeReady(id, 10);
  return id;
}

/** Watches a 10 s lesson to the end the way a player reports: every 5 s of wall clock, here in recorded time. */
async function finish(lessonId: string, user: TestUser): Promise<void> {
  const r = await t.gql(RECORD, { l: lessonId, p: 5, w: 5 }, user.token);
  expect(r.body.errors).toBeUndefined();
  // the next report is allowed 2× the time since the previous one: move the previous report 5 s back
  await t.media.db.db.updateTable('progress').set({ reported_at: new Date(Date.now() - 5000).toISOString() }).where('lesson_id', '=', lessonId).where('user_id', '=', user.id).execute();
  const done = await t.gql(RECORD, { l: lessonId, p: 10, w: 10 }, user.token);
  expect(done.body.data!.recordLessonProgress.completed).toBe(true);
}

test('an enrolled student records progress; course progress counts READY lessons only', async () => {
  const c = await t.course(owner);
  const [a, b] = [await lessonIn(c, 'A'), await lessonIn(c, 'B')];
  await lessonIn(c, 'Draft', false);
  await t.enroll(student, c);
  const first = await t.gql(RECORD, { l: a, p: 4, w: 4 }, student.token);
  expect(first.body.data!.recordLessonProgress).toEqual({ positionSeconds: 4, watchedSeconds: 4, completed: false, completedAt: null });
  // idempotent: the same report again answers the same
  expect((await t.gql(RECORD, { l: a, p: 4, w: 4 }, student.token)).body.data).toEqual(first.body.data);
  await finish(a, student);
  const view = (await t.gql(COURSE, { c }, student.token)).body.data!._entities[0];
  expect(view.myProgress).toEqual({ completedLessons: 1, totalLessons: 2, percent: 50 });
  expect(view.lessons.map((l: { id: string; myProgress: unknown }) => [l.id, l.myProgress])).toEqual([
    [a, { watchedSeconds: 10, completed: true }],
    [b, null],
  ]);
});

test('completing the last READY lesson notifies the student and the owner once', async () => {
  const c = await t.course(owner);
  const [a, b] = [await lessonIn(c, 'A'), await lessonIn(c, 'B')];
  await t.enroll(student, c);
  const notes = await t.listen('notification');
  await finish(a, student);
  await finish(b, student);
  await waitFor(() => notes.messages.length >= 2, { what: 'completion notifications' });
  // completing again (a repeated report, another lesson re-watched) sends nothing more
  await t.gql(RECORD, { l: b, p: 10, w: 10 }, student.token);
  await t.gql(`query { lesson(id: "${a}") { id } }`, undefined, student.token);
  const kinds = notes.messages.map((n) => (n as { kind: string; userId: string }).kind + ':' + (n as { userId: string }).userId);
  expect(kinds.sort()).toEqual([`course.completed-by-student:${owner.id}`, `course.completed:${student.id}`].sort());
  expect((await t.gql(COURSE, { c }, student.token)).body.data!._entities[0].myProgress).toEqual({ completedLessons: 2, totalLessons: 2, percent: 100 });
});

test('strangers cannot record progress; bad numbers and unready lessons are refused', async () => {
  const c = await t.course(owner);
  const a = await lessonIn(c, 'A');
  const draft = await lessonIn(c, 'Draft', false);
  await t.enroll(student, c);
  expect(errorCode(await t.gql(RECORD, { l: a, p: 1, w: 1 }, stranger.token))).toBe('FORBIDDEN');
  expect(errorCode(await t.gql(RECORD, { l: a, p: 1, w: 1 }))).toBe('UNAUTHENTICATED');
  expect(errorCode(await t.gql(RECORD, { l: a, p: -1, w: 1 }, student.token))).toBe('BAD_USER_INPUT');
  expect(errorCode(await t.gql(RECORD, { l: draft, p: 1, w: 1 }, student.token))).toBe('FORBIDDEN');
  expect(errorCode(await t.gql(RECORD, { l: draft, p: 1, w: 1 }, owner.token))).toBe('BAD_USER_INPUT');
  expect(errorCode(await t.gql(RECORD, { l: 'nope', p: 1, w: 1 }, student.token))).toBe('FORBIDDEN');
  expect((await t.gql(COURSE, { c })).body.data!._entities[0].myProgress).toBeNull();
});
