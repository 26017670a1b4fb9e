import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Logger } from '@dream/common';
import { inJobSpan } from '@dream/common/tracing';
import { TRANSCODE_QUEUE, type TranscodeCallbacks, type TranscodeJobData, type TranscodeJobResult } from './job';
import { NOT_PLAYABLE_MESSAGE, NotPlayableError } from './probe';
import { bullConnection } from './queue';
import { ToolError } from './run-tool';
import type { TranscodeSettings } from './settings';
import type { TranscodeStorage } from './storage';
import { transcodeToFolder } from './transcode-folder';

export interface TranscodeWorkerOptions {
  /** The platform's Redis (same as the queue's). */
  redisUrl: string;
  logger: Logger;
  storage: TranscodeStorage;
  callbacks: TranscodeCallbacks;
  settings: TranscodeSettings;
  /** Scratch space for outputs before they are published (default <tmp>/dream-media-transcode). */
  workDir?: string;
  /** BullMQ key prefix (default `bull`); must match the queue's. */
  prefix?: string;
}

export interface TranscodeWorkerHandle {
  /**
   * Stops taking jobs, kills running ffmpegs and puts their jobs back in the queue (no attempt is used
   * up: another worker starts them again at once), then disconnects.
   */
  close(): Promise<void>;
  /** Whether the worker is taking jobs (false once closing, or if BullMQ stopped its loop). */
  running(): boolean;
}

/** Asset ids become folder names: anything but a plain token is hashed, so no id can name a path. */
const folderName = (assetId: string) => (/^[A-Za-z0-9_-]{1,64}$/.test(assetId) ? assetId : createHash('sha256').update(assetId).digest('hex'));

/**
 * A transcode worker. It can run inside the media service or in its own process (MEDIA_ROLE=worker) and
 * scales by running more of them: BullMQ hands each job to one worker and gives it back to the queue when
 * that worker dies (its lock lapses after `settings.lockMs`).
 */
export async function startTranscodeWorker(opts: TranscodeWorkerOptions): Promise<TranscodeWorkerHandle> {
  const { settings, logger } = opts;
  const workDir = opts.workDir ?? join(tmpdir(), 'dream-media-transcode');
  const connection = bullConnection(opts.redisUrl, logger);
  let closing = false;
  const worker = new Worker<TranscodeJobData, TranscodeJobResult>(
    TRANSCODE_QUEUE,
    (job, token, signal) =>
      inJobSpan('media.transcode', job.data.trace, spanAttributes(job), () => processJob(job, { ...opts, workDir }, { token, signal, closing: () => closing })),
    {
      connection,
      prefix: opts.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockMs,
      stalledInterval: settings.lockMs,
      // a job whose worker died twice is still worth a third worker; beyond that it is the job
      maxStalledCount: 2,
    },
  );
  worker.on('error', (err) => logger.warn({ err: err.message }, 'transcode worker: redis error'));
  await worker.waitUntilReady();
  logger.info({ concurrency: settings.concurrency, workDir }, 'transcode worker started');
  return {
    async close() {
      closing = true;
      worker.cancelAllJobs('worker closing');
      await worker.close();
      connection.disconnect();
    },
    running: () => !closing && worker.isRunning(),
  };
}

type WorkerContext = TranscodeWorkerOptions & { workDir: string };

interface RunContext {
  token?: string;
  signal?: AbortSignal;
  closing(): boolean;
}

/** What a transcode span says about its job (the request id as on the services' server spans). */
function spanAttributes(job: Job<TranscodeJobData>) {
  const { lessonId, assetId, requestId } = job.data;
  return { 'media.lesson_id': lessonId, 'media.asset_id': assetId, 'media.attempt': job.attemptsMade + 1, ...(requestId ? { 'request.id': requestId } : {}) };
}

async function processJob(job: Job<TranscodeJobData>, opts: WorkerContext, run: RunContext): Promise<TranscodeJobResult> {
  const { callbacks, settings, storage } = opts;
  const data = job.data;
  const attempt = job.attemptsMade + 1;
  const log = opts.logger.child({ lessonId: data.lessonId, assetId: data.assetId, attempt, ...(data.requestId ? { requestId: data.requestId } : {}) });
  await callbacks.onProcessing(data, attempt);
  const outDir = join(opts.workDir, folderName(data.assetId));
  const progress = progressReporter(job, callbacks, log);
  let source: Awaited<ReturnType<TranscodeStorage['fetchSource']>> | undefined;
  try {
    source = await storage.fetchSource(data.sourceKey);
    const { source: probe } = await transcodeToFolder(source.path, outDir, {
      ffmpegPath: settings.ffmpegPath,
      ffprobePath: settings.ffprobePath,
      timeoutMs: settings.timeoutMs,
      signal: run.signal,
      onProgress: progress.report,
    });
    await progress.settled();
    await storage.putFolder(outDir, data.outputKey);
    const result: TranscodeJobResult = { durationSeconds: probe.durationSeconds, width: probe.width, height: probe.height };
    await callbacks.onReady(data, result);
    log.info(result, 'transcode ready');
    return result;
  } catch (err) {
    await progress.settled();
    throw await failure(err, job, run, opts, log);
  } finally {
    await source?.release();
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Maps what went wrong to what BullMQ should do with the job, telling the service core when it is final. */
async function failure(err: unknown, job: Job<TranscodeJobData>, run: RunContext, opts: TranscodeWorkerOptions, log: Logger): Promise<Error> {
  if (run.closing() && run.signal?.aborted) {
    // shutting down is not the job's fault: back to the queue without using an attempt
    await job.moveToWait(run.token);
    log.info('transcode handed back: worker closing');
    return new WaitingError();
  }
  if (err instanceof NotPlayableError) {
    log.warn({ detail: err.detail }, 'transcode source is not playable');
    await opts.callbacks.onFailed(job.data, NOT_PLAYABLE_MESSAGE);
    return new UnrecoverableError(NOT_PLAYABLE_MESSAGE);
  }
  const reason = err instanceof ToolError ? err.reason : 'Transcoding failed';
  const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  log.warn({ err: err instanceof Error ? err.message : String(err), stderr: err instanceof ToolError ? err.stderrTail : undefined, final }, 'transcode attempt failed');
  if (final) await opts.callbacks.onFailed(job.data, reason);
  return err instanceof Error ? err : new Error(reason);
}

/**
 * Progress goes to the job (for anyone inspecting the queue) and to the service core, in order: each
 * report waits for the previous one, so a slow Redis write cannot make the fraction go backwards.
 */
function progressReporter(job: Job<TranscodeJobData>, callbacks: TranscodeCallbacks, log: Logger) {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    report(fraction: number) {
      chain = chain
        .then(() => Promise.all([job.updateProgress(fraction), callbacks.onProgress(job.data, fraction)]))
        .catch((err: Error) => log.warn({ err: err.message }, 'transcode progress not recorded'));
    },
    settled: () => chain,
  };
}
