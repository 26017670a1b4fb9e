import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RENDITIONS, posterArgs, transcodeArgs } from './ladder';
import { probeVideo, type PlayableVideo } from './probe';
import { progressLineParser } from './progress';
import { runTool } from './run-tool';

export interface TranscodeFolderOptions {
  ffmpegPath: string;
  ffprobePath: string;
  /** ffmpeg is killed after this long (each of its runs). */
  timeoutMs: number;
  /** 0..1, increasing, ending with 1 when ffmpeg is done. */
  onProgress?: (fraction: number) => void;
  /** Aborting kills ffmpeg and leaves nothing behind. */
  signal?: AbortSignal;
}

export interface TranscodeResult {
  /** The source's probe (duration, size): the lesson's durationSeconds. */
  source: PlayableVideo;
  /** Paths of the files written, relative to the output folder. */
  files: string[];
}

const PARTIAL = '.partial-';
/**
 * ffprobe reads headers only; a probe that takes longer is stuck on a damaged file. Its own limit, not the
 * transcode's: a short ffmpeg timeout must not fail a probe that a busy machine merely started late.
 */
const PROBE_TIMEOUT_MS = 60_000;

/** Work folders are siblings of the output so the final rename stays on one filesystem (atomic). */
const partialPrefix = (outDir: string) => `${basename(outDir)}${PARTIAL}`;

/**
 * Transcodes `input` into `outDir` (master.m3u8 + 360p/ + 720p/, video.mp4, poster.jpg). Everything is
 * written to a fresh sibling folder and renamed to `outDir` only when ffmpeg has succeeded, so no reader
 * ever sees a half-written output; on any failure the work folder is removed. Work folders left by a
 * process that died mid-run (same output, so the same job: nobody else is writing them) are removed first.
 * Throws NotPlayableError for a source that is not a video, ToolError/ToolTimeoutError when ffmpeg fails.
 */
export async function transcodeToFolder(input: string, outDir: string, opts: TranscodeFolderOptions): Promise<TranscodeResult> {
  const source = await probeVideo(input, { ffprobePath: opts.ffprobePath, timeoutMs: PROBE_TIMEOUT_MS });
  await removeStaleWork(outDir);
  const work = `${outDir}${PARTIAL}${randomBytes(6).toString('hex')}`;
  try {
    for (const r of RENDITIONS) await mkdir(join(work, r.name), { recursive: true });
    const onStdoutLine = opts.onProgress && progressLineParser(source.durationSeconds, opts.onProgress);
    const run = { timeoutMs: opts.timeoutMs, signal: opts.signal };
    await runTool(opts.ffmpegPath, transcodeArgs(input, work, source.hasAudio), { ...run, onStdoutLine });
    await runTool(opts.ffmpegPath, posterArgs(input, work, source.durationSeconds), run);
    const files = await listFiles(work);
    await replaceFolder(work, outDir);
    return { source, files };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

async function removeStaleWork(outDir: string): Promise<void> {
  const parent = dirname(outDir);
  await mkdir(parent, { recursive: true });
  const prefix = partialPrefix(outDir);
  for (const name of await readdir(parent)) {
    if (name.startsWith(prefix)) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Renames folder `from` to `to` on one filesystem. rename() cannot replace a non-empty folder, so an
 * existing `to` (the output of an earlier run of the same asset) is first moved aside and removed after:
 * readers see the old or the new folder whole, never a mix.
 */
export async function replaceFolder(from: string, to: string): Promise<void> {
  const exists = await stat(to).then(
    () => true,
    () => false,
  );
  if (!exists) return rename(from, to);
  const old = `${to}${PARTIAL}old-${randomBytes(6).toString('hex')}`;
  await rename(to, old);
  await rename(from, to);
  await rm(old, { recursive: true, force: true });
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

