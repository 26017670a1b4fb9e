/**
 * GraphiQL at /graphiql, served offline: the page and every asset come from the gateway (npm packages),
 * reference no other host, run under a strict CSP, and a real browser (Debian's chromium, headless)
 * renders the IDE from them. /graphql keeps Apollo Sandbox.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GRAPHIQL_CSP } from '../src/http/graphiql';
import type { Gateway } from '../src/server';
import { useStack } from './helpers';

jest.setTimeout(120_000);

const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);

/** Every URL a document or stylesheet asks the browser to load. */
function references(text: string): string[] {
  const attrs = [...text.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]);
  const urls = [...text.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)].map((m) => m[1]);
  const imports = [...text.matchAll(/@import\s+["']([^"']+)["']/g)].map((m) => m[1]);
  return [...attrs, ...urls, ...imports];
}

/** Local: a path on this origin or a data: URL (GraphiQL's fonts and icons). */
const local = (ref: string) => ref.startsWith('data:') || (ref.startsWith('/') && !ref.startsWith('//'));

describe('GraphiQL at /graphiql', () => {
  const stack = useStack();
  let gw: Gateway;

  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
    gw = await stack.gateway();
    await gw.ready();
  });

  it('serves the page and every asset it loads from this gateway, referencing no other host', async () => {
    const res = await fetch(`${gw.url}/graphiql`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    const html = await res.text();
    // no inline script: the CSP allows only files from this origin
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const refs = references(html);
    expect(refs.length).toBeGreaterThanOrEqual(6);
    expect(refs.filter((r) => !local(r))).toEqual([]);

    for (const ref of refs) {
      const asset = await fetch(`${gw.url}${ref}`);
      expect({ ref, status: asset.status }).toEqual({ ref, status: 200 });
      expect(asset.headers.get('content-type')).toMatch(ref.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(asset.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
      const body = await asset.text();
      expect(body.length).toBeGreaterThan(10);
      if (ref.endsWith('.css')) expect(references(body).filter((r) => !local(r))).toEqual([]);
    }
  });

  it('answers 304 to a matching ETag, gzips on request, HEAD has no body, unknown assets are 404', async () => {
    const first = await fetch(`${gw.url}/graphiql/assets/graphiql.min.js`, { headers: { 'accept-encoding': 'identity' } });
    const etag = first.headers.get('etag')!;
    const plain = Buffer.from(await first.arrayBuffer());
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${gw.url}/graphiql/assets/graphiql.min.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);

    const zipped = await new Promise<Buffer>((resolve, reject) => {
      // node's fetch decompresses on its own: read the raw bytes with http.get
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('node:http')
        .get(`${gw.url}/graphiql/assets/graphiql.min.js`, { headers: { 'accept-encoding': 'gzip' } }, (r: import('node:http').IncomingMessage) => {
          expect(r.headers['content-encoding']).toBe('gzip');
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
        })
        .on('error', reject);
    });
    expect(zipped.length).toBeLessThan(plain.length / 2);
    expect(gunzipSync(zipped).equals(plain)).toBe(true);

    const head = await fetch(`${gw.url}/graphiql`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    for (const name of ['nope.js', '__proto__', 'constructor', '..%2Fsrc%2Fserver.ts']) {
      const missing = await fetch(`${gw.url}/graphiql/assets/${name}`);
      expect({ name, status: missing.status }).toEqual({ name, status: 404 });
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
  });

  it('keeps Apollo Sandbox on GET /graphql for browsers', async () => {
    const res = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/apollographql\.com/);
  });

  it('renders in a real browser under its CSP', async () => {
    if (!CHROMIUM) throw new Error('chromium is not installed: `apt-get install -y chromium` (.ci/run does)');
    const profile = mkdtempSync(join(tmpdir(), 'graphiql-chromium-'));
    try {
      const { dom, log } = await new Promise<{ dom: string; log: string }>((resolve, reject) => {
        const proc = spawn(
          CHROMIUM!,
          [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--no-first-run',
            `--user-data-dir=${profile}`,
            '--enable-logging=stderr',
            '--v=0',
            '--virtual-time-budget=15000',
            '--dump-dom',
            `${gw.url}/graphiql`,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        proc.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
        proc.once('error', reject);
        proc.once('exit', () => resolve({ dom: out, log: err }));
      });
      // React mounted GraphiQL: its editors and the execute button exist (the loading text is gone)
      expect(dom).toContain('graphiql-container');
      expect(dom).toContain('graphiql-execute-button');
      expect(dom).not.toContain('Loading GraphiQL');
      // no CSP refusal and no script error reached the console
      expect(log).not.toMatch(/Refused to|Content Security Policy|Uncaught/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
