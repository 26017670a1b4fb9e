import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AssetFiles, TranscodeJob, TranscodeJobs } from './lessons/lifecycle';
import { assetPrefix, joinKey, type Storage } from './storage';
import type { TranscodeQueue, TranscodeStorage } from './transcode';

/**
 * Where an asset's files live in Storage, in one place: the uploaded source and the transcoder's output
 * folder (master.m3u8, 360p/…, 720p/…, video.mp4, poster.jpg) both sit under the asset's prefix, so
 * removing the asset is one prefix delete and no other lesson's files can be named.
 */
export const assetKeys = {
  source: (lessonId: string, assetId: string) => joinKey(assetPrefix(lessonId, assetId), 'source'),
  output: (lessonId: string, assetId: string) => joinKey(assetPrefix(lessonId, assetId), 'output'),
};

/** The core's asset files, through Storage (local disk or S3 alike). */
export function storageAssetFiles(storage: Storage): AssetFiles {
  return {
    removeAsset: (lessonId, assetId) => storage.deletePrefix(assetPrefix(lessonId, assetId)),
    async copySource(lessonId, fromAssetId, toAssetId) {
      const key = assetKeys.source(lessonId, toAssetId);
      await storage.copy(assetKeys.source(lessonId, fromAssetId), key);
      return key;
    },
  };
}

/**
 * What the transcoder needs from Storage. The source is copied to a scratch file for ffmpeg on every
 * backend (S3 has no local path); the output folder is published with putFolder, whose files are each
 * written whole, and the lesson only switches to the asset once all of them are there. The output key is
 * never one being served (every transcode that could be served is a new asset), so publishing file by
 * file is safe on S3, where a folder cannot be renamed into place.
 */
export function transcodeStorageOf(storage: Storage): TranscodeStorage {
  return {
    async fetchSource(key) {
      const dir = await mkdtemp(join(tmpdir(), 'dream-media-source-'));
      const path = join(dir, 'source');
      const release = () => rm(dir, { recursive: true, force: true });
      try {
        await pipeline(await storage.read(key), createWriteStream(path));
      } catch (err) {
        await release();
        throw err;
      }
      return { path, release };
    },
    putFolder: (localDir, key) => storage.putFolder(key, localDir),
  };
}

/** The core's job queue on the transcoding module's BullMQ queue, with the output key of the asset. */
export function transcodeJobsOf(queue: TranscodeQueue): TranscodeJobs {
  return { enqueue: (job: TranscodeJob) => queue.enqueue({ ...job, outputKey: assetKeys.output(job.lessonId, job.assetId) }) };
}
