import { closeRedis, createLogger, createRedis, type Logger } from '@dream/common';
import { openDatabase, parseDatabaseUrl } from '@dream/common/db';
import type { Redis } from 'ioredis';
import type { MediaConfig } from './config';
import { LessonsRepository } from './data/lessons-repository';
import { mediaMigrations } from './data/migrations';
import type { MediaDb } from './data/types';
import { localAssetFiles } from './asset-files';
import { RedisMediaEvents } from './lessons/events';
import type { Lesson } from './lessons/lesson';
import { LessonLifecycle, type AssetFiles, type TranscodeJobs } from './lessons/lifecycle';
import { courseAccessFor } from './service';

/**
 * What the transcoding module's worker gets from the core: the Redis connection its queue runs on, where
 * files live, the life-cycle callbacks it reports to, and the lessons left PROCESSING for its reconciler.
 */
export interface TranscodeWorkerDeps {
  redis: Redis;
  logger: Logger;
  mediaDir: string;
  /** progress(lessonId, assetId, percent), ready(…, {durationSeconds}), failed(…, reason). */
  lifecycle: Pick<LessonLifecycle, 'progress' | 'ready' | 'failed'>;
  /** Lessons PROCESSING now (the reconciler re-queues those with no job). */
  processingLessons(): Promise<Lesson[]>;
}

/** The transcoding module's entry: starts consuming jobs; stop() lets the current job end or be retried. */
export type StartTranscodeWorker = (deps: TranscodeWorkerDeps) => Promise<{ jobs: TranscodeJobs; stop(): Promise<void> }>;

/**
 * MEDIA_ROLE=worker: the transcoding worker in a process of its own, scaled on its own. It shares the API
 * replicas' database, Redis and files, and reports through the same life cycle (events, notifications).
 */
export async function startMediaWorker(config: MediaConfig, startTranscodeWorker: StartTranscodeWorker, files?: AssetFiles) {
  const logger = createLogger('media-worker', { level: config.LOG_LEVEL });
  const db = await openDatabase<MediaDb>({ url: config.DATABASE_URL, migrations: mediaMigrations(parseDatabaseUrl(config.DATABASE_URL).dialect), logger });
  const redis = createRedis(config.REDIS_URL, logger);
  const lessons = new LessonsRepository(db.db, db.dialect);
  const access = courseAccessFor(config, logger);
  const lifecycle = new LessonLifecycle({ lessons, events: new RedisMediaEvents(redis, logger), access, files: files ?? localAssetFiles(config.MEDIA_DIR), logger });
  const worker = await startTranscodeWorker({ redis, logger, mediaDir: config.MEDIA_DIR, lifecycle, processingLessons: () => lessons.processing() });
  return {
    logger,
    stop: async () => {
      await worker.stop();
      await access.close();
      await closeRedis(redis);
      await db.close();
    },
  };
}
