import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { WEB_DIST } from './harness';

/** The JavaScript a first visit loads: index.html's module script and every chunk it preloads (not lazy chunks such as hls.js). */
function initialScripts(): string[] {
  const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
  const srcs = [...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => m[1]);
  return [...new Set(srcs)];
}

test('the initial JavaScript stays under 200 KB gzipped', () => {
  const scripts = initialScripts();
  expect(scripts.length).toBeGreaterThan(0);
  const gzipped = scripts.reduce((sum, src) => sum + gzipSync(readFileSync(join(WEB_DIST, src))).length, 0);
  // printed for the README's figure
  process.stdout.write(`initial JavaScript: ${scripts.length} file(s), ${(gzipped / 1024).toFixed(1)} KB gzipped\n`);
  expect(gzipped).toBeLessThan(200 * 1024);
});

test('hls.js and tus-js-client are chunks of their own, loaded on demand (player page, upload), never at first visit', () => {
  const assets = readdirSync(join(WEB_DIST, 'assets'));
  const hls = assets.filter((f) => /^hls\.light-.*\.js$/.test(f));
  const tus = assets.filter((f) => /^tus-upload-.*\.js$/.test(f));
  expect(hls).toHaveLength(1);
  expect(tus).toHaveLength(1);
  const initial = initialScripts().map((src) => src.split('/').pop());
  expect(initial).not.toContain(hls[0]);
  expect(initial).not.toContain(tus[0]);
  // no static import pulls them in either: the entry references them only through dynamic import()
  for (const src of initialScripts()) expect(readFileSync(join(WEB_DIST, src), 'utf8')).not.toMatch(/enableWorker|tus-js-client/);
});
