import type { TraceCarrier } from '@dream/common/tracing';

/** One transcode: a lesson's uploaded asset, from its source in storage to its output folder in storage. */
export interface TranscodeJobData {
  lessonId: string;
  /** A new asset per upload: the lesson switches to it only when it is READY. */
  assetId: string;
  /** Storage key of the uploaded source file. */
  sourceKey: string;
  /** Storage key the output folder is published under (never one that is being served). */
  outputKey: string;
  /** The request that queued it, so the worker's log lines carry the same id as the gateway's. */
  requestId?: string;
  /** The queuing request's trace context (W3C traceparent), so the transcode joins its trace. */
  trace?: TraceCarrier;
  /** The service core's own mark, carried through untouched: a retranscode of the playing video. */
  retranscode?: boolean;
}

export const TRANSCODE_QUEUE = 'media-transcode';

/**
 * One job per asset: the id is derived from it, so enqueueing the same asset twice (a retried request,
 * the reconciler racing an upload) adds nothing. BullMQ refuses ids that are plain integers.
 */
export const transcodeJobId = (assetId: string) => `asset-${assetId}`;

/** What a finished transcode found out about the source (kept on the completed job too). */
export interface TranscodeJobResult {
  durationSeconds: number;
  width: number;
  height: number;
}

/** What the worker reports; the service core maps each to the lesson row and a lessonUpdated event. */
export interface TranscodeCallbacks {
  /** A worker has started (or restarted) the job. */
  onProcessing(job: TranscodeJobData, attempt: number): Promise<void> | void;
  /** ffmpeg's progress, 0..1, increasing within one attempt. */
  onProgress(job: TranscodeJobData, fraction: number): Promise<void> | void;
  /** The output is published under `job.outputKey`. */
  onReady(job: TranscodeJobData, result: TranscodeJobResult): Promise<void> | void;
  /**
   * The job will not be tried again: the source is not a video (reason "Not a playable video file",
   * no retries) or every attempt failed (reason names the last failure).
   */
  onFailed(job: TranscodeJobData, reason: string): Promise<void> | void;
}
