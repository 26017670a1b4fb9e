import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { useStack } from '@dream/testenv';
import type { Gateway } from '../gateway/src/server';
import { PHONE, expectAccessible, launchChromium, liveSubscriptions, openPage, screenshot, signUp, startPlatform, videoSkipReason } from './harness';

jest.setTimeout(300000);

const skipVideo = videoSkipReason();
if (skipVideo) process.stdout.write(`upload-and-play journey skipped: ${skipVideo}\n`);
const videoTest = skipVideo ? test.skip : test;

const run = Math.random().toString(36).slice(2, 7);
const courseName = `Video basics ${run}`;
const LESSON = 'Colour bars';
const BROKEN = 'Broken upload';

/** Seconds of the test video, and of its HLS segments (the transcoder cuts every 4 s). */
const VIDEO_SECONDS = 48;
const SEGMENT_SECONDS = 4;
/** tus-js-client's chunk in the app: the test video spans three, so a cut can fall between two. */
const TUS_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * A test card with a tone, long enough that hls.js (30 s ahead by default) has not fetched its end when a
 * seek lands there, and big enough (constant 1.4 Mbit/s, about 8 MB) to take several tus chunks; 10 frames
 * a second keeps transcoding it short.
 */
function makeVideo(dir: string): string {
  const file = join(dir, 'testsrc.mp4');
  const ffmpeg = process.env.FFMPEG_PATH ?? 'ffmpeg';
  execFileSync(ffmpeg, [
    '-v', 'error',
    '-f', 'lavfi', '-i', `testsrc=duration=${VIDEO_SECONDS}:size=320x240:rate=10`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${VIDEO_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '1400k', '-minrate', '1400k', '-maxrate', '1400k', '-bufsize', '700k', '-x264-params', 'nal-hrd=cbr',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file,
  ]);
  expect(statSync(file).size).toBeGreaterThan(2 * TUS_CHUNK_BYTES);
  return file;
}

/** One tus request as the browser saw it: method, the Upload-Offset it sent, the status and Upload-Offset of the answer. */
interface TusExchange {
  method: string;
  sentOffset?: string;
  status: number | 'cut';
  answeredOffset?: string;
}

/**
 * Drops the first PATCH that does not start at 0 (a network cut between two chunks) and records every
 * tus request of the page, so the test can show how the upload went on after the cut.
 */
async function cutOnePatch(page: Page): Promise<TusExchange[]> {
  const log: TusExchange[] = [];
  let cut = false;
  const isTus = (url: string) => new URL(url).pathname.startsWith('/media/uploads');
  await page.route('**/media/uploads**', (route) => {
    const req = route.request();
    const sentOffset = req.headers()['upload-offset'];
    if (cut || req.method() !== 'PATCH' || !sentOffset || sentOffset === '0') return route.continue();
    cut = true;
    log.push({ method: 'PATCH', sentOffset, status: 'cut' });
    return route.abort('connectionreset');
  });
  page.on('response', (res) => {
    if (!isTus(res.url()) || res.request().method() === 'OPTIONS') return;
    log.push({ method: res.request().method(), sentOffset: res.request().headers()['upload-offset'], status: res.status(), answeredOffset: res.headers()['upload-offset'] });
  });
  return log;
}

/** Chooses `file` in the lesson row's "Upload video" file dialog. */
async function uploadThrough(page: Page, row: ReturnType<Page['locator']>, file: string | { name: string; mimeType: string; buffer: Buffer }) {
  const chooser = page.waitForEvent('filechooser');
  await row.getByRole('button', { name: 'Upload video' }).click();
  await (await chooser).setFiles(file);
}

// Browser-side code is written as strings: this file is type-checked for Node, without the DOM library.
/** Evaluates `expr` in the page with `v` bound to the player's <video>. */
const onVideo = <T>(page: Page, expr: string) => page.evaluate<T>(`(() => { const v = document.querySelector('video'); return ${expr}; })()`);
/**
 * Resolves when `expr` (with `v` the <video>) holds, checked on each media event that can change it.
 * (page.waitForFunction would compile the string in the page, which the app's CSP rightly forbids.)
 */
const untilVideo = (page: Page, expr: string) =>
  page.evaluate(`new Promise((resolve) => {
    const v = document.querySelector('video');
    const events = ['loadedmetadata', 'canplay', 'timeupdate', 'seeked', 'pause', 'ended'];
    const check = () => {
      if (!(${expr})) return;
      for (const e of events) v.removeEventListener(e, check);
      resolve(true);
    };
    for (const e of events) v.addEventListener(e, check);
    check();
  })`);
const PLAY_MUTED = 'v.muted = true, v.play().then(() => true)';

/**
 * Waits for the save that `action` causes (pause, end, page hide) and returns its answer; `which` picks
 * it by the report it carries when the player also saves on its own while the action lasts (every ~10 s).
 */
async function savedBy(page: Page, action: () => Promise<unknown>, which: (report: { positionSeconds: number }) => boolean = () => true, timeoutMs = 30000) {
  const saved = page.waitForResponse((r) => {
    if (!r.url().endsWith('/graphql')) return false;
    const body = JSON.parse(r.request().postData() ?? '{}') as { operationName?: string; variables?: { positionSeconds: number } };
    return body.operationName === 'RecordLessonProgress' && !!body.variables && which(body.variables);
  }, { timeout: timeoutMs });
  await action();
  const res = await saved;
  expect(res.status()).toBe(200);
  return ((await res.json()) as { data: { recordLessonProgress: { positionSeconds: number; completed: boolean } } }).data.recordLessonProgress;
}

describe('lessons and video in Chromium, on a real platform with media', () => {
  const stack = useStack();
  let gw: Gateway;
  let browser: Browser;
  let dir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    // the test video and the text file posing as one are made here and removed after
    dir = mkdtempSync(join(tmpdir(), 'dream-e2e-media-'));
    gw = await startPlatform(stack);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  test('an owner adds, renames, reorders and deletes lessons; students see only published ones', async () => {
    const o = await openPage(browser, gw.url);
    const s = await openPage(browser, gw.url);
    const name = `Lessons ${run}`;
    try {
      await signUp(o.page, { username: `lown_${run}`, email: `lown_${run}@example.org` }, { student: false, owner: true });
      await o.page.getByRole('link', { name: 'Create course' }).click();
      await o.page.getByLabel('Course name').fill(name);
      await o.page.getByLabel('Category').fill(`Lessons${run}`);
      await o.page.getByLabel('Price').fill('0');
      await o.page.getByRole('button', { name: 'Create course' }).click();
      await o.page.getByRole('heading', { name }).waitFor();
      await o.page.getByText('This course has no lesson yet').waitFor();
      await o.page.getByRole('link', { name: 'Edit it in the Studio' }).click();
      await o.page.getByText('No lesson yet').waitFor();
      for (const title of ['Intro', 'Setup', 'Wrap up']) {
        await o.page.getByLabel('Lesson title').fill(title);
        await o.page.getByRole('button', { name: 'Add lesson' }).click();
        await o.page.getByRole('status', { name: `Status of ${title}: No video yet` }).waitFor();
      }
      const list = o.page.getByRole('list', { name: 'Your lessons' });
      const order = () => list.locator('.lesson-title').allTextContents();
      await expect(order()).resolves.toEqual(['Intro', 'Setup', 'Wrap up']);

      await o.page.getByRole('button', { name: 'Rename Setup' }).click();
      await o.page.getByLabel('New title for Setup').fill('Install');
      await o.page.getByRole('button', { name: 'Save', exact: true }).click();
      await list.getByText('Install', { exact: true }).waitFor();
      await o.page.getByRole('button', { name: 'Move Wrap up up' }).click();
      await list.getByRole('listitem').nth(1).getByText('Wrap up', { exact: true }).waitFor();
      await expect(order()).resolves.toEqual(['Intro', 'Wrap up', 'Install']);
      await expect(o.page.getByRole('button', { name: 'Move Intro up' }).isDisabled()).resolves.toBe(true);
      await expect(o.page.getByRole('button', { name: 'Move Install down' }).isDisabled()).resolves.toBe(true);
      await o.page.getByRole('button', { name: 'Delete Intro' }).click();
      await o.page.getByRole('group', { name: 'Confirm deleting Intro' }).getByRole('button', { name: 'Yes, delete' }).click();
      await o.page.getByText('Deleted the lesson “Intro”.').waitFor();
      await list.getByText('Intro', { exact: true }).waitFor({ state: 'detached' });
      await expect(order()).resolves.toEqual(['Wrap up', 'Install']);
      await expectAccessible(o.page, 'studio lessons');
      await screenshot(o.page, 'studio-lessons-desktop');

      // the owner's course page lists every lesson with its status; a student sees none until one is READY
      await o.page.goto('/');
      await o.page.getByRole('link', { name }).click();
      await o.page.getByRole('heading', { name: 'Lessons', exact: true }).waitFor();
      await o.page.getByText('No video yet').first().waitFor();
      await expect(o.page.locator('.lesson-list li').count()).resolves.toBe(2);
      await signUp(s.page, { username: `lstu_${run}`, email: `lstu_${run}@example.org` }, { student: true, owner: false });
      await s.page.getByRole('link', { name }).click();
      await s.page.getByText('No lesson is published in this course yet.').waitFor();
      await expectAccessible(s.page, 'course page without lessons');
    } finally {
      problems.push(...o.problems, ...s.problems);
      await o.context.close();
      await s.context.close();
    }
  });

  videoTest('an owner uploads a video (through a network cut) and sees it READY live; a student sees the course appear live, buys, plays, seeks, resumes and completes it; the owner’s bell shows the purchase', async () => {
    const video = makeVideo(dir);
    const s = await openPage(browser, gw.url);
    const o = await openPage(browser, gw.url);
    const studentName = `vstu_${run}`;
    try {
      // the student waits on the catalogue, its live course lists and bell subscribed before the owner acts
      await signUp(s.page, { username: studentName, email: `${studentName}@example.org` }, { student: true, owner: false });
      await s.page.getByRole('heading', { name: 'Courses' }).waitFor();
      await liveSubscriptions(gw, 4);

      // the owner: a course, two lessons, a real video and a text file posing as one
      await signUp(o.page, { username: `vown_${run}`, email: `vown_${run}@example.org` }, { student: false, owner: true });
      await liveSubscriptions(gw, 5);
      await o.page.getByRole('link', { name: 'Create course' }).click();
      await o.page.getByLabel('Course name').fill(courseName);
      await o.page.getByLabel('Category').fill(`Video${run}`);
      await o.page.getByLabel('Price').fill('5');
      await o.page.getByRole('button', { name: 'Create course' }).click();
      // live: the student's catalogue shows the new course without a reload
      await s.page.getByRole('link', { name: courseName }).waitFor();

      await o.page.getByRole('link', { name: 'Edit it in the Studio' }).click();
      await o.page.getByText('No lesson yet').waitFor();
      await o.page.getByLabel('Lesson title').fill(LESSON);
      await o.page.getByRole('button', { name: 'Add lesson' }).click();
      await o.page.getByLabel('Lesson title').fill(BROKEN);
      await o.page.getByRole('button', { name: 'Add lesson' }).click();
      const row = (title: string) => o.page.getByRole('listitem').filter({ has: o.page.getByText(title, { exact: true }) });
      await row(BROKEN).waitFor();
      await expectAccessible(o.page, 'studio lessons');

      // the student's 4, the owner's bell and lessonUpdated: the statuses below arrive over graphql-ws
      await liveSubscriptions(gw, 6);
      // a network cut between two chunks: tus asks the server where it stopped (HEAD) and goes on from there
      const tus = await cutOnePatch(o.page);
      await uploadThrough(o.page, row(LESSON), video);
      await o.page.getByRole('status', { name: `Status of ${LESSON}: Ready` }).waitFor({ timeout: 180000 });
      const cutAt = tus.findIndex((x) => x.status === 'cut');
      expect(cutAt).toBeGreaterThan(0);
      const { sentOffset } = tus[cutAt];
      expect(Number(sentOffset) % TUS_CHUNK_BYTES).toBe(0);
      const after = tus.slice(cutAt + 1);
      // the server kept what came before the cut, and the upload resumed there rather than from 0
      expect(after.find((x) => x.method === 'HEAD')).toMatchObject({ status: 200, answeredOffset: sentOffset });
      expect(after.find((x) => x.method === 'PATCH')).toMatchObject({ sentOffset, status: 204 });
      expect(tus.filter((x) => x.method === 'PATCH' && x.status === 204).map((x) => Number(x.answeredOffset)).pop()).toBe(statSync(video).size);
      await expect(row(LESSON).getByText('The upload failed').count()).resolves.toBe(0);
      await screenshot(o.page, 'studio-lessons-desktop');

      await uploadThrough(o.page, row(BROKEN), { name: 'notes.mp4', mimeType: 'video/mp4', buffer: Buffer.from('these are my notes, not a video\n'.repeat(64)) });
      await row(BROKEN).getByRole('alert').filter({ hasText: 'Not a playable video file' }).first().waitFor();
      await o.page.getByRole('status', { name: `Status of ${BROKEN}: Failed` }).waitFor();
      await row(BROKEN).getByRole('button', { name: 'Retry' }).waitFor();

      // the student: buys the course, sees only the READY lesson
      await s.page.getByRole('link', { name: courseName }).click();
      await s.page.getByRole('button', { name: 'Buy' }).click();
      await s.page.getByText('You own this course').waitFor();
      await s.page.getByRole('link', { name: LESSON }).waitFor();
      await expect(s.page.getByText(BROKEN).count()).resolves.toBe(0);
      await s.page.getByText('0 % (0 of 1 lessons completed)').waitFor();

      // the owner's bell has the purchase, live
      await o.page.getByRole('button', { name: 'Notifications' }).click();
      await o.page.getByText(`${studentName} bought your course "${courseName}".`).waitFor();
      await o.page.keyboard.press('Escape');

      // the player: hls.js plays the lesson
      const media: Array<{ url: string; status: number }> = [];
      s.page.on('response', (r) => {
        if (new URL(r.url()).pathname.startsWith('/media/')) media.push({ url: r.url(), status: r.status() });
      });
      await s.page.getByRole('link', { name: LESSON }).click();
      await s.page.locator('video').waitFor();
      await untilVideo(s.page, 'v.readyState >= 3');
      await expectAccessible(s.page, 'player');
      await screenshot(s.page, 'player-desktop');

      // play (currentTime advances), pause (saved at once), reload: the player resumes there
      await onVideo(s.page, PLAY_MUTED);
      await untilVideo(s.page, 'v.currentTime > 1.5');
      const paused = await savedBy(s.page, () => onVideo(s.page, 'v.pause()'));
      expect(paused.positionSeconds).toBeGreaterThan(1.5);
      expect(paused.completed).toBe(false);
      expect(media.some((m) => /\.m3u8(\?|$)/.test(m.url) && m.status === 200)).toBe(true);
      expect(media.some((m) => /\.ts(\?|$)/.test(m.url) && (m.status === 200 || m.status === 206))).toBe(true);
      await s.page.reload();
      await s.page.locator('video').waitFor();
      await s.page.getByText(/^Resuming at 0:0[1-3]/).waitFor();
      await untilVideo(s.page, `Math.abs(v.currentTime - ${paused.positionSeconds}) < 1 && v.readyState >= 3`);

      // a seek past what hls.js has buffered (the player buffers 30 s ahead) is served by a request for
      // the segment it lands in
      const target = VIDEO_SECONDS - SEGMENT_SECONDS;
      await expect(onVideo<number>(s.page, 'v.buffered.end(v.buffered.length - 1)')).resolves.toBeLessThan(target);
      const segmentThere = s.page.waitForResponse((r) => {
        const m = /\/seg_(\d+)\.ts$/.exec(new URL(r.url()).pathname);
        return !!m && Number(m[1]) === target / SEGMENT_SECONDS;
      });
      await onVideo(s.page, `(v.currentTime = ${target}, true)`);
      expect([200, 206]).toContain((await segmentThere).status());
      await untilVideo(s.page, `v.readyState >= 3 && v.currentTime >= ${target}`);

      // watch from the start to the end (1.5×, within the server's 2× wall-clock rule): saved on end,
      // the lesson is completed and the course at 100 %
      const ended = await savedBy(
        s.page,
        async () => {
          await onVideo(s.page, `(v.currentTime = 0, v.playbackRate = 1.5, ${PLAY_MUTED})`);
          await untilVideo(s.page, 'v.ended');
        },
        (report) => report.positionSeconds >= VIDEO_SECONDS - 1,
        // the whole video at 1.5× must play before the end is saved
        (VIDEO_SECONDS / 1.5) * 1000 + 30000,
      );
      expect(ended.completed).toBe(true);
      await expect(onVideo<number>(s.page, 'v.duration')).resolves.toBeGreaterThan(VIDEO_SECONDS - 1);
      await s.page.getByText('✓ Lesson completed').waitFor();
      await s.page.getByText('100 % (1 of 1 lessons completed)').waitFor();
      await s.page.getByRole('list', { name: 'Lessons of this course' }).getByText('✓ Completed').waitFor();

      await s.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My learning' }).click();
      await s.page.getByRole('progressbar', { name: `Progress in ${courseName}` }).waitFor();
      await s.page.getByText('100 % (1 of 1 lessons completed)').waitFor();
      await expectAccessible(s.page, 'my learning with progress');

      // a phone's width: the player fits without sideways scrolling
      await s.page.setViewportSize(PHONE);
      await s.page.goBack();
      await s.page.locator('video').waitFor();
      await expect(s.page.evaluate<boolean>('document.documentElement.scrollWidth <= innerWidth')).resolves.toBe(true);
      await expectAccessible(s.page, 'player (phone)');
      await screenshot(s.page, 'player-phone');
    } finally {
      problems.push(...o.problems, ...s.problems);
      await o.context.close();
      await s.context.close();
    }
  });
});
