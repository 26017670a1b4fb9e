/**
 * The k6 scripts under loadtest/ cannot run here (no k6 binary), so CI type-checks them against @types/k6
 * and checks that every journey the options name has the function k6 will call.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildASTSchema, parse, validate } from 'graphql';
import { contentRange, playlistUris, resolveUri } from '../loadtest/lib/hls';
import { PLAYABLE_QUERY, PLAYBACK_QUERY } from '../loadtest/lib/media-queries';

const ROOT = resolve(__dirname, '..');

describe('loadtest (k6)', () => {
  it('type-checks with tsc -p loadtest', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const res = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'loadtest'), '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  }, 120_000);

  it('exports a function for every journey scenario', () => {
    const config = readFileSync(join(ROOT, 'loadtest/lib/config.ts'), 'utf8');
    const script = readFileSync(join(ROOT, 'loadtest/platform.ts'), 'utf8');
    const list = /export const JOURNEYS = \[([^\]]+)\]/.exec(config)?.[1] ?? '';
    const journeys = [...list.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(journeys).toEqual(['auth', 'browse_rest', 'browse_graphql', 'create_course', 'buy_course', 'ws_list']);
    for (const j of journeys) expect(script).toMatch(new RegExp(`export function ${j}\\(`));
    expect(script).toMatch(/export const options = buildOptions\(\)/);
  });

  it('uses the spec request shapes', () => {
    const api = readFileSync(join(ROOT, 'loadtest/lib/api.ts'), 'utf8');
    for (const s of ['/api/user/signup', '/api/users/login', '/api/courses', '/api/course`', '/buy`', 'courseCathegory', '/graphql']) {
      expect(api).toContain(s);
    }
  });

  describe('play-lesson.ts (the lesson-playing journey)', () => {
    const script = readFileSync(join(ROOT, 'loadtest/play-lesson.ts'), 'utf8');

    it('is a k6 script: options, setup and a default function that reads segments by Range', () => {
      expect(script).toMatch(/export const options: Options = /);
      expect(script).toMatch(/export function setup\(\): SetupData/);
      expect(script).toMatch(/export default function playLesson\(/);
      expect(script).toContain('Range: `bytes=0-');
      expect(script).toContain('Range: `bytes=${RANGE_BYTES}-`');
    });

    it.each([
      ['PLAYBACK_QUERY', PLAYBACK_QUERY],
      ['PLAYABLE_QUERY', PLAYABLE_QUERY],
    ])('%s is valid against supergraph.graphql', (_name, query) => {
      const schema = buildASTSchema(parse(readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8')), { assumeValidSDL: true });
      expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
    });

    it('walks an HLS master playlist as a player: relative URIs inherit the signed path', () => {
      const master = 'http://localhost:8080/media/play/tok.en/master.m3u8';
      const text = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2800000\n720p/index.m3u8\n';
      expect(playlistUris(text).map((u) => resolveUri(master, u))).toEqual([
        'http://localhost:8080/media/play/tok.en/360p/index.m3u8',
        'http://localhost:8080/media/play/tok.en/720p/index.m3u8',
      ]);
      const variant = 'http://localhost:8080/media/play/tok.en/360p/index.m3u8';
      expect(resolveUri(variant, 'seg_000.ts')).toBe('http://localhost:8080/media/play/tok.en/360p/seg_000.ts');
      expect(resolveUri(variant, '../poster.jpg')).toBe('http://localhost:8080/media/play/tok.en/poster.jpg');
      expect(resolveUri('http://localhost:8080', '/media/play/t/master.m3u8')).toBe('http://localhost:8080/media/play/t/master.m3u8');
      expect(resolveUri(variant, 'https://cdn.example/x.ts')).toBe('https://cdn.example/x.ts');
      expect(contentRange('bytes 0-65535/188000')).toEqual({ first: 0, last: 65535, size: 188000 });
      expect(contentRange('bytes */188000')).toBeUndefined();
    });
  });
});
