import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOT_PLAYABLE_MESSAGE, NotPlayableError, ToolTimeoutError, probeMedia, probeVideo, transcodeToFolder } from '../src/transcode';
import { ffmpegWrappers, makeTestVideo, mp4TopLevelBoxes, processAlive } from './fixtures/transcode-media';

jest.setTimeout(120_000);

const tools = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', timeoutMs: 120_000 };
let dir: string;
let source: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'transcode-folder-'));
  source = makeTestVideo(dir, { seconds: 3 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ffprobeJson = (file: string) =>
  JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]).toString()) as {
    streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>;
    format: { duration: string; format_name: string };
  };

describe('probe', () => {
  it('reads a video: stream, size and duration', async () => {
    const p = await probeVideo(source);
    expect(p).toMatchObject({ hasVideo: true, hasAudio: true, width: 320, height: 240 });
    expect(p.durationSeconds).toBeGreaterThan(2.5);
    expect(p.durationSeconds).toBeLessThan(3.5);
  });

  it('a text file named .mp4 is "Not a playable video file"', async () => {
    const fake = join(dir, 'notes.mp4');
    writeFileSync(fake, 'these are my lecture notes, not a video\n');
    await expect(probeVideo(fake)).rejects.toThrow('Not a playable video file');
    await expect(probeVideo(fake)).rejects.toBeInstanceOf(NotPlayableError);
    expect(NOT_PLAYABLE_MESSAGE).toBe('Not a playable video file');
  });

  it('a file with audio only has no video stream: not playable', async () => {
    const audio = join(dir, 'tone.m4a');
    execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', audio]);
    expect(await probeMedia(audio)).toMatchObject({ hasVideo: false, hasAudio: true });
    await expect(probeVideo(audio)).rejects.toThrow(NOT_PLAYABLE_MESSAGE);
  });

  it('an ffprobe that is not installed is our error, not the file\'s', async () => {
    await expect(probeVideo(source, { ffprobePath: join(dir, 'no-such-ffprobe') })).rejects.toThrow(/not installed/);
  });
});

describe('transcodeToFolder', () => {
  it('writes the HLS ladder, a faststart MP4 and a poster, and the folder appears only when complete', async () => {
    const out = join(dir, 'lesson-1', 'asset-a');
    const seenDuringRun: boolean[] = [];
    const result = await transcodeToFolder(source, out, { ...tools, onProgress: () => seenDuringRun.push(existsSync(out)) });

    expect(seenDuringRun.length).toBeGreaterThan(0);
    expect(seenDuringRun.every((visible) => !visible)).toBe(true);
    expect(result.source.durationSeconds).toBeCloseTo(3, 0);
    // nothing but the output is left next to it (no work folders)
    expect(readdirSync(join(dir, 'lesson-1'))).toEqual(['asset-a']);

    const master = readFileSync(join(out, 'master.m3u8'), 'utf8');
    const variants = [...master.matchAll(/#EXT-X-STREAM-INF:([^\n]*)\n([^\n]+)/g)].map((m) => ({ attrs: m[1], uri: m[2].trim() }));
    expect(variants.map((v) => v.uri)).toEqual(['360p/index.m3u8', '720p/index.m3u8']);
    expect(variants[0].attrs).toMatch(/RESOLUTION=480x360/);
    expect(variants[1].attrs).toMatch(/RESOLUTION=960x720/);
    for (const { uri } of variants) {
      const playlist = readFileSync(join(out, uri), 'utf8');
      expect(playlist).toMatch(/#EXT-X-PLAYLIST-TYPE:VOD/);
      expect(playlist).toMatch(/#EXT-X-ENDLIST/);
      expect(Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(playlist)?.[1])).toBeLessThanOrEqual(4);
      const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
      expect(segments.length).toBeGreaterThan(0);
      // relative URIs, so a signed path prefix is inherited
      for (const s of segments) {
        expect(s).toMatch(/^seg_\d+\.ts$/);
        const seg = ffprobeJson(join(out, uri, '..', s));
        expect(seg.streams.map((st) => st.codec_type).sort()).toEqual(['audio', 'video']);
      }
    }

    const mp4 = join(out, 'video.mp4');
    const boxes = mp4TopLevelBoxes(mp4);
    expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    const probed = ffprobeJson(mp4);
    expect(probed.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', height: 720 });
    expect(Number(probed.format.duration)).toBeCloseTo(3, 0);

    const poster = readFileSync(join(out, 'poster.jpg'));
    expect(poster.subarray(0, 3).toString('hex')).toBe('ffd8ff');
    expect(result.files).toEqual(expect.arrayContaining(['master.m3u8', '360p/index.m3u8', '720p/index.m3u8', 'video.mp4', 'poster.jpg']));
  });

  it('a source without audio makes video-only renditions', async () => {
    const silent = makeTestVideo(dir, { seconds: 2, audio: false, name: 'silent.mp4' });
    const out = join(dir, 'silent-out');
    await transcodeToFolder(silent, out, tools);
    const seg = readFileSync(join(out, '360p', 'index.m3u8'), 'utf8').split('\n').find((l) => l.startsWith('seg_'))!;
    expect(ffprobeJson(join(out, '360p', seg)).streams.map((s) => s.codec_type)).toEqual(['video']);
  });

  it('reports progress as increasing fractions ending at 1', async () => {
    const realtime = ffmpegWrappers.realtime(join(dir, 'bin-progress'));
    const fractions: number[] = [];
    await transcodeToFolder(source, join(dir, 'progress-out'), { ...tools, ffmpegPath: realtime.path, onProgress: (f) => fractions.push(f) });
    expect(fractions.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThan(fractions[i - 1]);
    expect(fractions[0]).toBeGreaterThan(0);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.slice(0, -1).every((f) => f < 1)).toBe(true);
  });

  it('a text file named .mp4 fails before ffmpeg runs and leaves nothing', async () => {
    const fake = join(dir, 'fake.mp4');
    writeFileSync(fake, 'hello');
    const out = join(dir, 'fake-out', 'asset');
    await expect(transcodeToFolder(fake, out, tools)).rejects.toThrow(NOT_PLAYABLE_MESSAGE);
    expect(existsSync(out)).toBe(false);
  });

  it('kills ffmpeg at the timeout and removes its half-written work', async () => {
    const realtime = ffmpegWrappers.realtime(join(dir, 'bin-timeout'));
    const parent = join(dir, 'timeout-out');
    const out = join(parent, 'asset');
    // -re makes the run last at least the source's 3 s, so 2 s always times out
    const err = await transcodeToFolder(source, out, { ...tools, ffmpegPath: realtime.path, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolTimeoutError);
    expect((err as Error).message).toMatch(/did not finish within 2 s/);
    // on a loaded machine the kill can land before the wrapper wrote its pid: then nothing of it ran at all
    for (const pid of realtime.pids()) expect(processAlive(pid)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('a folder left by a run that died is removed by the next run of the same output', async () => {
    const parent = join(dir, 'stale-out');
    const stale = join(parent, 'asset.partial-deadbeef');
    execFileSync('mkdir', ['-p', join(stale, '360p')]);
    writeFileSync(join(stale, '360p', 'seg_0000.ts'), 'half a segment');
    await transcodeToFolder(source, join(parent, 'asset'), tools);
    expect(readdirSync(parent)).toEqual(['asset']);
  });
});
