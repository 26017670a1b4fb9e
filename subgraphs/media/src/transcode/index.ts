/**
 * Transcoding: ffprobe checks, the ffmpeg job (HLS 360p/720p, progressive MP4, poster), the BullMQ queue
 * and worker, and the start-up reconciler. Self-contained: dependencies come in as parameters.
 */
export { NOT_PLAYABLE_MESSAGE, NotPlayableError, probeMedia, probeVideo, type PlayableVideo, type ProbeResult } from './probe';
export { OUTPUT_FILES, RENDITIONS, SEGMENT_SECONDS } from './ladder';
export { replaceFolder, transcodeToFolder, type TranscodeFolderOptions, type TranscodeResult } from './transcode-folder';
export { TRANSCODE_QUEUE, transcodeJobId, type TranscodeCallbacks, type TranscodeJobData, type TranscodeJobResult } from './job';
export { TranscodeQueue, type TranscodeQueueOptions, type TranscodeJobState } from './queue';
export { startTranscodeWorker, type TranscodeWorkerHandle, type TranscodeWorkerOptions } from './worker';
export { reconcileTranscodes, type ReconcileOptions, type ReconcileReport } from './reconciler';
export { transcodeEnv, transcodeSettings, type TranscodeSettings } from './settings';
export type { TranscodeStorage } from './storage';
export { ToolError, ToolTimeoutError } from './run-tool';
