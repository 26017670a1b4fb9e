import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@dream/common';
import { Disposables } from '@dream/common/testing';
import { LocalDiskStorage, assetPrefix, type Storage } from '../src/storage';
import { createPlaybackHandler, playbackUrls, signPlaybackToken, verifyPlaybackToken, type PlaybackClaims } from '../src/playback';
import { makeTestVideo, tempDir } from './helpers/files';
import { errorOf, rawGet, serve } from './helpers/http';
import { startS3 } from './helpers/s3';

const SECRET = 'a-test-signing-secret-of-32-bytes-or-more';
const disposables = new Disposables();
afterAll(() => disposables.disposeAll());

let fixture: string;
let video: Buffer;
beforeAll(async () => {
  fixture = tempDir(disposables);
  const mp4 = await makeTestVideo(fixture, { seconds: 2, name: 'video.mp4' });
  video = readFileSync(mp4);
  mkdirSync(join(fixture, '360p'));
  writeFileSync(join(fixture, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n360p/index.m3u8\n');
  writeFileSync(join(fixture, '360p', 'index.m3u8'), '#EXTM3U\n#EXTINF:4.0,\nseg_001.ts\n#EXT-X-ENDLIST\n');
  writeFileSync(join(fixture, '360p', 'seg_001.ts'), video.subarray(0, 3000));
  writeFileSync(join(fixture, 'poster.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
});

const hour = () => Math.floor(Date.now() / 1000) + 3600;
const claims = (over: Partial<PlaybackClaims> = {}): PlaybackClaims => ({ lessonId: 'L1', assetId: 'A1', userId: 'U1', expiresAt: hour(), ...over });
/** The assets the "service core" knows: A1 belongs to L1, A2 to L2. */
const ASSETS: Record<string, string> = { A1: 'L1', A2: 'L2' };

async function start(storage: Storage, delivery?: 'stream' | 'presigned'): Promise<string> {
  await storage.putFolder(assetPrefix('L1', 'A1'), fixture);
  await storage.putFolder(assetPrefix('L2', 'A2'), fixture);
  const handler = createPlaybackHandler({
    storage,
    secret: SECRET,
    logger: createLogger('media-test', { level: 'silent' }),
    delivery,
    assetPrefixFor: async (c) => (ASSETS[c.assetId] === c.lessonId ? assetPrefix(c.lessonId, c.assetId) : null),
  });
  return serve(disposables, handler);
}

describe('playback tokens', () => {
  it('round-trips, and refuses expired, tampered and foreign-key tokens', () => {
    const token = signPlaybackToken(claims(), SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyPlaybackToken(token, SECRET)).toEqual({ ok: true, claims: claims() });
    const past = signPlaybackToken(claims({ expiresAt: Math.floor(Date.now() / 1000) - 1 }), SECRET);
    expect(verifyPlaybackToken(past, SECRET)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyPlaybackToken(token, `${SECRET}-other`)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyPlaybackToken(token.slice(0, -2), SECRET)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyPlaybackToken('nodot', SECRET)).toEqual({ ok: false, reason: 'malformed' });
    expect(() => signPlaybackToken(claims(), 'short')).toThrow(/at least 32 bytes/);
  });

  it('builds the Playback URLs under one token', () => {
    const urls = playbackUrls('https://dream.test/', claims(), SECRET);
    const token = signPlaybackToken(claims(), SECRET);
    expect(urls.hlsUrl).toBe(`https://dream.test/media/play/${token}/master.m3u8`);
    expect(urls.mp4Url).toBe(`https://dream.test/media/play/${token}/video.mp4`);
    expect(urls.posterUrl).toBe(`https://dream.test/media/play/${token}/poster.jpg`);
    expect(new Date(urls.expiresAt).getTime()).toBe(claims().expiresAt * 1000);
  });
});

const backends: Array<[string, () => Promise<Storage>]> = [
  ['local disk', async () => new LocalDiskStorage(join(tempDir(disposables), 'media'))],
  ['s3 (s3rver)', async () => (await startS3(disposables)).storage],
];

describe.each(backends)('playback routes on %s', (_name, make) => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await start(await make());
    root = `${base}/media/play/${signPlaybackToken(claims(), SECRET)}`;
  });

  it.each([
    ['master.m3u8', 'application/vnd.apple.mpegurl', 'private, no-store'],
    ['360p/index.m3u8', 'application/vnd.apple.mpegurl', 'private, no-store'],
    ['360p/seg_001.ts', 'video/mp2t', 'private, max-age=31536000, immutable'],
    ['video.mp4', 'video/mp4', 'private, max-age=31536000, immutable'],
    ['poster.jpg', 'image/jpeg', 'private, max-age=31536000, immutable'],
  ])('serves %s as %s with cache-control %s', async (file, type, cache) => {
    const res = await fetch(`${root}/${file}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe(cache);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(fixture, ...file.split('/'))))).toBe(true);
  });

  it('resolves the playlists relative URIs under the same token', async () => {
    const master = await (await fetch(`${root}/master.m3u8`)).text();
    const variant = new URL(master.trim().split('\n').pop()!, `${root}/master.m3u8`);
    const playlist = await (await fetch(variant)).text();
    const segment = await fetch(new URL(playlist.split('\n')[2], variant));
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
  });

  it('answers HEAD with the size and no body', async () => {
    const res = await fetch(`${root}/video.mp4`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(video.length);
    expect(await res.text()).toBe('');
  });

  it.each([
    ['first bytes', 'bytes=0-99', 0, 99],
    ['a suffix range', 'bytes=-500', -500, -1],
    ['an open range', 'bytes=100-', 100, -1],
    ['a range past the end, clamped', 'bytes=10-99999999', 10, -1],
  ])('answers %s with 206', async (_what, range, from, to) => {
    const size = video.length;
    const start = from < 0 ? size + from : from;
    const end = to < 0 ? size - 1 : to;
    const res = await fetch(`${root}/video.mp4`, { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
    expect(Number(res.headers.get('content-length'))).toBe(end - start + 1);
    expect(Buffer.from(await res.arrayBuffer()).equals(video.subarray(start, end + 1))).toBe(true);
  });

  it.each(['bytes=99999999-', 'bytes=abc', 'bytes=500-100'])('answers the unsatisfiable range %s with 416', async (range) => {
    const res = await fetch(`${root}/video.mp4`, { headers: { range } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${video.length}`);
    expect((await errorOf(res)).code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('refuses expired, tampered, re-signed and other-lesson tokens with 403', async () => {
    const expired = signPlaybackToken(claims({ expiresAt: Math.floor(Date.now() / 1000) - 5 }), SECRET);
    const good = signPlaybackToken(claims(), SECRET);
    const [payload, mac] = good.split('.');
    const otherPayload = signPlaybackToken(claims({ lessonId: 'L2', assetId: 'A2' }), SECRET).split('.')[0];
    const flipped = `${payload}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    const wrongKey = signPlaybackToken(claims(), `${SECRET}-guessed`);
    // signed for lesson L2 but naming L1's asset: the core says that asset is not L2's
    const otherLesson = signPlaybackToken(claims({ lessonId: 'L2', assetId: 'A1' }), SECRET);
    for (const token of [expired, `${otherPayload}.${mac}`, flipped, wrongKey, otherLesson, 'guessed', '']) {
      const res = await fetch(`${base}/media/play/${token}/video.mp4`);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe('FORBIDDEN');
    }
    const res = await fetch(`${base}/media/play/${expired}/master.m3u8`);
    expect((await errorOf(res)).message).toMatch(/expired/);
  });

  it('never serves a path outside the asset', async () => {
    const token = signPlaybackToken(claims(), SECRET);
    const attempts = [
      '../A2/video.mp4', '../../../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', '%2e%2e/%2e%2e/etc/passwd',
      '360p/../../A2/video.mp4', '/etc/passwd', 'video.mp4%00.jpg', 'package.json', '360p\\..\\video.mp4', '',
    ];
    for (const path of attempts) {
      const res = await rawGet(base, `/media/play/${token}/${path}`);
      expect([403, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/root:|EXTM3U|"name"/);
    }
  });

  it('answers other methods with 400 and a clear message', async () => {
    const res = await fetch(`${root}/video.mp4`, { method: 'DELETE' });
    expect(res.status).toBe(400);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('playback routes, local disk specifics', () => {
  it('does not follow a symlink planted in the asset folder', async () => {
    const dir = join(tempDir(disposables), 'media');
    const base = await start(new LocalDiskStorage(dir));
    const outside = tempDir(disposables);
    writeFileSync(join(outside, 'secret.jpg'), 'secret');
    symlinkSync(join(outside, 'secret.jpg'), join(dir, 'lessons', 'L1', 'A1', 'leak.jpg'));
    const res = await fetch(`${base}/media/play/${signPlaybackToken(claims(), SECRET)}/leak.jpg`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('secret');
  });
});

describe('playback routes when storage is down', () => {
  it('answer 503 and log the failure without the token', async () => {
    const s3 = await startS3(disposables);
    await s3.storage.putFolder(assetPrefix('L1', 'A1'), fixture);
    const lines: string[] = [];
    const logger = createLogger('media-test', { level: 'error', destination: { write: (l: string) => void lines.push(l) } });
    const handler = createPlaybackHandler({ storage: s3.storage, secret: SECRET, logger, assetPrefixFor: async (c) => assetPrefix(c.lessonId, c.assetId) });
    const base = await serve(disposables, handler);
    const token = signPlaybackToken(claims(), SECRET);
    expect((await fetch(`${base}/media/play/${token}/video.mp4`)).status).toBe(200);
    await s3.stop();
    const res = await fetch(`${base}/media/play/${token}/video.mp4`);
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('SERVICE_UNAVAILABLE');
    expect(lines.join('')).toContain('/media/play/<token>/video.mp4');
    expect(lines.join('')).not.toContain(token);
  });
});

describe('playback routes with presigned delivery on S3', () => {
  it('redirects segments and MP4 to a presigned URL but streams playlists', async () => {
    const base = await start((await startS3(disposables)).storage, 'presigned');
    const root = `${base}/media/play/${signPlaybackToken(claims(), SECRET)}`;
    const mp4 = await fetch(`${root}/video.mp4`, { redirect: 'manual' });
    expect(mp4.status).toBe(302);
    const followed = await fetch(mp4.headers.get('location')!, { headers: { range: 'bytes=0-9' } });
    expect(followed.status).toBe(206);
    expect(Buffer.from(await followed.arrayBuffer()).equals(video.subarray(0, 10))).toBe(true);
    const playlist = await fetch(`${root}/master.m3u8`, { redirect: 'manual' });
    expect(playlist.status).toBe(200);
    expect(await playlist.text()).toContain('360p/index.m3u8');
    const expired = signPlaybackToken(claims({ expiresAt: 1 }), SECRET);
    expect((await fetch(`${base}/media/play/${expired}/video.mp4`, { redirect: 'manual' })).status).toBe(403);
  });
});
