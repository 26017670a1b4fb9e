import { Readable } from 'node:stream';
import { waitFor } from '@dream/common/testing';
import { useStack } from '@dream/testenv';
import { verifyUploadTicket } from '../src/upload-ticket';
import { assetKeys } from '../src/media-files';
import { verifyPlaybackToken } from '../src/playback';
import { errorCode, LESSON_FIELDS, mediaFixtures, type TestMedia, type TestUser } from './helpers';

const CREATE = `mutation($c: ID!, $t: String!) { createLesson(courseId: $c, title: $t) { ${LESSON_FIELDS} } }`;
const LESSONS = `query($c: ID!) { _entities(representations: [{ __typename: "Course", id: $c }]) { ... on Course { lessons { id title position status playback { hlsUrl mp4Url posterUrl expiresAt } } } } }`;
const LESSON = `query($id: ID!) { lesson(id: $id) { id status playback { hlsUrl } } }`;
const MOVE = `mutation($id: ID!, $p: Int!) { moveLesson(id: $id, position: $p) { id position } }`;
const DELETE = `mutation($id: ID!) { deleteLesson(id: $id) { id courseId message } }`;
const UPDATE = `mutation($id: ID!, $t: String) { updateLesson(id: $id, input: { title: $t }) { id title } }`;
const UPLOAD = `mutation($id: ID!) { requestLessonUpload(lessonId: $id) { uploadUrl token expiresAt maxBytes } }`;
const RETRANSCODE = `mutation($id: ID!) { retranscodeLesson(lessonId: $id) { id status } }`;

const stack = useStack({ discovery: false, serviceAuth: true });
let t: TestMedia;
let owner: TestUser;
let otherOwner: TestUser;
let student: TestUser;
let stranger: TestUser;

beforeAll(async () => {
  t = await mediaFixtures(stack);
  owner = t.user(['OWNER'], 'olga');
  otherOwner = t.user(['OWNER'], 'oscar');
  student = t.user(['STUDENT'], 'sam');
  stranger = t.user(['STUDENT'], 'stan');
});

async function lessonsOf(courseId: string, token?: string) {
  const r = await t.gql(LESSONS, { c: courseId }, token);
  expect(r.body.errors).toBeUndefined();
  return r.body.data!._entities[0].lessons as Array<{ id: string; title: string; position: number; status: string; playback: Record<string, string> | null }>;
}

async function create(courseId: string, title: string, token = owner.token): Promise<string> {
  const r = await t.gql(CREATE, { c: courseId, t: title }, token);
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.createLesson.id;
}

describe('owner-only changes', () => {
  test('the owner creates lessons at the end, as DRAFT', async () => {
    const c = await t.course(owner);
    const r = await t.gql(CREATE, { c, t: '  Intro ' }, owner.token);
    expect(r.body.data!.createLesson).toMatchObject({ title: 'Intro', position: 1, status: 'DRAFT', course: { id: c }, failureReason: null });
    await create(c, 'Second');
    expect((await lessonsOf(c, owner.token)).map((l) => [l.title, l.position])).toEqual([['Intro', 1], ['Second', 2]]);
  });

  test('anyone else is refused: 401 without a token, FORBIDDEN for another owner or a student, NOT_FOUND for no course', async () => {
    const c = await t.course(owner);
    const id = await create(c, 'Mine');
    expect(errorCode(await t.gql(CREATE, { c, t: 'x' }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(CREATE, { c, t: 'x' }, otherOwner.token))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(CREATE, { c, t: 'x' }, student.token))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(CREATE, { c: 'no-such-course', t: 'x' }, owner.token))).toBe('NOT_FOUND');
    for (const [q, v] of [
      [UPDATE, { id, t: 'hacked' }],
      [DELETE, { id }],
      [MOVE, { id, p: 1 }],
      [UPLOAD, { id }],
      [RETRANSCODE, { id }],
    ] as const) {
      expect({ q, code: errorCode(await t.gql(q, v, otherOwner.token)) }).toEqual({ q, code: 'FORBIDDEN' });
    }
    expect((await lessonsOf(c, owner.token)).map((l) => l.title)).toEqual(['Mine']);
  });

  test('bad input is a clear BAD_USER_INPUT', async () => {
    const c = await t.course(owner);
    expect(errorCode(await t.gql(CREATE, { c, t: '   ' }, owner.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(CREATE, { c, t: 'x'.repeat(201) }, owner.token))).toBe('BAD_USER_INPUT');
    const id = await create(c, 'Only');
    const r = await t.gql(MOVE, { id, p: 2 }, owner.token);
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].message).toMatch(/between 1 and 1/);
    expect(errorCode(await t.gql(RETRANSCODE, { id }, owner.token))).toBe('CONFLICT');
  });

  test('updateLesson renames', async () => {
    const c = await t.course(owner);
    const id = await create(c, 'Old');
    expect((await t.gql(UPDATE, { id, t: 'New' }, owner.token)).body.data!.updateLesson).toEqual({ id, title: 'New' });
  });
});

describe('positions stay dense', () => {
  test('move up, move down, delete', async () => {
    const c = await t.course(owner);
    const ids: string[] = [];
    for (const title of ['A', 'B', 'C', 'D', 'E']) ids.push(await create(c, title));
    const order = async () => (await lessonsOf(c, owner.token)).map((l) => `${l.position}${l.title}`).join(' ');
    const moved = await t.gql(MOVE, { id: ids[4], p: 2 }, owner.token);
    expect(moved.body.errors).toBeUndefined();
    expect(moved.body.data!.moveLesson).toEqual({ id: ids[4], position: 2 });
    expect(await order()).toBe('1A 2E 3B 4C 5D');
    await t.gql(MOVE, { id: ids[0], p: 5 }, owner.token);
    expect(await order()).toBe('1E 2B 3C 4D 5A');
    await t.gql(MOVE, { id: ids[2], p: 3 }, owner.token);
    expect(await order()).toBe('1E 2B 3C 4D 5A');
    const del = await t.gql(DELETE, { id: ids[1] }, owner.token);
    expect(del.body.data!.deleteLesson).toEqual({ id: ids[1], courseId: c, message: `Lesson ${ids[1]} deleted successfully.` });
    expect(await order()).toBe('1E 2C 3D 4A');
    await t.gql(DELETE, { id: ids[4] }, owner.token);
    expect(await order()).toBe('1C 2D 3A');
    expect(errorCode(await t.gql(DELETE, { id: ids[4] }, owner.token))).toBe('NOT_FOUND');
  });

  test('lessons created at the same time get distinct, dense positions', async () => {
    const c = await t.course(owner);
    await Promise.all(Array.from({ length: 8 }, (_, i) => create(c, `L${i}`)));
    expect((await lessonsOf(c, owner.token)).map((l) => l.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

test('deleting a lesson removes the files of its assets', async () => {
  const c = await t.course(owner);
  const id = await create(c, 'With files');
  const lesson = await t.makeReady(id, 5);
  const key = `${assetKeys.output(id, lesson.currentAssetId!)}/master.m3u8`;
  await t.media.storage.putStream(key, Readable.from(['#EXTM3U\n']));
  await t.gql(DELETE, { id }, owner.token);
  expect(await t.media.storage.stat(key)).toBeNull();
  expect(await t.media.lessons.findAsset(lesson.currentAssetId!)).toBeUndefined();
});

test('deleting a course removes its lessons and their files', async () => {
  const c = await t.course(owner);
  const lesson = await t.makeReady(await create(c, 'Goes with the course'), 5);
  const key = `${assetKeys.output(lesson.id, lesson.currentAssetId!)}/video.mp4`;
  await t.media.storage.putStream(key, Readable.from(['x']));
  await t.courses.gql(`mutation($id: ID!) { deleteCourse(id: $id) { id } }`, { id: c }, owner.token);
  // files go after the rows: once the folder is gone, the lesson is too
  await waitFor(async () => (await t.media.storage.stat(key)) === null, { what: 'the files removed' });
  expect(await t.media.lessons.findById(lesson.id)).toBeUndefined();
});

describe('who sees what', () => {
  let c: string;
  let draft: string;
  let ready: string;

  beforeAll(async () => {
    c = await t.course(owner);
    draft = await create(c, 'Draft');
    ready = await create(c, 'Ready');
    await t.makeReady(ready, 60);
    await t.enroll(student, c);
  });

  test('the owner sees every lesson; students and strangers only READY ones', async () => {
    expect((await lessonsOf(c, owner.token)).map((l) => l.status)).toEqual(['DRAFT', 'READY']);
    expect((await lessonsOf(c, student.token)).map((l) => l.id)).toEqual([ready]);
    expect((await lessonsOf(c, stranger.token)).map((l) => l.id)).toEqual([ready]);
    expect((await lessonsOf(c)).map((l) => l.id)).toEqual([ready]);
    expect((await t.gql(LESSON, { id: draft }, student.token)).body.data!.lesson).toBeNull();
    expect((await t.gql(LESSON, { id: draft }, owner.token)).body.data!.lesson).toMatchObject({ id: draft, status: 'DRAFT' });
  });

  test('playback for the owner and enrolled students only, with a token for that user, lesson and asset', async () => {
    const forStudent = (await lessonsOf(c, student.token))[0].playback!;
    expect(forStudent.hlsUrl).toMatch(/^\/media\/play\/[^/]+\/master\.m3u8$/);
    expect(forStudent.mp4Url).toMatch(/\/video\.mp4$/);
    const token = forStudent.hlsUrl.split('/')[3];
    const grant = verifyPlaybackToken(token, t.media.signingSecret);
    const lesson = await t.media.lessons.findById(ready);
    expect(grant).toMatchObject({ ok: true, claims: { lessonId: ready, assetId: lesson!.currentAssetId, userId: student.id } });
    expect(Date.parse(forStudent.expiresAt)).toBeGreaterThan(Date.now());
    expect((await lessonsOf(c, owner.token)).find((l) => l.id === ready)!.playback).not.toBeNull();
    expect((await lessonsOf(c, stranger.token))[0].playback).toBeNull();
    expect((await lessonsOf(c))[0].playback).toBeNull();
    expect((await t.gql(LESSON, { id: ready }, stranger.token)).body.data!.lesson).toEqual({ id: ready, status: 'READY', playback: null });
  });

  test('a lesson of a deleted course is hidden from everyone', async () => {
    const c2 = await t.course(owner);
    const l = await create(c2, 'Soon gone');
    await t.makeReady(l, 10);
    await t.courses.gql(`mutation($id: ID!) { deleteCourse(id: $id) { id } }`, { id: c2 }, owner.token);
    expect((await t.gql(LESSON, { id: l }, owner.token)).body.data!.lesson).toBeNull();
    expect(await lessonsOf(c2, owner.token)).toEqual([]);
  });
});

describe('uploads and events', () => {
  test('requestLessonUpload: a signed ticket for one upload of the lesson; the lesson shows UPLOADING', async () => {
    const c = await t.course(owner);
    const id = await create(c, 'Video');
    const events = await t.listen('lesson.updated');
    const r = await t.gql(UPLOAD, { id }, owner.token);
    expect(r.body.errors).toBeUndefined();
    const ticket = r.body.data!.requestLessonUpload;
    expect(ticket.uploadUrl).toBe('/media/uploads');
    expect(ticket.maxBytes).toBe(2 * 1024 ** 3);
    const claims = verifyUploadTicket(ticket.token, t.media.signingSecret);
    expect(claims).toMatchObject({ lessonId: id, ownerId: owner.id, maxBytes: ticket.maxBytes });
    expect(new Date(claims.expiresAt * 1000).toISOString()).toBe(ticket.expiresAt);
    expect(await t.media.lessons.useUpload(claims.uploadId)).toBe(true);
    expect(await t.media.lessons.useUpload(claims.uploadId)).toBe(false);
    expect((await t.gql(LESSON, { id }, owner.token)).body.data!.lesson.status).toBe('UPLOADING');
    await waitFor(() => events.messages.some((m) => (m as { id: string; status: string }).status === 'UPLOADING'), { what: 'lesson.updated UPLOADING' });
    expect(events.messages).toContainEqual({ id, courseId: c, status: 'UPLOADING' });
  });

  test('progress and READY are published on lesson.updated; READY notifies the owner and the students once', async () => {
    const c = await t.course(owner);
    const id = await create(c, 'Notified');
    await t.enroll(student, c);
    const updates = await t.listen('lesson.updated');
    const notes = await t.listen('notification');
    const lesson = (await t.media.lessons.findById(id))!;
    const { assetId } = await t.media.lessons.issueUpload(lesson, 1000, new Date(Date.now() + 60_000).toISOString());
    await t.media.lessons.uploadReceived(id, assetId, { key: `sources/${assetId}`, sizeBytes: 1000 });
    await t.media.lifecycle.progress(id, assetId, 42.7);
    await t.media.lifecycle.ready(id, assetId, { durationSeconds: 12.5 });
    await waitFor(() => notes.messages.length >= 2 && updates.messages.length >= 2, { what: 'events' });
    expect(updates.messages).toEqual([
      { id, courseId: c, status: 'PROCESSING', progress: 42 },
      { id, courseId: c, status: 'READY' },
    ]);
    expect(new Set(notes.messages.map((n) => (n as { userId: string }).userId))).toEqual(new Set([owner.id, student.id]));
    expect(notes.messages[0]).toMatchObject({ kind: 'lesson.ready', courseId: c, text: 'Lesson "Notified" is ready to watch.' });
    // a late report of the same (no longer pending) asset changes nothing and publishes nothing
    expect(await t.media.lifecycle.ready(id, assetId, { durationSeconds: 99 })).toBeUndefined();
    expect((await t.media.lessons.findById(id))!.durationSeconds).toBe(12.5);
  });

  test('a failed upload shows FAILED with its reason; a failed re-upload keeps the lesson READY on its old video', async () => {
    const c = await t.course(owner);
    const id = await create(c, 'Fails');
    const first = await t.media.lessons.issueUpload((await t.media.lessons.findById(id))!, 1000, new Date(Date.now() + 60_000).toISOString());
    await t.media.lifecycle.failed(id, first.assetId, 'Not a playable video file');
    expect((await t.gql(LESSON, { id }, owner.token)).body.data!.lesson.status).toBe('FAILED');
    expect((await t.media.lessons.findById(id))!.failureReason).toBe('Not a playable video file');
    const ready = await t.makeReady(id, 30);
    const second = await t.media.lessons.issueUpload(ready, 1000, new Date(Date.now() + 60_000).toISOString());
    expect((await t.media.lessons.findById(id))!.status).toBe('READY');
    await t.media.lifecycle.failed(id, second.assetId, 'Not a playable video file');
    const after = (await t.media.lessons.findById(id))!;
    expect(after).toMatchObject({ status: 'READY', currentAssetId: ready.currentAssetId, pendingAssetId: null, failureReason: 'Not a playable video file' });
  });
});

describe('fail closed', () => {
  test('with courses unreachable, owner changes and lesson lists are FORBIDDEN', async () => {
    const c = await t.course(owner);
    const id = await create(c, 'Before');
    await t.courses.service.stop();
    const created = await t.gql(CREATE, { c, t: 'During' }, owner.token);
    expect(errorCode(created)).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(LESSON, { id }, owner.token))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(LESSONS, { c }, owner.token))).toBe('FORBIDDEN');
    expect((await t.media.lessons.ofCourses([c], false)).get(c)!.map((l) => l.title)).toEqual(['Before']);
  });
});
