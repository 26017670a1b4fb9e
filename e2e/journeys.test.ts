import type { Browser, Page } from 'playwright-core';
import { useStack } from '@dream/testenv';
import type { Gateway } from '../gateway/src/server';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, PHONE, WEB_DIST, expectAccessible, launchChromium, liveSubscriptions, openPage, screenshot, signUp, startPlatform } from './harness';

jest.setTimeout(240000);

const run = Math.random().toString(36).slice(2, 7);
const student = { username: `stu_${run}`, email: `stu_${run}@example.org` };
const owner = { username: `own_${run}`, email: `own_${run}@example.org` };
const courseName = `Rust from zero ${run}`;

describe('the web app in Chromium, on a real platform', () => {
  const stack = useStack();
  let gw: Gateway;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    gw = await startPlatform(stack);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    // no uncaught error and no CSP refusal on any page of any journey
    expect(problems.splice(0)).toEqual([]);
  });

  test('an owner publishes a course; a student sees it appear live, buys it and finds it in My learning; the owner’s bell shows the purchase', async () => {
    const s = await openPage(browser, gw.url);
    const o = await openPage(browser, gw.url);
    try {
      await s.page.goto('/');
      await s.page.getByText('No course has been published yet').waitFor();
      await screenshot(s.page, 'catalogue-empty-desktop');
      await s.page.getByRole('link', { name: 'Sign up' }).click();
      await expectAccessible(s.page, 'sign up');
      await screenshot(s.page, 'signup-desktop');
      await signUp(s.page, student, { student: true, owner: false });
      await s.page.getByRole('heading', { name: 'Courses' }).waitFor();
      // the catalogue's three course subscriptions and the bell are live before the owner acts
      await liveSubscriptions(gw, 4);

      await signUp(o.page, owner, { student: false, owner: true });
      await o.page.getByRole('heading', { name: 'Studio' }).waitFor();
      await o.page.getByText('You have not published a course yet').waitFor();
      await expectAccessible(o.page, 'studio (empty)');
      await liveSubscriptions(gw, 5);
      await o.page.getByRole('link', { name: 'Create course' }).click();
      await o.page.getByLabel('Course name').fill(courseName);
      await o.page.getByLabel('Description').fill('Ownership, borrowing and lifetimes, one small program at a time.\n\nNo experience needed.');
      await o.page.getByLabel('Category').fill('Programming');
      await o.page.getByLabel('Price').fill('19.99');
      await expectAccessible(o.page, 'create course');
      await screenshot(o.page, 'studio-create-desktop');
      await o.page.getByRole('button', { name: 'Create course' }).click();
      await o.page.getByRole('heading', { name: courseName }).waitFor();
      await o.page.getByText('This is your course.').waitFor();

      // live: the student's catalogue shows the card without a reload
      const card = s.page.getByRole('link', { name: courseName });
      await card.waitFor();
      await s.page.getByText(`New course: ${courseName}`).waitFor();
      await expectAccessible(s.page, 'catalogue');
      await screenshot(s.page, 'catalogue-desktop');

      await card.click();
      await s.page.getByRole('heading', { name: courseName }).waitFor();
      await s.page.getByText(`by ${owner.username}`).waitFor();
      await s.page.getByText('$19.99').first().waitFor();
      await expectAccessible(s.page, 'course page');
      await screenshot(s.page, 'course-desktop');
      await s.page.getByRole('button', { name: 'Buy' }).click();
      await s.page.getByText('You own this course.').waitFor();

      // the owner's bell fills live with the purchase
      await o.page.getByTestId('unread-count').filter({ hasText: '1' }).waitFor();
      await o.page.getByRole('button', { name: 'Notifications' }).click();
      await o.page.getByText(`${student.username} bought your course "${courseName}".`).waitFor();
      await expectAccessible(o.page, 'notifications open');
      await screenshot(o.page, 'notifications-desktop');
      await o.page.keyboard.press('Escape');
      await o.page.getByTestId('unread-count').waitFor({ state: 'detached' });

      await s.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My learning' }).click();
      await s.page.getByRole('heading', { name: 'My learning' }).waitFor();
      await s.page.getByRole('list', { name: 'Your courses' }).getByRole('link', { name: courseName }).waitFor();
      await expectAccessible(s.page, 'my learning');
      await screenshot(s.page, 'my-learning-desktop');

      // the session survives a reload
      await s.page.reload();
      await s.page.getByRole('button', { name: 'Log out' }).waitFor();
      await s.page.getByRole('link', { name: courseName }).waitFor();

      // the owner edits the course: the student's open course page follows live
      await s.page.getByRole('link', { name: courseName }).click();
      await s.page.getByText('You own this course.').waitFor();
      await o.page.goto('/studio');
      await o.page.getByRole('link', { name: courseName, exact: true }).waitFor();
      await screenshot(o.page, 'studio-desktop');
      await o.page.getByRole('link', { name: `Edit ${courseName}` }).click();
      await o.page.getByLabel('Price').fill('24.50');
      await o.page.getByRole('button', { name: 'Save changes' }).click();
      await o.page.getByText('Saved.').waitFor();
      await s.page.getByText('$24.50').first().waitFor();

      // log out: back to log in; logging in again works
      await o.page.getByRole('button', { name: 'Log out' }).click();
      await o.page.getByRole('heading', { name: 'Log in' }).waitFor();
      await expectAccessible(o.page, 'log in');
      await screenshot(o.page, 'login-desktop');
      await o.page.getByLabel('Username').fill(owner.username);
      await o.page.getByLabel('Password').fill(PASSWORD);
      await o.page.getByRole('button', { name: 'Log in' }).click();
      await o.page.getByRole('button', { name: 'Log out' }).waitFor();
    } finally {
      problems.push(...s.problems, ...o.problems);
      await s.context.close();
      await o.context.close();
    }
  });

  test('a wrong password is answered in words, and the form stays usable', async () => {
    const { context, page, problems: p } = await openPage(browser, gw.url);
    try {
      await page.goto('/login');
      await page.getByLabel('Username').fill(student.username);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toBe('Invalid username or password.');
      await expectAccessible(page, 'log in with an error');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
    } finally {
      problems.push(...p);
      await context.close();
    }
  });

  test('a refusal (403) is shown as a message: an owner-only account tries to buy', async () => {
    const { context, page, problems: p } = await openPage(browser, gw.url);
    try {
      await signUp(page, { username: `own2_${run}`, email: `own2_${run}@example.org` }, { student: false, owner: true });
      await page.goto('/');
      await page.getByRole('link', { name: courseName }).click();
      await page.getByRole('button', { name: 'Buy' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toBe('Could not buy the course: Only a user with the STUDENT role can buy courses.');
      await expectAccessible(page, 'course page with an error');
      // a student-only page for this account: a message, not a blank page
      await page.goto('/learning');
      await page.getByText('This page is for students').waitFor();
    } finally {
      problems.push(...p);
      await context.close();
    }
  });

  test('a revoked token takes the person back to log in with a message', async () => {
    const { context, page, problems: p } = await openPage(browser, gw.url);
    try {
      await page.goto('/login');
      await page.getByLabel('Username').fill(student.username);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My learning' }).click();
      await page.getByRole('link', { name: courseName }).waitFor();
      // revoke this browser's token elsewhere (as a log out on another device would)
      // (expressions as strings: this file is type-checked for Node, without the DOM library)
      const stored = await page.evaluate<string | null>("localStorage.getItem('dream-and-study.session')");
      const jwt = (JSON.parse(stored ?? '{}') as { jwt?: string }).jwt;
      const manifest = JSON.parse(readFileSync(join(WEB_DIST, 'trusted-documents.json'), 'utf8')) as Record<string, string>;
      const logOut = Object.values(manifest).find((doc) => doc.startsWith('mutation LogOut'));
      const revoked = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ query: logOut }),
      });
      expect(await revoked.json()).toEqual({ data: { logout: true } });
      await page.reload();
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.getByText('Your session has ended').waitFor();
      expect(new URL(page.url()).pathname).toBe('/login');
    } finally {
      problems.push(...p);
      await context.close();
    }
  });

  test('every page works at a phone’s width (390 px): no sideways scrolling, no serious accessibility problem', async () => {
    const { context, page, problems: p } = await openPage(browser, gw.url, PHONE);
    const fits = async (what: string) => {
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect({ what, width }).toEqual({ what, width: PHONE.width });
    };
    try {
      await page.goto('/signup');
      await fits('sign up');
      await screenshot(page, 'signup-phone');
      await signUp(page, { username: `both_${run}`, email: `both_${run}@example.org` }, { student: true, owner: true });
      await page.getByRole('link', { name: courseName }).waitFor();
      await fits('catalogue');
      await expectAccessible(page, 'catalogue (phone)');
      await screenshot(page, 'catalogue-phone');
      await page.getByRole('link', { name: courseName }).click();
      await page.getByRole('button', { name: 'Buy' }).click();
      await page.getByText('You own this course.').waitFor();
      await fits('course');
      await expectAccessible(page, 'course (phone)');
      await screenshot(page, 'course-phone');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My learning' }).click();
      await page.getByRole('list', { name: 'Your courses' }).getByRole('link', { name: courseName }).waitFor();
      await fits('my learning');
      await screenshot(page, 'my-learning-phone');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Studio' }).click();
      await page.getByRole('link', { name: 'Create course' }).click();
      await page.getByLabel('Course name').fill(`Phone course ${run}`);
      await page.getByLabel('Category').fill('Mobile');
      await page.getByLabel('Price').fill('0');
      await page.getByRole('button', { name: 'Create course' }).click();
      await page.getByText('This is your course.').waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Studio' }).click();
      await page.getByRole('link', { name: `Phone course ${run}`, exact: true }).waitFor();
      await fits('studio');
      await expectAccessible(page, 'studio (phone)');
      await screenshot(page, 'studio-phone');
      // delete with the inline confirmation
      await page.getByRole('button', { name: `Delete Phone course ${run}` }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await page.getByText('deleted successfully').waitFor();
      await page.getByRole('link', { name: `Phone course ${run}`, exact: true }).waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Notifications' }).click();
      await fits('notifications');
      await screenshot(page, 'notifications-phone');
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await fits('log in');
      await screenshot(page, 'login-phone');
    } finally {
      problems.push(...p);
      await context.close();
    }
  });

  test('search, category filter and pages in the catalogue', async () => {
    const { context, page, problems: p } = await openPage(browser, gw.url);
    try {
      // 13 more courses through the API (one more than a page)
      const signup = await fetch(`${gw.url}/api/user/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `bulk_${run}`, password: PASSWORD, email: `bulk_${run}@example.org`, roles: 'OWNER' }),
      });
      expect(signup.status).toBe(201);
      const { jwt } = (await signup.json()) as { jwt: string };
      for (let i = 0; i < 13; i++) {
        const r = await fetch(`${gw.url}/api/course`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', jwt },
          body: JSON.stringify({ courseName: `Bulk ${i} ${run}`, courseInfo: 'x', courseCathegory: 'Bulk', price: '1' }),
        });
        expect(r.status).toBe(201);
      }
      await page.goto('/');
      await page.getByRole('list', { name: 'Courses' }).waitFor();
      await page.getByRole('button', { name: 'Next page' }).click({ timeout: 5000 }).catch(async (e: Error) => {
        throw new Error(`${e.message}\nthe page shows: ${await page.locator('main').innerText()}`);
      });
      await page.getByText('Page 2').waitFor();
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.getByText('Page 1').waitFor();
      await page.getByLabel('Search by name').fill('rust FROM');
      await page.getByRole('list', { name: 'Courses' }).getByRole('link', { name: courseName }).waitFor();
      await expect(page.getByRole('list', { name: 'Courses' }).getByRole('link').count()).resolves.toBe(1);
      await page.getByLabel('Search by name').fill('no such course at all');
      await page.getByText('No course matches').waitFor();
      await page.getByLabel('Search by name').fill('');
      await page.getByLabel('Filter by category').selectOption('Bulk');
      await page.getByRole('button', { name: 'Next page' }).waitFor();
      await expect(page.getByRole('list', { name: 'Courses' }).getByRole('link').count()).resolves.toBe(12);
    } finally {
      problems.push(...p);
      await context.close();
    }
  });
});
