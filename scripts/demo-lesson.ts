/**
 * The demo lesson for `npm start`'s first start: a few seconds of ffmpeg's `testsrc` pattern, made at seed
 * time into a temporary file and uploaded the way the web app uploads one: `createLesson` and
 * `requestLessonUpload` over GraphQL as the demo owner, then tus 1.0 through the gateway with the ticket's
 * token. The media worker transcodes it in the background; the lesson turns READY a few seconds later,
 * playable by demo-student (who bought that course). Start-up waits only for the small file to be made
 * and sent, never for the transcode.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gatewayGraphql } from './gateway-graphql';

const run = promisify(execFile);

export interface DemoLesson {
  id: string;
  title: string;
  courseId: string;
}

export interface DemoLessonOptions {
  gatewayUrl: string;
  /** The course it goes into (demo-student's) and the owner who may upload to it. */
  courseId: string;
  owner: { username: string; password: string };
  /** ffmpeg binary (FFMPEG_PATH, else Debian's on PATH). */
  ffmpegPath?: string;
  /** Length of the generated video. */
  seconds?: number;
  /** Each step (ffmpeg, each request) is abandoned after this long. */
  timeoutMs?: number;
}

export const DEMO_LESSON_TITLE = 'Welcome: what this course covers';

const graphql = <T>(gatewayUrl: string, query: string, variables: Record<string, unknown>, timeoutMs: number, jwt?: string) =>
  gatewayGraphql<T>(gatewayUrl, query, variables, { jwt, timeoutMs, what: 'demo lesson' });

/** A short test pattern with a tone (H.264 + AAC in MP4), small enough to make and send in a second or two. */
export async function makeDemoVideo(dir: string, { ffmpegPath = 'ffmpeg', seconds = 4, timeoutMs = 30_000 } = {}): Promise<string> {
  const out = join(dir, 'demo-lesson.mp4');
  await run(
    ffmpegPath,
    [
      ...['-v', 'error', '-nostdin', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=640x360:rate=25`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out],
    ],
    { timeout: timeoutMs, killSignal: 'SIGKILL' },
  );
  return out;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * tus 1.0 creation then one PATCH with the whole file. The file is a few hundred KB, so it is sent as one
 * buffer; the gateway and media stream it on as they stream any upload.
 */
async function tusUpload(gatewayUrl: string, uploadUrl: string, token: string, video: Buffer, timeoutMs: number): Promise<void> {
  const common = { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` };
  const created = await fetch(new URL(uploadUrl, gatewayUrl), {
    method: 'POST',
    headers: { ...common, 'upload-length': String(video.length), 'upload-metadata': `filename ${b64('demo-lesson.mp4')},filetype ${b64('video/mp4')}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const location = created.headers.get('location');
  if (created.status !== 201 || !location) throw new Error(`demo lesson: tus creation answered ${created.status}: ${await created.text()}`);
  const patched = await fetch(new URL(location, gatewayUrl), {
    method: 'PATCH',
    headers: { ...common, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
    body: video,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (patched.status !== 204) throw new Error(`demo lesson: tus upload answered ${patched.status}: ${await patched.text()}`);
}

/** Creates the lesson, uploads its generated video, and returns it (transcoding has only been queued). */
export async function seedDemoLesson(opts: DemoLessonOptions): Promise<DemoLesson> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'dream-demo-lesson-'));
  try {
    // the video first: without ffmpeg no lesson is created at all (rather than one left DRAFT)
    const video = await readFile(await makeDemoVideo(dir, { ffmpegPath: opts.ffmpegPath, seconds: opts.seconds, timeoutMs }));
    const { login } = await graphql<{ login: { jwt: string } }>(
      opts.gatewayUrl,
      'mutation DemoOwner($u: String!, $p: String!) { login(username: $u, password: $p) { jwt } }',
      { u: opts.owner.username, p: opts.owner.password },
      timeoutMs,
    );
    const { createLesson } = await graphql<{ createLesson: { id: string } }>(
      opts.gatewayUrl,
      'mutation DemoLesson($c: ID!, $t: String!) { createLesson(courseId: $c, title: $t) { id } }',
      { c: opts.courseId, t: DEMO_LESSON_TITLE },
      timeoutMs,
      login.jwt,
    );
    const { requestLessonUpload: ticket } = await graphql<{ requestLessonUpload: { uploadUrl: string; token: string } }>(
      opts.gatewayUrl,
      'mutation DemoUpload($l: ID!) { requestLessonUpload(lessonId: $l) { uploadUrl token } }',
      { l: createLesson.id },
      timeoutMs,
      login.jwt,
    );
    await tusUpload(opts.gatewayUrl, ticket.uploadUrl, ticket.token, video, timeoutMs);
    return { id: createLesson.id, title: DEMO_LESSON_TITLE, courseId: opts.courseId };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
