import type { z } from 'zod';
import { optionalString, positiveInt } from '@dream/common';

/**
 * Environment the transcoding module reads, spread into the media service's config shape (the service
 * reads its environment once; this module never looks at process.env itself).
 */
export const transcodeEnv = {
  /** ffmpeg binary (Debian's `ffmpeg` package); a path lets tests and hosts pick another build. */
  FFMPEG_PATH: optionalString(),
  /** ffprobe binary (same package as ffmpeg). */
  FFPROBE_PATH: optionalString(),
  /** ffmpeg is killed after this long on one attempt (the job then fails and is retried with backoff). */
  MEDIA_TRANSCODE_TIMEOUT_MS: positiveInt(30 * 60_000),
  /** Attempts per transcode job (first try included). */
  MEDIA_TRANSCODE_ATTEMPTS: positiveInt(3),
  /** First retry delay; each next one doubles (exponential backoff). */
  MEDIA_TRANSCODE_BACKOFF_MS: positiveInt(10_000),
  /** Transcodes one worker process runs at once (each ffmpeg already uses several cores). */
  MEDIA_TRANSCODE_CONCURRENCY: positiveInt(1),
  /**
   * How long a worker's claim on a job lasts without renewal: a worker that died (SIGKILL, lost host)
   * gives its job back to the queue after about this long.
   */
  MEDIA_TRANSCODE_LOCK_MS: positiveInt(30_000),
};

type TranscodeEnv = z.infer<z.ZodObject<typeof transcodeEnv>>;

/** What the queue, the worker and the ffmpeg job need, resolved from the environment. */
export interface TranscodeSettings {
  ffmpegPath: string;
  ffprobePath: string;
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  concurrency: number;
  lockMs: number;
}

export function transcodeSettings(c: TranscodeEnv): TranscodeSettings {
  return {
    ffmpegPath: c.FFMPEG_PATH ?? 'ffmpeg',
    ffprobePath: c.FFPROBE_PATH ?? 'ffprobe',
    timeoutMs: c.MEDIA_TRANSCODE_TIMEOUT_MS,
    attempts: c.MEDIA_TRANSCODE_ATTEMPTS,
    backoffMs: c.MEDIA_TRANSCODE_BACKOFF_MS,
    concurrency: c.MEDIA_TRANSCODE_CONCURRENCY,
    lockMs: c.MEDIA_TRANSCODE_LOCK_MS,
  };
}
