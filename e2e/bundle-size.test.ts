import { readFileSync } from 'node:fs';
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
