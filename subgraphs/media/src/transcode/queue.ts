import { Queue, type JobState } from 'bullmq';
import { createRedis, type Logger, type Redis } from '@dream/common';
import { currentTraceCarrier } from '@dream/common/tracing';
import { TRANSCODE_QUEUE, transcodeJobId, type TranscodeJobData } from './job';

export interface TranscodeQueueOptions {
  /** The platform's Redis (redis:// or the sentinel URL of redisUrlFromEnv). */
  redisUrl: string;
  logger: Logger;
  /** Attempts per job, first included (MEDIA_TRANSCODE_ATTEMPTS). */
  attempts: number;
  /** First retry delay, doubled on each next one (MEDIA_TRANSCODE_BACKOFF_MS). */
  backoffMs: number;
  /** BullMQ key prefix (default `bull`). */
  prefix?: string;
}

export type TranscodeJobState = JobState | 'missing';

/** Finished jobs are kept a while for inspection, then dropped (Redis is not an archive). */
const KEEP_COMPLETED = { age: 24 * 3600, count: 1000 };
const KEEP_FAILED = { age: 7 * 24 * 3600 };

/** BullMQ connections need no per-command retry limit: a worker's blocking reads wait on Redis by design. */
export function bullConnection(redisUrl: string, logger: Logger): Redis {
  return createRedis(redisUrl, logger, { maxRetriesPerRequest: null, commandTimeout: undefined });
}

/** The producer side: the upload handler and retranscodeLesson enqueue, the reconciler inspects. */
export class TranscodeQueue {
  private readonly queue: Queue<TranscodeJobData>;

  constructor(
    private readonly opts: TranscodeQueueOptions,
    private readonly connection: Redis = bullConnection(opts.redisUrl, opts.logger),
  ) {
    this.queue = new Queue<TranscodeJobData>(TRANSCODE_QUEUE, {
      connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: opts.attempts,
        backoff: { type: 'exponential', delay: opts.backoffMs },
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      },
    });
    this.queue.on('error', (err) => opts.logger.warn({ err: err.message }, 'transcode queue: redis error'));
  }

  /**
   * Queues a transcode of the asset. Idempotent while a job for it is waiting or running; a finished
   * job (a retranscode of the same asset, or one whose result never reached the lesson) is replaced.
   */
  async enqueue(data: TranscodeJobData): Promise<void> {
    const id = transcodeJobId(data.assetId);
    const state = await this.state(data.assetId);
    if (state === 'completed' || state === 'failed') await this.queue.remove(id);
    const trace = data.trace ?? currentTraceCarrier();
    await this.queue.add('transcode', trace ? { ...data, trace } : data, { jobId: id });
    this.opts.logger.info({ lessonId: data.lessonId, assetId: data.assetId, requestId: data.requestId, replaced: state }, 'transcode queued');
  }

  async state(assetId: string): Promise<TranscodeJobState> {
    const s = await this.queue.getJobState(transcodeJobId(assetId));
    return s === 'unknown' ? 'missing' : s;
  }

  /** The job's reported progress (0..1) and attempts made, for status pages and tests. */
  async inspect(assetId: string): Promise<{ progress: number; attemptsMade: number; failedReason?: string } | undefined> {
    const job = await this.queue.getJob(transcodeJobId(assetId));
    if (!job) return undefined;
    return { progress: typeof job.progress === 'number' ? job.progress : 0, attemptsMade: job.attemptsMade, failedReason: job.failedReason || undefined };
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}
