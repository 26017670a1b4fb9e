import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Stack } from '@dream/testenv';
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

/** A 4 s test card with a tone, small enough to transcode in seconds (the 90 % rule completes it when watched). */
function makeVideo(dir: string): string {
  const file = join(dir, 'testsrc.mp4');
  const ffmpeg = process.env.FFMPEG_PATH ?? 'ffmpeg';
  execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=4:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file]);
  return file;
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

/** Waits for the save that `action` causes (pause, end, page hide) and returns its answer. */
async function savedBy(page: Page, action: () => Promise<unknown>) {
  const saved = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('RecordLessonProgress'));
  await action();
  const res = await saved;
  expect(res.status()).toBe(200);
  return ((await res.json()) as { data: { recordLessonProgress: { positionSeconds: number; completed: boolean } } }).data.recordLessonProgress;
}

describe('lessons and video in Chromium, on a real platform with media', () => {
  let stack: Stack;
  let gw: Gateway;
  let browser: Browser;
  let dir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    // the test video and the text file posing as one are made here and removed after
    dir = mkdtempSync(join(tmpdir(), 'dream-e2e-media-'));
    ({ stack, gw } = await startPlatform());
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
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

  videoTest('an owner uploads a video and sees it become READY live; a student buys, plays, resumes and completes it', async () => {
    const video = makeVideo(dir);
    const o = await openPage(browser, gw.url);
    const s = await openPage(browser, gw.url);
    try {
      // the owner: a course, two lessons, a real video and a text file posing as one
      await signUp(o.page, { username: `vown_${run}`, email: `vown_${run}@example.org` }, { student: false, owner: true });
      await o.page.getByRole('link', { name: 'Create course' }).click();
      await o.page.getByLabel('Course name').fill(courseName);
      await o.page.getByLabel('Category').fill(`Video${run}`);
      await o.page.getByLabel('Price').fill('5');
      await o.page.getByRole('button', { name: 'Create course' }).click();
      await o.page.getByRole('link', { name: 'Edit it in the Studio' }).click();
      await o.page.getByText('No lesson yet').waitFor();
      await o.page.getByLabel('Lesson title').fill(LESSON);
      await o.page.getByRole('button', { name: 'Add lesson' }).click();
      await o.page.getByLabel('Lesson title').fill(BROKEN);
      await o.page.getByRole('button', { name: 'Add lesson' }).click();
      const row = (title: string) => o.page.getByRole('listitem').filter({ has: o.page.getByText(title, { exact: true }) });
      await row(BROKEN).waitFor();
      await expectAccessible(o.page, 'studio lessons');

      await liveSubscriptions(gw, 2); // the bell and lessonUpdated: the statuses below arrive over graphql-ws
      await uploadThrough(o.page, row(LESSON), video);
      await o.page.getByRole('status', { name: `Status of ${LESSON}: Ready` }).waitFor({ timeout: 120000 });
      await screenshot(o.page, 'studio-lessons-desktop');

      await uploadThrough(o.page, row(BROKEN), { name: 'notes.mp4', mimeType: 'video/mp4', buffer: Buffer.from('these are my notes, not a video\n'.repeat(64)) });
      await row(BROKEN).getByRole('alert').filter({ hasText: 'Not a playable video file' }).first().waitFor();
      await o.page.getByRole('status', { name: `Status of ${BROKEN}: Failed` }).waitFor();
      await row(BROKEN).getByRole('button', { name: 'Retry' }).waitFor();

      // the student: buys the course, sees only the READY lesson, plays it through hls.js
      await signUp(s.page, { username: `vstu_${run}`, email: `vstu_${run}@example.org` }, { student: true, owner: false });
      await s.page.getByRole('link', { name: courseName }).click();
      await s.page.getByRole('button', { name: 'Buy' }).click();
      await s.page.getByText('You own this course').waitFor();
      await s.page.getByRole('link', { name: LESSON }).waitFor();
      await expect(s.page.getByText(BROKEN).count()).resolves.toBe(0);
      await s.page.getByText('0 % (0 of 1 lessons completed)').waitFor();
      const media: Array<{ url: string; status: number }> = [];
      s.page.on('response', (r) => {
        if (new URL(r.url()).pathname.startsWith('/media/')) media.push({ url: r.url(), status: r.status() });
      });
      await s.page.getByRole('link', { name: LESSON }).click();
      await s.page.locator('video').waitFor();
      await untilVideo(s.page, 'v.readyState >= 3');
      await expectAccessible(s.page, 'player');
      await screenshot(s.page, 'player-desktop');

      // play until about half way, pause (saved at once), reload: the player resumes there
      await onVideo(s.page, PLAY_MUTED);
      await untilVideo(s.page, 'v.currentTime > 1.5');
      const paused = await savedBy(s.page, () => onVideo(s.page, 'v.pause()'));
      expect(paused.positionSeconds).toBeGreaterThan(1.5);
      expect(paused.completed).toBe(false);
      expect(media.some((m) => /\.(m3u8)(\?|$)/.test(m.url) && m.status === 200)).toBe(true);
      expect(media.some((m) => /\.(ts|m4s|mp4)(\?|$)/.test(m.url) && (m.status === 200 || m.status === 206))).toBe(true);
      await s.page.reload();
      await s.page.locator('video').waitFor();
      await s.page.getByText(/^Resuming at 0:0[1-3]/).waitFor();
      await untilVideo(s.page, `Math.abs(v.currentTime - ${paused.positionSeconds}) < 1`);

      // watch to the end: saved on end, the lesson is completed and the course at 100 %
      const ended = await savedBy(s.page, async () => {
        await onVideo(s.page, `(v.currentTime = 0, ${PLAY_MUTED})`);
        await untilVideo(s.page, 'v.ended');
      });
      expect(ended.completed).toBe(true);
      await expect(onVideo<number>(s.page, 'v.duration')).resolves.toBeGreaterThan(3);
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
      await screenshot(s.page, 'player-phone');
    } finally {
      problems.push(...o.problems, ...s.problems);
      await o.context.close();
      await s.context.close();
    }
  });
});
