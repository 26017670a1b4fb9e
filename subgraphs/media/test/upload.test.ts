import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@dream/common';
import { Disposables, waitFor } from '@dream/common/testing';
import { createUploadHandler, NOT_PLAYABLE, type UploadHandlerOptions, type UploadedFile } from '../src/upload';
import { makeTestVideo, sha256File, tempDir } from './helpers/files';
import { errorOf, rawRequest, serve } from './helpers/http';
import { ticketDesk, type TicketDesk } from './helpers/tickets';
import { createUpload, patchUpload, probePlayable, resumeUpload, tusHeaders, uploadHalfThenCut, uploadOffset } from './helpers/tus';

const disposables = new Disposables();
afterAll(() => disposables.disposeAll());

let source: string;
let video: Buffer;
beforeAll(async () => {
  source = await makeTestVideo(tempDir(disposables), { seconds: 4 });
  video = readFileSync(source);
});

/** Tickets as requestLessonUpload issues them, checked by the core's real rules (UploadGate). */
let desk: TicketDesk;
beforeAll(async () => {
  desk = await ticketDesk(disposables);
});
const issue = (over?: Parameters<TicketDesk['issue']>[0]) => desk.issue(over);
const ticketOf = (token: string) => desk.ticketOf(token);

interface Harness {
  base: string;
  directory: string;
  received: UploadedFile[];
  receivedDir: string;
  rejected: Array<{ lessonId: string; reason: string }>;
  cleanup(): Promise<number>;
}

async function startUploads(over: Partial<UploadHandlerOptions> & { quotaBytes?: number } = {}): Promise<Harness> {
  const directory = tempDir(disposables, 'uploads-');
  const receivedDir = tempDir(disposables, 'received-');
  const received: UploadedFile[] = [];
  const rejected: Harness['rejected'] = [];
  const handler = createUploadHandler({
    directory,
    maxUploadBytes: 10_000_000,
    checks: desk.gate(over.quotaBytes),
    validate: probePlayable,
    onUploaded: async (file) => {
      copyFileSync(file.path, join(receivedDir, file.uploadId));
      received.push(file);
    },
    onRejected: async (r) => void rejected.push(r),
    expireAfterMs: 60_000,
    cleanupIntervalMs: 0,
    logger: createLogger('media-test', { level: 'silent' }),
    ...over,
  });
  disposables.defer(() => handler.close());
  const base = await serve(disposables, handler.handle);
  return { base, directory, received, receivedDir, rejected, cleanup: handler.cleanup };
}

describe('tus upload', () => {
  it('resumes an upload cut halfway, and the stored file is byte for byte the source', async () => {
    const h = await startUploads();
    const token = await issue();
    const { url, chunkSize } = await uploadHalfThenCut(`${h.base}/media/uploads`, token, video);
    expect(url).toMatch(/\/media\/uploads\/[0-9a-f]{32}$/);
    const offset = await uploadOffset(url, token);
    expect(offset).toBeGreaterThanOrEqual(2 * chunkSize);
    expect(offset).toBeLessThan(video.length);
    expect(h.received).toEqual([]);
    await resumeUpload(url, token, video);
    expect(h.received).toHaveLength(1);
    const [file] = h.received;
    const { lessonId, assetId } = ticketOf(token);
    expect(file).toMatchObject({ lessonId, assetId, ownerId: 'O1', size: video.length });
    expect(file.metadata).toMatchObject({ filename: 'lesson.mp4', filetype: 'video/mp4' });
    expect(await sha256File(join(h.receivedDir, file.uploadId))).toBe(await sha256File(source));
    // handed over, so gone from the upload folder
    expect(existsSync(join(h.directory, file.uploadId))).toBe(false);
  });

  it('refuses a file over MEDIA_MAX_UPLOAD_BYTES or the token limit with 413', async () => {
    const h = await startUploads({ maxUploadBytes: 1000 });
    const res = await createUpload(h.base, await issue(), 1001);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'The file is 1001 bytes; uploads are limited to 1000 bytes.' });
    const small = await createUpload(h.base, await issue({ maxBytes: 500 }), 501);
    expect(small.status).toBe(413);
    expect((await createUpload(h.base, await issue(), 1000)).status).toBe(201);
  });

  it('refuses an upload over the owner quota with 403 naming the quota', async () => {
    const h = await startUploads({ quotaBytes: 5000 });
    const stored = ticketOf(await issue({ ownerId: 'Q1' }));
    await desk.lessons.uploadReceived(stored.lessonId, stored.assetId, { key: 'source', sizeBytes: 4500 });
    const res = await createUpload(h.base, await issue({ ownerId: 'Q1' }), 501);
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/^Storage quota exceeded: .*MEDIA_OWNER_QUOTA_BYTES/);
    expect((await createUpload(h.base, await issue({ ownerId: 'Q1' }), 500)).status).toBe(201);
    expect((await createUpload(h.base, await issue({ ownerId: 'Q2' }), 5000)).status).toBe(201);
  });

  it('refuses a type that is not video/* with 415', async () => {
    const h = await startUploads();
    for (const type of ['text/plain', 'application/octet-stream', 'video', 'video/mp4;evil', '']) {
      const res = await createUpload(h.base, await issue(), 100, type);
      expect(res.status).toBe(415);
      expect((await errorOf(res)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(readdirSync(h.directory).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('deletes a complete file that is not playable and answers 422', async () => {
    const h = await startUploads();
    const text = Buffer.from('this is a text file named like a video\n'.repeat(50));
    const token = await issue();
    const created = await createUpload(h.base, token, text.length, 'video/mp4', 'notes.mp4');
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, h.base).href;
    const res = await patchUpload(url, token, 0, text);
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: 'UNPROCESSABLE_CONTENT', message: NOT_PLAYABLE });
    expect(h.rejected).toEqual([expect.objectContaining({ lessonId: ticketOf(token).lessonId, reason: expect.any(String) })]);
    expect(h.received).toEqual([]);
    expect(readdirSync(h.directory).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('needs a valid token on every request, for the lesson of the upload, once', async () => {
    const h = await startUploads();
    expect((await createUpload(h.base, null, 100)).status).toBe(401);
    expect((await createUpload(h.base, 'forged', 100)).status).toBe(401);
    const token = await issue();
    const created = await createUpload(h.base, token, 100);
    const url = new URL(created.headers.get('location')!, h.base).href;
    const reused = await createUpload(h.base, token, 100);
    expect(reused.status).toBe(409);
    expect((await fetch(url, { method: 'HEAD', headers: tusHeaders(null) })).status).toBe(401);
    // a ticket of another upload continues nothing
    expect((await fetch(url, { method: 'HEAD', headers: tusHeaders(await issue()) })).status).toBe(401);
    expect((await patchUpload(url, await issue(), 0, Buffer.alloc(10))).status).toBe(401);
    expect((await fetch(url, { headers: tusHeaders(token) })).status).toBe(404);
    expect(await uploadOffset(url, token)).toBe(0);
    const unknown = await fetch(`${h.base}/media/uploads/${'0'.repeat(32)}`, { method: 'HEAD', headers: tusHeaders(token) });
    expect(unknown.status).toBe(404);
    for (const path of ['..', '%2e%2e', '..%2f..%2fetc', `${url.split('/').pop()}/x`, 'ABC']) {
      const res = await rawRequest(h.base, 'HEAD', `/media/uploads/${path}`, tusHeaders(token));
      expect(res.status).toBe(404);
    }
    const noLength = await fetch(`${h.base}/media/uploads`, { method: 'POST', headers: tusHeaders(await issue(), { 'upload-defer-length': '1' }) });
    expect(noLength.status).toBe(400);
  });

  it('answers CORS preflights on the collection and on an upload', async () => {
    const h = await startUploads();
    for (const path of ['/media/uploads', `/media/uploads/${'a'.repeat(32)}`]) {
      const res = await fetch(`${h.base}${path}`, { method: 'OPTIONS', headers: { origin: 'https://app.test', 'access-control-request-method': 'PATCH' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
    }
  });

  it('keeps a complete file the core failed to take, and hands it over on the retry', async () => {
    let fail = true;
    const h = await startUploads();
    const token = await issue();
    const flaky = await startUploads({
      directory: h.directory,
      onUploaded: async (file) => {
        if (fail) throw new Error('database down');
        h.received.push(file);
      },
    });
    const created = await createUpload(flaky.base, token, video.length);
    const url = new URL(created.headers.get('location')!, flaky.base).href;
    const res = await patchUpload(url, token, 0, video);
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('SERVICE_UNAVAILABLE');
    expect(await uploadOffset(url, token)).toBe(video.length);
    fail = false;
    expect((await patchUpload(url, token, video.length, Buffer.alloc(0))).status).toBe(204);
    expect(h.received.map((f) => f.size)).toEqual([video.length]);
  });

  it('removes abandoned uploads once they expire', async () => {
    const h = await startUploads({ expireAfterMs: 1500 });
    const token = await issue();
    const created = await createUpload(h.base, token, video.length);
    const url = new URL(created.headers.get('location')!, h.base).href;
    expect((await patchUpload(url, token, 0, video.subarray(0, 1000))).status).toBe(204);
    const id = url.split('/').pop()!;
    expect(existsSync(join(h.directory, id))).toBe(true);
    expect(await h.cleanup()).toBe(0);
    // the first sweep after the expiry (1.5 s after creation) removes it
    await waitFor(async () => (await h.cleanup()) === 1, { timeoutMs: 15_000, intervalMs: 100, what: 'the expired upload to be swept' });
    expect(existsSync(join(h.directory, id))).toBe(false);
    expect(existsSync(join(h.directory, `${id}.json`))).toBe(false);
    expect((await fetch(url, { method: 'HEAD', headers: tusHeaders(token) })).status).toBe(404);
    writeFileSync(join(h.directory, 'unrelated'), 'x');
    expect(await h.cleanup()).toBe(0);
  });
});
