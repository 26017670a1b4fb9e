import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@dream/common';
import { Disposables, recordSpans, SpanStatusCode, startRedisServer, waitFor, type RedisServerHandle, type SpanRecorder } from '@dream/common/testing';
import { NOT_PLAYABLE_MESSAGE, TranscodeQueue, startTranscodeWorker, type TranscodeJobData } from '../src/transcode';
import { folderStorage } from './fixtures/transcode-media';

jest.setTimeout(120_000);

/**
 * A transcode joins the trace of the request that queued it: the queue carries the request's W3C trace
 * context in the job, and the worker's `media.transcode` span is that request span's child, with the
 * request id as an attribute (as on the services' server spans).
 */
const logger = createLogger('transcode-trace-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const d = new Disposables();
let redis: RedisServerHandle;
let recorder: SpanRecorder;
let root: string;
const failures: string[] = [];

beforeAll(async () => {
  recorder = d.push(recordSpans(), (r) => r.stop());
  redis = d.push(await startRedisServer(), (r) => r.stop());
  const dir = mkdtempSync(join(tmpdir(), 'transcode-trace-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
  root = join(dir, 'media');
  mkdirSync(join(root, 'uploads'), { recursive: true });
  const settings = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', timeoutMs: 60_000, attempts: 1, backoffMs: 100, concurrency: 1, lockMs: 30_000 };
  const callbacks = { onProcessing: () => undefined, onProgress: () => undefined, onReady: () => undefined, onFailed: (_job: TranscodeJobData, reason: string) => void failures.push(reason) };
  d.push(await startTranscodeWorker({ redisUrl: redis.url, logger, storage: folderStorage(root), callbacks, settings, workDir: join(root, 'work') }), (w) => w.close());
});
afterAll(() => d.disposeAll());

/** An asset whose source is a text file: it fails at ffprobe at once; the trace is what is under test. */
function job(id: string, requestId?: string): TranscodeJobData {
  writeFileSync(join(root, 'uploads', `${id}.src`), 'not a video\n');
  return { lessonId: `lesson-${id}`, assetId: id, sourceKey: `uploads/${id}.src`, outputKey: `assets/${id}`, requestId };
}

const transcodeSpan = (assetId: string) =>
  waitFor(() => recorder.spans().find((s) => s.name === 'media.transcode' && s.attributes['media.asset_id'] === assetId), { timeoutMs: 60_000, what: `the span of ${assetId}` });

const openQueue = () => d.push(new TranscodeQueue({ redisUrl: redis.url, logger, attempts: 1, backoffMs: 100 }), (q) => q.close());

it('the worker span is a child of the queuing request span and carries its request id', async () => {
  const queue = openQueue();
  const request = await recorder.inSpan('POST /media/uploads', () => queue.enqueue(job('a1', 'req-trace-1')));
  const span = await transcodeSpan('a1');
  expect(span.spanContext().traceId).toBe(request.traceId);
  expect(span.parentSpanContext?.spanId).toBe(request.spanId);
  expect(span.attributes).toMatchObject({ 'request.id': 'req-trace-1', 'media.lesson_id': 'lesson-a1', 'media.attempt': 1 });
  expect(span.status.code).toBe(SpanStatusCode.ERROR);
  expect(failures).toContain(NOT_PLAYABLE_MESSAGE);
});

it('a job queued outside any request starts a trace of its own', async () => {
  await openQueue().enqueue(job('a2'));
  const span = await transcodeSpan('a2');
  expect(span.parentSpanContext).toBeUndefined();
  expect(span.attributes['request.id']).toBeUndefined();
});
