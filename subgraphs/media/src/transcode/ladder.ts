/**
 * The output every transcode produces, and the ffmpeg arguments that make it. Names here are the layout
 * playback serves: `master.m3u8` refers to `<rendition>/index.m3u8` by relative URI, so a signed path
 * prefix in front of the master is inherited by every playlist and segment.
 */

export interface Rendition {
  /** Folder and HLS variant name. */
  name: string;
  height: number;
  videoKbps: number;
  audioKbps: number;
}

/** The spec's ladder: 360p and 720p (width follows the source's aspect, rounded to even). */
export const RENDITIONS: readonly Rendition[] = [
  { name: '360p', height: 360, videoKbps: 800, audioKbps: 96 },
  { name: '720p', height: 720, videoKbps: 2800, audioKbps: 128 },
];

export const OUTPUT_FILES = {
  master: 'master.m3u8',
  variantPlaylist: 'index.m3u8',
  mp4: 'video.mp4',
  poster: 'poster.jpg',
} as const;

export const SEGMENT_SECONDS = 4;

/** The progressive MP4 uses the top rendition. */
const MP4_RENDITION = RENDITIONS[RENDITIONS.length - 1];

const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-profile:v', 'high'];

function rateArgs(stream: number, r: Rendition): string[] {
  // capped CRF: quality-driven, but the peak stays near the advertised BANDWIDTH so players can pick a variant
  const s = `:v:${stream}`;
  return [`-b${s}`, `${r.videoKbps}k`, `-maxrate${s}`, `${Math.round(r.videoKbps * 1.07)}k`, `-bufsize${s}`, `${Math.round(r.videoKbps * 1.5)}k`];
}

/**
 * One ffmpeg run: the HLS VOD ladder (segments cut on forced key frames every SEGMENT_SECONDS, master
 * playlist written by ffmpeg) and the progressive MP4 (+faststart: the index first, so a <video> element
 * starts before the whole file has arrived). Progress goes to stdout as `key=value` lines.
 */
export function transcodeArgs(input: string, outDir: string, hasAudio: boolean): string[] {
  const n = RENDITIONS.length;
  const labels = [...RENDITIONS.map((_, i) => `[v${i}]`), '[vmp4]'];
  const scales = [...RENDITIONS, MP4_RENDITION].map((r, i) => `[s${i}]scale=-2:${r.height}${labels[i]}`);
  const filter = `[0:v:0]split=${n + 1}${labels.map((_, i) => `[s${i}]`).join('')};${scales.join(';')}`;
  const audio = (r: Rendition, stream: number) => (hasAudio ? ['-map', '0:a:0', `-b:a:${stream}`, `${r.audioKbps}k`] : []);
  const hlsMaps = RENDITIONS.flatMap((r, i) => ['-map', labels[i], ...audio(r, i)]);
  const varStreams = RENDITIONS.map((r, i) => `v:${i}${hasAudio ? `,a:${i}` : ''},name:${r.name}`).join(' ');
  const keyFrames = ['-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`];
  return [
    ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-progress', 'pipe:1', '-nostats'],
    ['-filter_complex', filter],
    [...hlsMaps, ...x264, ...RENDITIONS.flatMap((r, i) => rateArgs(i, r)), ...keyFrames, '-c:a', 'aac', '-ac', '2'],
    ['-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod', '-hls_flags', 'independent_segments'],
    ['-hls_segment_filename', `${outDir}/%v/seg_%04d.ts`, '-master_pl_name', OUTPUT_FILES.master, '-var_stream_map', varStreams],
    [`${outDir}/%v/${OUTPUT_FILES.variantPlaylist}`],
    ['-map', '[vmp4]', ...audio(MP4_RENDITION, 0), ...x264, ...rateArgs(0, MP4_RENDITION), '-c:a', 'aac', '-ac', '2'],
    ['-movflags', '+faststart', `${outDir}/${OUTPUT_FILES.mp4}`],
  ].flat();
}

/** The poster: one frame a little into the video (the first frames are often black), JPEG at 720p height. */
export function posterArgs(input: string, outDir: string, durationSeconds: number): string[] {
  const at = Math.min(1, durationSeconds / 2).toFixed(3);
  return ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-ss', at, '-i', input, '-frames:v', '1', '-vf', `scale=-2:${MP4_RENDITION.height}`, '-q:v', '3', `${outDir}/${OUTPUT_FILES.poster}`];
}
