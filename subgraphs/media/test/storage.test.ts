import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Disposables } from '@dream/common/testing';
import { LocalDiskStorage, NotStoredError, UnsafeKeyError, assetPrefix, type Storage } from '../src/storage';
import { readAll, tempDir } from './helpers/files';
import { startS3 } from './helpers/s3';

const disposables = new Disposables();
afterAll(() => disposables.disposeAll());

const backends: Array<[string, () => Promise<Storage>]> = [
  ['local disk', async () => new LocalDiskStorage(join(tempDir(disposables), 'media'))],
  [
    's3 (s3rver)',
    async () => {
      return (await startS3(disposables)).storage;
    },
  ],
];

describe.each(backends)('Storage contract: %s', (_name, make) => {
  let storage: Storage;
  let src: string;
  const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));

  beforeAll(async () => {
    storage = await make();
    src = tempDir(disposables);
    writeFileSync(join(src, 'blob.bin'), bytes);
  });

  it('puts a file and reads it whole and by byte range', async () => {
    await storage.putFile('lessons/l1/a1/video.mp4', join(src, 'blob.bin'));
    expect(await storage.stat('lessons/l1/a1/video.mp4')).toEqual({ size: 5000 });
    expect((await readAll(await storage.read('lessons/l1/a1/video.mp4'))).equals(bytes)).toBe(true);
    const part = await readAll(await storage.read('lessons/l1/a1/video.mp4', { start: 100, end: 199 }));
    expect(part.equals(bytes.subarray(100, 200))).toBe(true);
    const last = await readAll(await storage.read('lessons/l1/a1/video.mp4', { start: 4999, end: 4999 }));
    expect([...last]).toEqual([bytes[4999]]);
  });

  it('puts a stream of unknown length', async () => {
    await storage.putStream('lessons/l1/a1/poster.jpg', Readable.from([bytes.subarray(0, 10), bytes.subarray(10, 30)]));
    expect((await readAll(await storage.read('lessons/l1/a1/poster.jpg'))).equals(bytes.subarray(0, 30))).toBe(true);
  });

  it('puts a folder under a prefix, sums its bytes and deletes it', async () => {
    const dir = tempDir(disposables);
    mkdirSync(join(dir, '360p'));
    writeFileSync(join(dir, 'master.m3u8'), '#EXTM3U\n');
    writeFileSync(join(dir, '360p', 'seg_001.ts'), bytes.subarray(0, 1000));
    await storage.putFolder(assetPrefix('l2', 'a2'), dir);
    expect(await storage.stat('lessons/l2/a2/360p/seg_001.ts')).toEqual({ size: 1000 });
    expect(await storage.usedBytes('lessons/l2')).toBe(1008);
    // a sibling whose name only starts like the prefix is not part of it
    await storage.putFile('lessons/l2x/a/video.mp4', join(src, 'blob.bin'));
    await storage.deletePrefix('lessons/l2');
    expect(await storage.stat('lessons/l2/a2/master.m3u8')).toBeNull();
    expect(await storage.usedBytes('lessons/l2')).toBe(0);
    expect(await storage.stat('lessons/l2x/a/video.mp4')).toEqual({ size: 5000 });
    await storage.deletePrefix('lessons/never-there');
  });

  it('copies an object inside the store; the copy outlives the original', async () => {
    await storage.putFile('lessons/l3/a1/source', join(src, 'blob.bin'));
    await storage.copy('lessons/l3/a1/source', 'lessons/l3/a2/source');
    await storage.deletePrefix('lessons/l3/a1');
    expect(await storage.stat('lessons/l3/a1/source')).toBeNull();
    expect((await readAll(await storage.read('lessons/l3/a2/source'))).equals(bytes)).toBe(true);
    await expect(storage.copy('lessons/l3/a1/source', 'lessons/l3/a3/source')).rejects.toBeInstanceOf(NotStoredError);
    await expect(storage.copy('lessons/l3/a2/source', '../escape')).rejects.toBeInstanceOf(UnsafeKeyError);
  });

  it('opens an object for serving: its size first, then its bytes or nothing', async () => {
    await storage.putFile('lessons/l4/a1/seg.ts', join(src, 'blob.bin'));
    const opened = await storage.open('lessons/l4/a1/seg.ts');
    expect(opened?.size).toBe(5000);
    expect((await readAll(await opened!.read({ start: 10, end: 19 }))).equals(bytes.subarray(10, 20))).toBe(true);
    const unread = await storage.open('lessons/l4/a1/seg.ts');
    await unread!.close();
    expect(await storage.open('lessons/l4/a1/none.ts')).toBeNull();
    expect(await storage.open('lessons/l4/a1')).toBeNull();
    await expect(storage.open('../x')).rejects.toBeInstanceOf(UnsafeKeyError);
  });

  it('says a missing object is missing', async () => {
    expect(await storage.stat('lessons/none/x.ts')).toBeNull();
    await expect(storage.read('lessons/none/x.ts')).rejects.toBeInstanceOf(NotStoredError);
  });

  it.each(['../etc/passwd', 'lessons/../../x', '/etc/passwd', 'a/./b', 'a//b', 'a\0b', 'a\\..\\b', '', 'a/%2e%2e/b'])(
    'refuses the unsafe key %j everywhere',
    async (key) => {
      await expect(storage.stat(key)).rejects.toBeInstanceOf(UnsafeKeyError);
      await expect(storage.read(key)).rejects.toBeInstanceOf(UnsafeKeyError);
      await expect(storage.putFile(key, join(src, 'blob.bin'))).rejects.toBeInstanceOf(UnsafeKeyError);
      await expect(storage.deletePrefix(key)).rejects.toBeInstanceOf(UnsafeKeyError);
    },
  );
});

describe('LocalDiskStorage', () => {
  it('never follows a symlink out of the media folder', async () => {
    const root = tempDir(disposables);
    const outside = tempDir(disposables);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    const storage = new LocalDiskStorage(join(root, 'media'));
    mkdirSync(join(root, 'media', 'lessons'), { recursive: true });
    symlinkSync(join(outside, 'secret.txt'), join(root, 'media', 'lessons', 'link.txt'));
    symlinkSync(outside, join(root, 'media', 'lessons', 'dir'));
    await expect(storage.read('lessons/link.txt')).rejects.toBeInstanceOf(UnsafeKeyError);
    await expect(storage.read('lessons/dir/secret.txt')).rejects.toBeInstanceOf(UnsafeKeyError);
    await expect(storage.stat('lessons/dir/secret.txt')).rejects.toBeInstanceOf(UnsafeKeyError);
    await expect(storage.putStream('lessons/dir/planted.txt', Readable.from(['x']))).rejects.toBeInstanceOf(UnsafeKeyError);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(await storage.presignedUrl()).toBeNull();
  });
});

describe('S3Storage', () => {
  it('gives a presigned URL that serves the object (and its ranges) without credentials', async () => {
    const { storage } = await startS3(disposables, 'presign');
    await storage.putStream('lessons/l/a/video.mp4', Readable.from([Buffer.from('hello video')]));
    const url = await storage.presignedUrl('lessons/l/a/video.mp4', 60);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/presign\/media\/lessons\/l\/a\/video\.mp4\?.*X-Amz-Signature=/);
    const res = await fetch(url!, { headers: { range: 'bytes=6-' } });
    expect(res.status).toBe(206);
    expect(await res.text()).toBe('video');
  });
});
