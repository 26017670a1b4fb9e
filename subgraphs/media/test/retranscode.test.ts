import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useStack, type MediaWorker } from '@dream/testenv';
import { waitFor } from '@dream/common/testing';
import { DELETE as DELETE_COURSE } from '../../courses/test/helpers';
import type { Lesson } from '../src/lessons/lesson';
import { assetKeys } from '../src/media-files';
import { ffmpegWrappers } from './fixtures/transcode-media';
import { makeTestVideo } from './helpers/files';
import { startS3 } from './helpers/s3';
import { errorCode, mediaFixtures, type TestMedia, type TestUser } from './helpers';

jest.setTimeout(300_000);

const CREATE = `mutation($c: ID!, $t: String!) { createLesson(courseId: $c, title: $t) { id } }`;
const RETRANSCODE = `mutation($id: ID!) { retranscodeLesson(lessonId: $id) { id status failureReason } }`;
const DELETE = `mutation($id: ID!) { deleteLesson(id: $id) { id } }`;
const PLAYBACK = `query($id: ID!) { lesson(id: $id) { status failureReason playback { hlsUrl mp4Url posterUrl } } }`;

type Urls = { hlsUrl: string; mp4Url: string; posterUrl: string };

const stack = useStack({ discovery: false, serviceAuth: true });
let video: string;
beforeAll(async () => {
  video = await makeTestVideo(stack.dir, { seconds: 3 });
});

/**
 * Every transcode of a video that is being served is a new asset: a failure leaves the old one served
 * whole, a success switches the lesson, then the old files go. Checked on both storage backends, with a
 * real worker whose ffmpeg fails while a flag file exists.
 */
describe.each([
  ['local disk', async (): Promise<Record<string, string>> => ({})],
  [
    's3 (s3rver)',
    async (): Promise<Record<string, string>> => {
      const s3 = await startS3(stack.d, 'retranscode');
      return { MEDIA_STORAGE: 's3', MEDIA_S3_BUCKET: s3.bucket, MEDIA_S3_ENDPOINT: s3.endpoint, MEDIA_S3_ACCESS_KEY_ID: 'S3RVER', MEDIA_S3_SECRET_ACCESS_KEY: 'S3RVER', MEDIA_S3_PREFIX: 'media' };
    },
  ],
])('retranscoding on %s', (name, storageEnv) => {
  let t: TestMedia;
  let owner: TestUser;
  let failFlag: string;
  let worker: MediaWorker | undefined;

  beforeAll(async () => {
    const tag = name.replace(/\W+/g, '-');
    const ffmpeg = ffmpegWrappers.failsWhile(join(stack.dir, `ffmpeg-${tag}`), join(stack.dir, `fail-${tag}`));
    failFlag = join(stack.dir, `fail-${tag}`);
    const env = {
      ...(await storageEnv()),
      MEDIA_DIR: join(stack.dir, `media-${tag}`),
      FFMPEG_PATH: ffmpeg.path,
      MEDIA_TRANSCODE_ATTEMPTS: '2',
      MEDIA_TRANSCODE_BACKOFF_MS: '50',
    };
    t = await mediaFixtures(stack, env);
    // one worker per backend at a time: both share the stack's Redis, so they would take each other's jobs
    worker = await stack.mediaWorker({ env: { ...stack.coursesGrpc(), ...env } });
    owner = t.user(['OWNER'], `owner${tag}`.slice(0, 20));
  });
  afterEach(() => rmSync(failFlag, { force: true }));
  afterAll(() => worker?.stop());

  const lessonRow = async (id: string) => (await t.media.lessons.findById(id)) as Lesson;
  const settled = (id: string) =>
    waitFor(async () => ((await lessonRow(id)).pendingAssetId === null ? lessonRow(id) : undefined), { timeoutMs: 200_000, what: 'the transcode settled' });
  /** Files are removed after the lesson switched (never before): wait for the removal to end. */
  const removed = (prefix: string) => waitFor(async () => (await t.media.storage.usedBytes(prefix)) === 0, { timeoutMs: 30_000, what: `${prefix} removed` });
  const absolute = (url: string) => new URL(url, t.media.url).href;

  async function playback(id: string): Promise<Urls> {
    const r = await t.gql(PLAYBACK, { id }, owner.token);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.lesson.playback as Urls;
  }

  /** Status and bytes of the master playlist, a 360p segment, the MP4 and the poster. */
  async function fetchAll(urls: Urls) {
    const get = async (url: string) => {
      const res = await fetch(absolute(url));
      return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const master = await get(urls.hlsUrl);
    const rendition = await get(urls.hlsUrl.replace(/master\.m3u8$/, '360p/index.m3u8'));
    const segment = rendition.bytes.toString('utf8').split('\n').find((l) => l.endsWith('.ts'));
    const seg = segment ? await get(urls.hlsUrl.replace(/master\.m3u8$/, `360p/${segment}`)) : { status: 0, bytes: Buffer.alloc(0) };
    const mp4 = await get(urls.mp4Url);
    const poster = await get(urls.posterUrl);
    return { statuses: [master.status, rendition.status, seg.status, mp4.status, poster.status], segment: seg.bytes };
  }

  /** A lesson READY on a real transcode of the test video. */
  async function readyLesson(courseId: string, title: string): Promise<Lesson> {
    const r = await t.gql(CREATE, { c: courseId, t: title }, owner.token);
    const id = r.body.data!.createLesson.id as string;
    const { assetId } = await t.media.lessons.issueUpload(await lessonRow(id), 10_000_000, new Date(Date.now() + 60_000).toISOString());
    const key = assetKeys.source(id, assetId);
    await t.media.storage.putFile(key, video);
    await t.media.lifecycle.uploadReceived(id, assetId, { key, sizeBytes: 1 });
    const lesson = await settled(id);
    expect(lesson).toMatchObject({ status: 'READY', currentAssetId: assetId, failureReason: null });
    return lesson;
  }

  test('a failed retranscode keeps the lesson READY on its old video, which still plays', async () => {
    const courseId = await t.course(owner);
    const before = await readyLesson(courseId, 'Keeps playing');
    const urls = await playback(before.id);
    const first = await fetchAll(urls);
    expect(first.statuses).toEqual([200, 200, 200, 200, 200]);

    writeFileSync(failFlag, '');
    const r = await t.gql(RETRANSCODE, { id: before.id }, owner.token);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.retranscodeLesson).toEqual({ id: before.id, status: 'READY', failureReason: null });
    const retrying = await lessonRow(before.id);
    expect(retrying.pendingAssetId).not.toBe(before.currentAssetId);
    const failed = await settled(before.id);

    expect(failed).toMatchObject({ status: 'READY', currentAssetId: before.currentAssetId, durationSeconds: before.durationSeconds });
    expect(failed.failureReason).toMatch(/^Retranscoding failed: .+ The previous video is still served\.$/);
    const again = await fetchAll(urls);
    expect(again.statuses).toEqual([200, 200, 200, 200, 200]);
    expect(again.segment.equals(first.segment)).toBe(true);
    // the failed attempt left nothing behind; the played asset kept its source for a later retranscode
    await removed(`lessons/${before.id}/${retrying.pendingAssetId}`);
    expect(await t.media.storage.stat(assetKeys.source(before.id, before.currentAssetId!))).not.toBeNull();
    expect((await t.gql(PLAYBACK, { id: before.id }, owner.token)).body.data!.lesson).toMatchObject({ status: 'READY', failureReason: failed.failureReason });

    // a retranscode that works switches the lesson and only then removes the old asset's files
    rmSync(failFlag);
    await t.gql(RETRANSCODE, { id: before.id }, owner.token);
    const switched = await settled(before.id);
    expect(switched).toMatchObject({ status: 'READY', failureReason: null });
    expect(switched.currentAssetId).not.toBe(before.currentAssetId);
    await removed(`lessons/${before.id}/${before.currentAssetId}`);
    // the quota counts the source the lesson plays once, not once per transcode it went through
    expect(await t.media.lessons.storedBytesOf(owner.id)).toBe(1);
    expect((await fetchAll(await playback(before.id))).statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await fetch(absolute(urls.hlsUrl))).status).toBe(403);
  });

  test('deleting a lesson, and a course, removes the files of every asset', async () => {
    const courseId = await t.course(owner);
    const lesson = await readyLesson(courseId, 'Deleted');
    // a second asset: a retranscode that is still on its way when the lesson goes
    writeFileSync(failFlag, '');
    await t.gql(RETRANSCODE, { id: lesson.id }, owner.token);
    expect((await lessonRow(lesson.id)).pendingAssetId).not.toBeNull();
    expect(await t.media.storage.usedBytes(`lessons/${lesson.id}`)).toBeGreaterThan(0);
    expect((await t.gql(DELETE, { id: lesson.id }, owner.token)).body.errors).toBeUndefined();
    await removed(`lessons/${lesson.id}`);
    rmSync(failFlag);

    const other = await readyLesson(courseId, 'Course goes');
    const deleted = await t.courses.gql(DELETE_COURSE, { id: courseId }, owner.token);
    expect(deleted.body.errors).toBeUndefined();
    await waitFor(async () => (await lessonRow(other.id)) === undefined, { timeoutMs: 30_000, what: 'the course deletion reached media' });
    await removed(`lessons/${other.id}`);
    expect(errorCode(await t.gql(RETRANSCODE, { id: other.id }, owner.token))).toBe('NOT_FOUND');
  });
});
