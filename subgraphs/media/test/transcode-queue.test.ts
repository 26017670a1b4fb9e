import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '@dream/common';
import { QueueEvents } from 'bullmq';
import { Disposables, startRedisServer, waitFor, waitForEvent, type RedisServerHandle } from '@dream/common/testing';
import {
  NOT_PLAYABLE_MESSAGE,
  TRANSCODE_QUEUE,
  transcodeJobId,
  TranscodeQueue,
  reconcileTranscodes,
  startTranscodeWorker,
  type TranscodeCallbacks,
  type TranscodeJobData,
  type TranscodeSettings,
} from '../src/transcode';
import { ffmpegWrappers, folderStorage, makeTestVideo, processAlive } from './fixtures/transcode-media';

jest.setTimeout(180_000);

const logger = createLogger('transcode-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const d = new Disposables();
let redis: RedisServerHandle;
let dir: string;
let root: string;
let video: string;
let n = 0;

const settings = (over: Partial<TranscodeSettings> = {}): TranscodeSettings => ({
  ffmpegPath: 'ffmpeg',
  ffprobePath: 'ffprobe',
  timeoutMs: 120_000,
  attempts: 3,
  backoffMs: 100,
  concurrency: 1,
  lockMs: 30_000,
  ...over,
});

beforeAll(async () => {
  redis = d.push(await startRedisServer(), (r) => r.stop());
  dir = mkdtempSync(join(tmpdir(), 'transcode-queue-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
  root = join(dir, 'media');
  video = makeTestVideo(join(dir, 'src'), { seconds: 3 });
});
afterAll(() => d.disposeAll());

/** A fresh asset (its source copied into the store) and a queue prefix of its own, so tests do not share jobs. */
function scenario(sourceFile = video) {
  const id = `t${++n}`;
  mkdirSync(join(root, 'uploads'), { recursive: true });
  copyFileSync(sourceFile, join(root, 'uploads', `${id}.src`));
  const data: TranscodeJobData = { lessonId: `lesson-${id}`, assetId: `asset-${id}`, sourceKey: `uploads/${id}.src`, outputKey: `assets/${id}` };
  return { data, prefix: `test-${id}`, outDir: join(root, 'assets', id) };
}

type Event = { event: string; assetId: string; attempt?: number; fraction?: number; reason?: string; durationSeconds?: number };

/** Status callbacks that record what the worker reported and emit each report by its name. */
function recorder() {
  const events = new EventEmitter();
  const log: Event[] = [];
  const push = (e: Event) => {
    log.push(e);
    events.emit(e.event, e);
  };
  const callbacks: TranscodeCallbacks = {
    onProcessing: (job, attempt) => push({ event: 'processing', assetId: job.assetId, attempt }),
    onProgress: (job, fraction) => push({ event: 'progress', assetId: job.assetId, fraction }),
    onReady: (job, r) => push({ event: 'ready', assetId: job.assetId, durationSeconds: r.durationSeconds }),
    onFailed: (job, reason) => push({ event: 'failed', assetId: job.assetId, reason }),
  };
  return { events, log, callbacks, of: (event: string) => log.filter((e) => e.event === event) };
}

/**
 * BullMQ's own event stream of the queue: a job has `completed` or `failed` only once BullMQ has moved
 * it (the status callbacks run inside the job, just before).
 */
async function jobEvents(prefix: string) {
  const qe = d.push(new QueueEvents(TRANSCODE_QUEUE, { connection: { url: redis.url }, prefix }), (q) => q.close());
  await qe.waitUntilReady();
  return {
    finished: (assetId: string, state: 'completed' | 'failed') =>
      waitForEvent<{ jobId: string }>(qe, state, { timeoutMs: 120_000, filter: (e) => e.jobId === transcodeJobId(assetId) }),
  };
}

/** A SIGKILLed process stays a zombie until it is reaped, so its disappearance is waited for. */
const gone = (pids: number[]) => waitFor(() => pids.every((pid) => !processAlive(pid)), { timeoutMs: 5000, what: `pids ${pids} gone` });

async function openQueue(prefix: string, attempts = 3) {
  return d.push(new TranscodeQueue({ redisUrl: redis.url, logger, attempts, backoffMs: 100, prefix }), (q) => q.close());
}

async function worker(prefix: string, callbacks: TranscodeCallbacks, s: TranscodeSettings) {
  const w = await startTranscodeWorker({ redisUrl: redis.url, logger, storage: folderStorage(root), callbacks, settings: s, prefix, workDir: join(dir, 'work') });
  d.push(w, (x) => x.close());
  return w;
}

it('ffmpeg failing on the first attempt is retried and the asset ends ready', async () => {
  const { data, prefix, outDir } = scenario();
  const rec = recorder();
  const ffmpeg = ffmpegWrappers.failsOnce(join(dir, 'bin-once'));
  const queue = await openQueue(prefix);
  await worker(prefix, rec.callbacks, settings({ ffmpegPath: ffmpeg.path }));
  const completed = (await jobEvents(prefix)).finished(data.assetId, 'completed');
  await queue.enqueue(data);
  await completed;
  expect(rec.of('ready')).toHaveLength(1);
  expect(rec.of('ready')[0].durationSeconds).toBeCloseTo(3, 0);

  expect(rec.of('processing').map((e) => e.attempt)).toEqual([1, 2]);
  expect(rec.of('failed')).toEqual([]);
  expect(existsSync(join(dir, 'bin-once', 'failed-once'))).toBe(true);
  expect(readdirSync(outDir).sort()).toEqual(['360p', '720p', 'master.m3u8', 'poster.jpg', 'video.mp4']);
  expect(await queue.state(data.assetId)).toBe('completed');
  // BullMQ counts finished attempts, the successful one included
  expect(await queue.inspect(data.assetId)).toMatchObject({ attemptsMade: 2, progress: 1 });
  const fractions = rec.of('progress').map((e) => e.fraction!);
  expect(fractions.at(-1)).toBe(1);
});

it('a text file named .mp4 fails at once with "Not a playable video file", without retries', async () => {
  const fake = join(dir, 'src', 'notes.mp4');
  writeFileSync(fake, 'not a video at all\n');
  const { data, prefix, outDir } = scenario(fake);
  const rec = recorder();
  const queue = await openQueue(prefix);
  await worker(prefix, rec.callbacks, settings());
  const failed = (await jobEvents(prefix)).finished(data.assetId, 'failed');
  await queue.enqueue(data);
  await failed;
  expect(rec.of('failed').map((e) => e.reason)).toEqual([NOT_PLAYABLE_MESSAGE]);
  expect(rec.of('processing')).toHaveLength(1);
  expect(await queue.state(data.assetId)).toBe('failed');
  expect(await queue.inspect(data.assetId)).toMatchObject({ attemptsMade: 1, failedReason: NOT_PLAYABLE_MESSAGE });
  expect(existsSync(outDir)).toBe(false);
});

it('ffmpeg is killed at the timeout; the job is retried, then fails with the reason', async () => {
  const { data, prefix, outDir } = scenario();
  const rec = recorder();
  const ffmpeg = ffmpegWrappers.realtime(join(dir, 'bin-slow'));
  const queue = await openQueue(prefix, 2);
  await worker(prefix, rec.callbacks, settings({ ffmpegPath: ffmpeg.path, timeoutMs: 1000 }));
  const failed = (await jobEvents(prefix)).finished(data.assetId, 'failed');
  await queue.enqueue(data);
  await failed;
  expect(rec.of('failed').map((e) => e.reason)).toEqual([expect.stringMatching(/ffmpeg-realtime did not finish within 1 s/)]);
  expect(rec.of('processing').map((e) => e.attempt)).toEqual([1, 2]);
  expect(ffmpeg.pids()).toHaveLength(2);
  await gone(ffmpeg.pids());
  expect(await queue.state(data.assetId)).toBe('failed');
  expect(existsSync(outDir)).toBe(false);
});

it('the reconciler queues lessons left PROCESSING that have no job, and leaves live jobs alone', async () => {
  const a = scenario();
  const b = { ...scenario(), prefix: a.prefix };
  const rec = recorder();
  const queue = await openQueue(a.prefix);
  await queue.enqueue(a.data);
  const report = await reconcileTranscodes({ queue, logger, listProcessing: async () => [a.data, b.data] });
  expect(report).toEqual({ requeued: [b.data.assetId], restarted: [], inFlight: [a.data.assetId] });
  expect(await queue.state(b.data.assetId)).toBe('waiting');

  // a second replica reconciling at the same time adds nothing
  const again = await reconcileTranscodes({ queue, logger, listProcessing: async () => [a.data, b.data] });
  expect(again.requeued).toEqual([]);

  const events = await jobEvents(a.prefix);
  const bothDone = Promise.all([events.finished(a.data.assetId, 'completed'), events.finished(b.data.assetId, 'completed')]);
  await worker(a.prefix, rec.callbacks, settings());
  await bothDone;
  expect(rec.of('ready').map((e) => e.assetId).sort()).toEqual([a.data.assetId, b.data.assetId].sort());
  expect(existsSync(join(b.outDir, 'master.m3u8'))).toBe(true);

  // finished jobs whose lesson still says PROCESSING (the status never landed) are run again
  const firstPoster = statSync(join(b.outDir, 'poster.jpg')).ino;
  const rerun = events.finished(b.data.assetId, 'completed');
  const late = await reconcileTranscodes({ queue, logger, listProcessing: async () => [b.data] });
  expect(late.restarted).toEqual([b.data.assetId]);
  await rerun;
  expect(rec.of('ready').filter((e) => e.assetId === b.data.assetId)).toHaveLength(2);
  // the earlier output was replaced whole
  expect(statSync(join(b.outDir, 'poster.jpg')).ino).not.toBe(firstPoster);
  expect(readdirSync(join(root, 'assets')).filter((f) => f.includes('.partial-'))).toEqual([]);
});

describe('a worker in its own process', () => {
  const FIXTURE = resolve(__dirname, 'fixtures/transcode-worker-main.ts');

  /** Starts the fixture worker as a process group leader, so SIGKILL can take its ffmpeg with it (as a container dies). */
  async function spawnWorker(prefix: string, env: Record<string, string>) {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: resolve(__dirname, '../../..'),
      env: { ...process.env, REDIS_URL: redis.url, MEDIA_ROOT: root, TRANSCODE_WORK_DIR: join(dir, 'work'), BULL_PREFIX: prefix, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const killGroup = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    };
    d.defer(killGroup);
    const events = new EventEmitter();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as Event;
      events.emit(e.event, e);
    });
    await waitForEvent(events, 'started', { timeoutMs: 60_000 });
    return { child, events, killGroup };
  }

  it('a worker SIGKILLed mid-job: a new worker takes the job over and finishes it', async () => {
    const { data, prefix, outDir } = scenario();
    const slow = ffmpegWrappers.realtime(join(dir, 'bin-kill'));
    const queue = await openQueue(prefix);
    const lock = { MEDIA_TRANSCODE_LOCK_MS: '2000', MEDIA_TRANSCODE_BACKOFF_MS: '100' };
    const first = await spawnWorker(prefix, { ...lock, FFMPEG_PATH: slow.path });
    const working = waitForEvent<Event>(first.events, 'progress', { timeoutMs: 60_000, filter: (e) => (e.fraction ?? 0) > 0 });
    await queue.enqueue(data);
    expect((await working).fraction).toBeLessThan(1);
    expect(await queue.state(data.assetId)).toBe('active');

    await first.killGroup();
    await gone(slow.pids());
    expect(existsSync(outDir)).toBe(false);

    const completed = (await jobEvents(prefix)).finished(data.assetId, 'completed');
    const second = await spawnWorker(prefix, lock);
    const ready = await waitForEvent<Event>(second.events, 'ready', { timeoutMs: 90_000 });
    await completed;
    expect(ready).toMatchObject({ assetId: data.assetId });
    expect(ready.durationSeconds).toBeCloseTo(3, 0);
    expect(existsSync(join(outDir, 'master.m3u8'))).toBe(true);
    expect(await queue.state(data.assetId)).toBe('completed');
    // the dead worker's half-written folder is gone
    expect(readdirSync(join(dir, 'work'))).toEqual([]);
  });

  it('SIGTERM hands the running job back without using up an attempt', async () => {
    const { data, prefix } = scenario();
    const slow = ffmpegWrappers.realtime(join(dir, 'bin-term'));
    const queue = await openQueue(prefix);
    const first = await spawnWorker(prefix, { FFMPEG_PATH: slow.path });
    const working = waitForEvent<Event>(first.events, 'progress', { timeoutMs: 60_000, filter: (e) => (e.fraction ?? 0) > 0 });
    await queue.enqueue(data);
    await working;
    const exited = new Promise<number | null>((res) => first.child.once('exit', (code) => res(code)));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await gone(slow.pids());
    expect(await queue.state(data.assetId)).toBe('waiting');
    expect(await queue.inspect(data.assetId)).toMatchObject({ attemptsMade: 0 });
  });
});
