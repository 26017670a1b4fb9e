import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Gateway } from '../src/server';
import { WEB_CSP } from '../src/http/web-app';
import { useStack, gql, waitForPool } from './helpers';

jest.setTimeout(90000);

/** A raw GET (fetch would normalize `..` and encoded slashes away before they reach the server). */
function rawGet(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web app at / (WEB_ROOT)', () => {
  const stack = useStack();
  const root = mkdtempSync(join(tmpdir(), 'web-root-'));
  const outside = join(root, '..', `${root.split('/').pop()}-outside.txt`);
  const INDEX = '<!doctype html><title>app</title><script type="module" src="/assets/index-abc123.js"></script>';
  const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;
  let gw: Gateway;
  let unbuilt: Gateway;

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'assets', 'index-abc123.js'), SCRIPT);
    writeFileSync(join(root, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(outside, 'TOP-SECRET-CONTENT');
    await stack.addCourses();
    await stack.addUsers();
    gw = await stack.gateway({ WEB_ROOT: root });
    unbuilt = await stack.gateway({ WEB_ROOT: join(root, 'not-built') });
    await gw.ready();
    await waitForPool(gw, 'courses', 1);
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { force: true });
  });

  test('index.html at / with the app CSP, revalidated on each load, and answered 304 when unchanged', async () => {
    const r = await rawGet(gw, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toBe(WEB_CSP);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body.toString()).toBe(INDEX);
    const again = await rawGet(gw, '/', { 'if-none-match': String(r.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  test('client-side routes get index.html (history fallback); a missing file is a 404, not HTML', async () => {
    for (const path of ['/login', '/course/abc-123', '/studio/new?x=1', '/learning/']) {
      const r = await rawGet(gw, path);
      expect({ path, status: r.status, body: r.body.toString() }).toEqual({ path, status: 200, body: INDEX });
    }
    const missing = await rawGet(gw, '/assets/index-old999.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/json/);
  });

  test('hashed assets are immutable, typed and gzip-compressed on request', async () => {
    const js = await rawGet(gw, '/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(js.body).toString()).toBe(SCRIPT);
    const plain = await rawGet(gw, '/assets/index-abc123.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
    expect((await rawGet(gw, '/assets/index-abc123.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await rawGet(gw, '/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache'); // not hashed: revalidated
  });

  test('no path leaves the root: dot segments, encoded slashes, backslashes and NUL', async () => {
    const name = outside.split('/').pop()!;
    for (const path of [`/../${name}`, `/..%2f${name}`, `/%2e%2e/${name}`, `/assets/..%2f..%2f${name}`, `/..%5c${name}`, '/%00index.html', '/%E0%A4%A']) {
      const r = await rawGet(gw, path);
      expect({ path, status: r.status }).toEqual({ path, status: expect.any(Number) });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.toString()).not.toContain('TOP-SECRET');
    }
  });

  test('the API keeps its own answers: /graphql, /api, /courses, /health are never the app', async () => {
    expect((await gql(gw, '{ categories }')).body.data).toEqual({ categories: [] });
    const api = await rawGet(gw, '/api/nothing-here');
    expect(api.status).toBe(404);
    expect(JSON.parse(api.body.toString()).error.code).toBe('NOT_FOUND');
    const wsPath = await rawGet(gw, '/courses/some-owner'); // the WS course list: 426 Upgrade Required
    expect(wsPath.status).toBe(426);
    expect(wsPath.body.toString()).not.toContain('<!doctype');
    expect((await rawGet(gw, '/health')).status).toBe(200);
    const landing = await rawGet(gw, '/graphql', { accept: 'text/html' });
    expect(landing.headers['content-security-policy']).not.toBe(WEB_CSP);
    const post = await fetch(`${gw.url}/login`, { method: 'POST' });
    expect(post.status).toBe(404); // only GET and HEAD reach the app
  });

  test('without a build, / says how to build the app', async () => {
    const r = await rawGet(unbuilt, '/');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body.toString()).error.message).toMatch(/npm run build -w web/);
  });
});

test('the app CSP gives the player only what hls.js needs: blob: media and workers, nothing cross-origin, no eval', () => {
  const directives = new Map(WEB_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
  expect(directives.get('media-src')).toEqual(["'self'", 'blob:']);
  expect(directives.get('worker-src')).toEqual(["'self'", 'blob:']);
  expect(directives.get('script-src')).toEqual(["'self'"]);
  // playlists, segments and tus uploads are same-origin /media/ requests
  expect(directives.get('connect-src')).toEqual(["'self'"]);
  expect(WEB_CSP).not.toMatch(/\*|unsafe-eval|unsafe-inline|https?:/);
});
