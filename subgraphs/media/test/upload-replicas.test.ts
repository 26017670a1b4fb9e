import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, Redis } from '@dream/common';
import { Disposables, startRedisServer } from '@dream/common/testing';
import { ticketDesk, type TicketDesk } from './helpers/tickets';
import { createUploadHandler, RedisLocker, type UploadedFile } from '../src/upload';
import { makeTestVideo, sha256File, tempDir } from './helpers/files';
import { errorOf, serve } from './helpers/http';
import { createUpload, patchUpload, probePlayable, resumeUpload, tusHeaders, uploadHalfThenCut, uploadOffset } from './helpers/tus';

const disposables = new Disposables();
afterAll(() => disposables.disposeAll());

let redis: Redis;
beforeAll(async () => {
  const server = await startRedisServer();
  disposables.defer(() => server.stop());
  redis = disposables.push(new Redis(server.url), (r) => r.disconnect());
});

async function locker(leaseMs?: number): Promise<RedisLocker> {
  const l = disposables.push(new RedisLocker({ redis, leaseMs, retryMs: 10 }), (x) => x.close());
  await l.whenReady();
  return l;
}

describe('RedisLocker', () => {
  it('asks the holder on another replica to let go, then takes the lock', async () => {
    const [a, b] = [await locker(), await locker()];
    const held = a.newLock('upload-1');
    let releaseAsked = 0;
    await held.lock(new AbortController().signal, async () => {
      releaseAsked++;
      await held.unlock();
    });
    const taken = b.newLock('upload-1');
    await taken.lock(new AbortController().signal, () => undefined);
    expect(releaseAsked).toBe(1);
    expect(b.holders.has('upload-1')).toBe(true);
    expect(a.holders.has('upload-1')).toBe(false);
    await taken.unlock();
    expect(await redis.exists('media:tus-lock:upload-1')).toBe(0);
  });

  it('gives up with the tus lock timeout when the holder does not let go', async () => {
    const a = await locker();
    const b = disposables.push(new RedisLocker({ redis, acquireTimeoutMs: 200, retryMs: 10 }), (x) => x.close());
    const held = a.newLock('upload-2');
    await held.lock(new AbortController().signal, () => undefined);
    await expect(b.newLock('upload-2').lock(new AbortController().signal, () => undefined)).rejects.toMatchObject({ status_code: 500 });
    await held.unlock();
  });

  it('frees the lock of a holder that stopped renewing it (a crashed replica) after the lease', async () => {
    // a lock taken straight in Redis by an owner that will never renew or release it
    await redis.set('media:tus-lock:upload-3', 'crashed-replica', 'PX', 300);
    const b = await locker();
    const lock = b.newLock('upload-3');
    await lock.lock(new AbortController().signal, () => undefined);
    expect(await redis.pttl('media:tus-lock:upload-3')).toBeGreaterThan(300);
    await lock.unlock();
  });
});

describe('two media replicas sharing the upload folder', () => {
  let desk: TicketDesk;
  beforeAll(async () => {
    desk = await ticketDesk(disposables);
  });

  it('continue on one replica an upload cut on the other', async () => {
    const directory = tempDir(disposables, 'uploads-');
    const receivedDir = tempDir(disposables, 'received-');
    const received: Array<UploadedFile & { replica: string }> = [];
    const replica = async (name: string) => {
      const handler = createUploadHandler({
        directory,
        maxUploadBytes: 10_000_000,
        checks: desk.gate(),
        validate: probePlayable,
        onUploaded: async (file) => {
          copyFileSync(file.path, join(receivedDir, file.uploadId));
          received.push({ ...file, replica: name });
        },
        locker: await locker(),
        expireAfterMs: 60_000,
        cleanupIntervalMs: 0,
        logger: createLogger(`media-${name}`, { level: 'silent' }),
      });
      disposables.defer(() => handler.close());
      return serve(disposables, handler.handle);
    };
    const [a, b] = [await replica('a'), await replica('b')];
    const source = await makeTestVideo(tempDir(disposables), { seconds: 4 });
    const video = readFileSync(source);

    const ticket = await desk.issue();
    const { url, chunkSize } = await uploadHalfThenCut(`${a}/media/uploads`, ticket, video);
    const onB = url.replace(a, b);
    expect(await uploadOffset(onB, ticket)).toBeGreaterThanOrEqual(2 * chunkSize);
    await resumeUpload(onB, ticket, video);

    expect(received.map((r) => r.replica)).toEqual(['b']);
    expect(await sha256File(join(receivedDir, received[0].uploadId))).toBe(await sha256File(source));
  });

  it('answers 503, not 500, when an upload stays locked', async () => {
    const handler = createUploadHandler({
      directory: tempDir(disposables, 'uploads-'),
      maxUploadBytes: 1000,
      checks: desk.gate(),
      validate: probePlayable,
      onUploaded: async () => undefined,
      locker: disposables.push(new RedisLocker({ redis, prefix: 'stuck:', acquireTimeoutMs: 100, retryMs: 10 }), (x) => x.close()),
      expireAfterMs: 60_000,
      cleanupIntervalMs: 0,
      logger: createLogger('media-test', { level: 'silent' }),
    });
    disposables.defer(() => handler.close());
    const base = await serve(disposables, handler.handle);
    const t = await desk.issue();
    const created = await createUpload(base, t, 100);
    const id = created.headers.get('location')!.split('/').pop()!;
    // held by a replica that died holding it, for longer than a request waits
    await redis.set(`stuck:${id}`, 'someone-else', 'PX', 60_000);
    expect((await fetch(`${base}/media/uploads/${id}`, { method: 'HEAD', headers: tusHeaders(t) })).status).toBe(503);
    const res = await patchUpload(`${base}/media/uploads/${id}`, t, 0, Buffer.alloc(10));
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('SERVICE_UNAVAILABLE');
  });
});
