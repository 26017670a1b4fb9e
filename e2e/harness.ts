import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { waitFor } from '@dream/common/testing';
import { REPO_ROOT, waitForPool, type Stack } from '@dream/testenv';
import type { Gateway } from '../gateway/src/server';

/** Every account the journeys make has this password. */
export const PASSWORD = 'correct horse battery';

export const WEB_DIST = join(REPO_ROOT, 'web', 'dist');
export const SCREENSHOTS = join(REPO_ROOT, 'docs', 'screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Why the upload-and-play journey cannot run here (ffmpeg makes its test video), or undefined when it can. */
export function videoSkipReason(): string | undefined {
  if (!existsSync(process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg')) return 'ffmpeg is missing: apt-get install -y ffmpeg';
  return undefined;
}

/**
 * The real platform on free ports in the suite's stack (`useStack()`, which stops it): Redis, discovery,
 * the users, courses and media subgraphs, media's transcoding worker, and the gateway serving the built
 * app, with TRUSTED_DOCUMENTS=required: every operation the app sends must be in the build's manifest,
 * so these journeys also prove the manifest is complete. Call it in beforeAll.
 */
export async function startPlatform(stack: Stack): Promise<Gateway> {
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error('web/dist is not built: run `npm run build -w web` (npm run test:e2e does)');
  // courses announces its gRPC address: media and its worker find it through discovery, as in production
  await stack.subgraph('courses', { grpc: true });
  await stack.subgraph('users', { env: stack.coursesGrpc() });
  // media announces itself, so the gateway proxies its /media/ routes (tus uploads, playback)
  await stack.subgraph('media', { discover: true, register: false });
  await stack.mediaWorker({ discover: true });
  const gw = await stack.gateway({ WEB_ROOT: WEB_DIST, TRUSTED_DOCUMENTS: 'required', ACCESS_LOG: 'false', SUBGRAPHS: 'users,courses,media' });
  await gw.ready();
  await waitFor(() => gw.supergraph.subgraphs.length === 3, { what: 'the three subgraphs composed', timeoutMs: 20000 });
  await waitForPool(gw, 'courses', 1, 20000);
  await waitForPool(gw, 'users', 1, 20000);
  await waitForPool(gw, 'media', 1, 20000);
  await waitFor(() => gw.prefixRoutes.match('/media/uploads') !== undefined, { what: 'the /media/ prefix routed', timeoutMs: 20000 });
  return gw;
}

/**
 * Debian's Chromium (CHROMIUM_PATH to use another), headless and offline apart from our server.
 * playwright-core gives each launch a fresh temporary user-data-dir and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

/** A context whose page fails the test on any uncaught error or CSP violation in the app. */
export async function openPage(browser: Browser, baseURL: string, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ baseURL, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

/** axe-core on the page as it is: the serious and critical violations (none are allowed). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false, animations: 'disabled' });
}

/** Waits until the gateway has at least `n` live graphql-ws subscriptions (so events are caused after). */
export const liveSubscriptions = (gw: Gateway, n: number) =>
  waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= n, { what: `${n} live subscriptions`, timeoutMs: 15000 });

/** Signs up through the form (from the catalogue's "Sign up" link) with the roles given, and waits to be signed in. */
export async function signUp(page: Page, who: { username: string; email: string }, roles: { student: boolean; owner: boolean }) {
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('learn (student)').setChecked(roles.student);
  await page.getByLabel('teach (course owner)').setChecked(roles.owner);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Fails the test on any serious or critical axe violation of the page as it is. */
export async function expectAccessible(page: Page, what: string) {
  expect({ page: what, violations: await seriousViolations(page) }).toEqual({ page: what, violations: [] });
}
