import { z } from 'zod';
import { runTool, ToolError } from './run-tool';

/** What the upload handler and the lesson show when a file is not a video ffmpeg can read. */
export const NOT_PLAYABLE_MESSAGE = 'Not a playable video file';

export class NotPlayableError extends Error {
  constructor(readonly detail: string) {
    super(NOT_PLAYABLE_MESSAGE);
    this.name = 'NotPlayableError';
  }
}

/** What ffprobe found in a file; `hasVideo` false or `durationSeconds` null means not playable. */
export interface ProbeResult {
  hasVideo: boolean;
  hasAudio: boolean;
  durationSeconds: number | null;
  width: number;
  height: number;
}

/** A probe of a file that is playable. */
export interface PlayableVideo extends ProbeResult {
  hasVideo: true;
  durationSeconds: number;
}

export interface ProbeOptions {
  /** ffprobe binary (FFPROBE_PATH, default `ffprobe`). */
  ffprobePath?: string;
  /** A damaged file can make ffprobe read a long time; it is killed after this (default 30 s). */
  timeoutMs?: number;
}

const ffprobeOutput = z.object({
  streams: z
    .array(z.object({ codec_type: z.string().optional(), width: z.number().optional(), height: z.number().optional(), duration: z.string().optional() }))
    .default([]),
  format: z.object({ duration: z.string().optional() }).optional(),
});

/**
 * Reads a file's streams with ffprobe (JSON output). A file ffprobe cannot parse at all (a text file
 * renamed .mp4, a truncated upload) throws NotPlayableError; a missing ffprobe binary or a timeout is a
 * ToolError (our fault, not the file's).
 */
export async function probeMedia(path: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path];
  let out: string;
  try {
    out = await runTool(opts.ffprobePath ?? 'ffprobe', args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  } catch (err) {
    if (err instanceof ToolError && /exit code/.test(err.reason)) throw new NotPlayableError(err.stderrTail.trim() || err.reason);
    throw err;
  }
  const parsed = ffprobeOutput.safeParse(JSON.parse(out || '{}'));
  if (!parsed.success) throw new NotPlayableError('ffprobe output not understood');
  const { streams, format } = parsed.data;
  const video = streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
  const duration = Number(format?.duration ?? video?.duration);
  return {
    hasVideo: !!video,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    durationSeconds: Number.isFinite(duration) && duration > 0 ? duration : null,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
  };
}

/** probeMedia, then NotPlayableError ("Not a playable video file") unless there is a video stream with a duration. */
export async function probeVideo(path: string, opts: ProbeOptions = {}): Promise<PlayableVideo> {
  const p = await probeMedia(path, opts);
  if (!p.hasVideo) throw new NotPlayableError('no video stream');
  if (p.durationSeconds === null) throw new NotPlayableError('no duration');
  return { ...p, hasVideo: true, durationSeconds: p.durationSeconds };
}
