import type { HttpRoute } from '@dream/common/subgraph';
import type { Logger, Redis } from '@dream/common';
import type { RouteInput } from '@dream/common';
import type { MediaConfig } from './config';
import type { LessonsRepository } from './data/lessons-repository';
import type { LessonLifecycle } from './lessons/lifecycle';
import type { UploadGate } from './lessons/upload-gate';
import { assetKeys } from './media-files';
import { createPlaybackHandler, PLAYBACK_PATH } from './playback';
import type { Storage } from './storage';
import { NOT_PLAYABLE_MESSAGE, probeVideo, NotPlayableError, type TranscodeSettings } from './transcode';
import { createUploadHandler, RedisLocker, UPLOAD_PATH, type UploadedFile, type UploadVerdict } from './upload';

/** What the /media routes (tus uploads, signed playback) get from the core. */
export interface MediaRouteDeps {
  config: MediaConfig;
  signingSecret: string;
  lessons: LessonsRepository;
  lifecycle: LessonLifecycle;
  /** Ticket, size, quota and single-use checks of each tus request. */
  uploads: UploadGate;
  storage: Storage;
  transcode: TranscodeSettings;
  /** Shares tus's per-upload lock between the replicas (they share MEDIA_UPLOAD_DIR). */
  redis: Redis;
  logger: Logger;
}

/**
 * What media announces to discovery: the gateway proxies everything under `/media/` here, and keeps the
 * requests of one tus upload (the segment after `/media/uploads/`) on one replica.
 */
export const MEDIA_ANNOUNCED_ROUTES: readonly RouteInput[] = [{ prefix: '/media/', sticky: { afterPrefix: `${UPLOAD_PATH}/` } }];

/** ffprobe's verdict on a finished upload; a missing tool is our fault, so it throws (503), not 422. */
async function playable(path: string, settings: TranscodeSettings): Promise<UploadVerdict> {
  try {
    await probeVideo(path, { ffprobePath: settings.ffprobePath });
    return { playable: true };
  } catch (err) {
    if (err instanceof NotPlayableError) return { playable: false, reason: NOT_PLAYABLE_MESSAGE };
    throw err;
  }
}

/** A playable upload: the source goes into Storage, then the lesson is PROCESSING and its transcode queued. */
async function received(deps: MediaRouteDeps, file: UploadedFile): Promise<void> {
  const key = assetKeys.source(file.lessonId, file.assetId);
  await deps.storage.putFile(key, file.path);
  await deps.lifecycle.uploadReceived(file.lessonId, file.assetId, { key, sizeBytes: file.size }, file.requestId);
}

/**
 * The plain HTTP routes of the media service: `/media/play/<token>/<file>` (signed playback) and
 * `/media/uploads` (tus). The gateway reaches them through the prefix announced above.
 */
export function mountMediaRoutes(deps: MediaRouteDeps): { routes: HttpRoute[]; close(): Promise<void> } {
  const { config, lessons, logger } = deps;
  const playback = createPlaybackHandler({
    storage: deps.storage,
    secret: deps.signingSecret,
    logger,
    delivery: config.MEDIA_PLAYBACK_DELIVERY,
    // only the lesson's current asset plays: a token for a replaced or foreign asset reaches nothing
    assetPrefixFor: async (claims) => {
      const lesson = await lessons.findById(claims.lessonId);
      return lesson?.currentAssetId === claims.assetId ? assetKeys.output(claims.lessonId, claims.assetId) : null;
    },
  });
  const locker = new RedisLocker({ redis: deps.redis });
  const upload = createUploadHandler({
    directory: config.MEDIA_UPLOAD_DIR,
    maxUploadBytes: config.MEDIA_MAX_UPLOAD_BYTES,
    checks: deps.uploads,
    validate: (path) => playable(path, deps.transcode),
    onUploaded: (file) => received(deps, file),
    onRejected: async (r) => void (await deps.lifecycle.failed(r.lessonId, r.assetId, NOT_PLAYABLE_MESSAGE)),
    locker,
    expireAfterMs: config.MEDIA_UPLOAD_EXPIRY_SECONDS * 1000,
    cleanupIntervalMs: config.MEDIA_UPLOAD_CLEANUP_SECONDS * 1000,
    logger,
  });
  return {
    routes: [
      { prefix: PLAYBACK_PATH.replace(/\/$/, ''), handle: (req, res) => playback(req, res) },
      { prefix: UPLOAD_PATH, handle: (req, res) => upload.handle(req, res) },
    ],
    close: async () => {
      upload.close();
      await locker.close();
    },
  };
}
