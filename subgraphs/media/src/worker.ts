import { checkSecrets, closeRedis, createLogger, createRedis, redisHealthy, type Logger } from '@dream/common';
import { databaseHealthy, openDatabase, parseDatabaseUrl } from '@dream/common/db';
import { workerRequiredSecrets, type MediaConfig } from './config';
import { LessonsRepository } from './data/lessons-repository';
import { mediaMigrations } from './data/migrations';
import type { MediaDb } from './data/types';
import { RedisMediaEvents } from './lessons/events';
import { LessonLifecycle } from './lessons/lifecycle';
import { assetKeys, storageAssetFiles, transcodeJobsOf, transcodeStorageOf } from './media-files';
import { courseAccessFor } from './service';
import { createStorage, storageSettingsFromEnv } from './storage';
import { startWorkerHealthServer } from './worker-health';
import { reconcileTranscodes, startTranscodeWorker, TranscodeQueue, transcodeSettings, type TranscodeCallbacks } from './transcode';

/** A failed retranscode leaves the lesson READY on its previous video: the reason says both. */
const retranscodeFailure = (reason: string) => `Retranscoding failed: ${reason.replace(/\.?$/, '.')} The previous video is still served.`;

/** The worker's reports mapped onto the lesson's life cycle (rows, lesson.updated, READY notifications). */
function lifecycleCallbacks(lifecycle: LessonLifecycle): TranscodeCallbacks {
  return {
    onProcessing: (job) => lifecycle.progress(job.lessonId, job.assetId, 0),
    onProgress: (job, fraction) => lifecycle.progress(job.lessonId, job.assetId, Math.min(99, Math.floor(fraction * 100))),
    onReady: async (job, result) => void (await lifecycle.ready(job.lessonId, job.assetId, { durationSeconds: result.durationSeconds })),
    onFailed: async (job, reason) => void (await lifecycle.failed(job.lessonId, job.assetId, job.retranscode ? retranscodeFailure(reason) : reason)),
  };
}

/**
 * MEDIA_ROLE=worker: the transcoding worker in a process of its own, scaled on its own. It shares the API
 * replicas' database, Redis and Storage, and reports through the same life cycle (events, notifications).
 * At start it re-queues lessons left PROCESSING with no live job. It answers GET /health on PORT (database,
 * Redis, its job loop), so containers and pods probe it like the other services.
 */
export async function startMediaWorker(config: MediaConfig): Promise<MediaWorker> {
  const logger = createLogger('media-worker', { level: config.LOG_LEVEL });
  checkSecrets('media-worker', config, workerRequiredSecrets(config), logger);
  const db = await openDatabase<MediaDb>({ url: config.DATABASE_URL, migrations: mediaMigrations(parseDatabaseUrl(config.DATABASE_URL).dialect), logger });
  const redis = createRedis(config.REDIS_URL, logger);
  const settings = transcodeSettings(config);
  const storage = createStorage(storageSettingsFromEnv('media', config));
  const queue = new TranscodeQueue({ redisUrl: config.REDIS_URL, logger, attempts: settings.attempts, backoffMs: settings.backoffMs });
  const lessons = new LessonsRepository(db.db, db.dialect);
  const access = courseAccessFor(config, logger);
  const events = new RedisMediaEvents(redis, logger);
  const lifecycle = new LessonLifecycle({ lessons, events, access, files: storageAssetFiles(storage), jobs: transcodeJobsOf(queue), logger });
  const worker = await startTranscodeWorker({ redisUrl: config.REDIS_URL, logger, storage: transcodeStorageOf(storage), callbacks: lifecycleCallbacks(lifecycle), settings });
  await reconcileTranscodes({ queue, logger, listProcessing: () => processingJobs(lessons) });
  const health = await startWorkerHealthServer({
    port: config.PORT,
    host: config.HOST,
    logger,
    checks: { database: () => databaseHealthy(db), redis: () => redisHealthy(redis), worker: () => worker.running() },
  });
  logger.info({ healthPort: health.port }, 'media transcoding worker started');
  return {
    logger,
    healthUrl: health.base,
    stop: async () => {
      // jobs first (ffmpeg killed, each job handed back to the queue), then the health answer goes away
      await worker.close();
      await health.stop();
      await queue.close();
      await access.close();
      await closeRedis(redis);
      await db.close();
    },
  };
}

/** A running transcoding worker. */
export interface MediaWorker {
  logger: Logger;
  /** http://127.0.0.1:<port> of its /health. */
  healthUrl: string;
  stop(): Promise<void>;
}

/** The lessons left PROCESSING as the jobs that would finish them (their pending asset's source). */
async function processingJobs(lessons: LessonsRepository) {
  return (await lessons.processing())
    .filter((l) => l.pendingAssetId)
    .map((l) => {
      const assetId = l.pendingAssetId as string;
      return { lessonId: l.id, assetId, sourceKey: assetKeys.source(l.id, assetId), outputKey: assetKeys.output(l.id, assetId) };
    });
}
