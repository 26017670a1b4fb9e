/**
 * `media/segments`: concurrent HTTP Range reads of a lesson's HLS segments, the way a player fetches
 * them, from three places serving the same files: through our gateway (its /media/ prefix proxy), straight
 * from the media replica (token check, storage lookup, Range answer), and Debian's nginx (the static-file
 * ceiling). The lesson is made the real way in set-up: a testsrc video uploaded with tus through the
 * gateway and transcoded by a media worker, then played with the owner's signed playback URL.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChildService } from '@dream/testenv';
import { load } from './load';
import { START_TIMEOUT_MS } from './start';
import { startNginx } from './nginx';
import { ProcWatch } from './proc';
import type { ExtraContext, Row } from './types';

/** Largest Range asked for at once: players ask for whole segments or windows of this order. */
const RANGE_BYTES = 512 * 1024;

interface Segment {
  /** Relative to the output folder (`360p/seg_0000.ts`), as the playlists name it. */
  path: string;
  size: number;
}

interface RangeRead {
  path: string;
  range: string;
  length: number;
}

const exec = promisify(execFile);

export async function mediaSegmentsWorkload(ctx: ExtraContext): Promise<void> {
  const seconds = ctx.smoke ? 4 : 8;
  ctx.log(`bench: media/segments set-up (a ${seconds} s testsrc video, uploaded and transcoded)`);
  const mediaDir = join(ctx.stack.dir, 'media');
  const env = {
    MEDIA_DIR: mediaDir,
    MEDIA_UPLOAD_DIR: join(ctx.stack.dir, 'media-uploads'),
    MEDIA_SIGNING_SECRET: randomBytes(32).toString('base64url'),
  };
  const stops: Array<() => Promise<void>> = [];
  try {
    const media = await ctx.stack.spawnSubgraph('media', env, { timeoutMs: START_TIMEOUT_MS });
    stops.push(() => media.stop());
    const gateway = await ctx.stack.spawnGateway({ ACCESS_LOG: 'false', SUBGRAPHS: 'users,courses,media' }, { timeoutMs: START_TIMEOUT_MS });
    stops.push(() => gateway.stop());
    const lesson = await playableLesson(ctx, gateway, env, seconds);
    const segments = await segmentsOf(gateway.base, lesson.hlsUrl, lesson.outputDir);
    const reads = rangeReads(segments);
    const totalMb = segments.reduce((a, s) => a + s.size, 0) / 1e6;
    ctx.log(`bench: media/segments: ${segments.length} segments (${totalMb.toFixed(1)} MB), ${reads.length} range reads of ≤ ${RANGE_BYTES / 1024} KiB`);
    const nginx = await startNginx(join(ctx.stack.dir, 'nginx'), lesson.outputDir);
    stops.push(() => nginx.stop());

    const root = lesson.hlsUrl.replace(/\/master\.m3u8$/, '');
    const targets: Array<{ name: string; base: string; prefix: string; watch: number[] }> = [
      { name: 'gateway', base: gateway.base, prefix: root, watch: [gateway.pid, media.pid] },
      { name: 'media-direct', base: media.base, prefix: root, watch: [media.pid] },
      { name: 'nginx', base: nginx.base, prefix: '', watch: [nginx.workerPid] },
    ];
    for (const t of targets) await checkSame(t.base, t.prefix, reads[Math.floor(reads.length / 2)], lesson.outputDir);
    const rows: Row[] = [];
    for (const t of targets) rows.push(await measureReads(ctx, t, reads));
    const ceiling = rows.find((r) => r.target === 'nginx');
    for (const r of rows) {
      const mbps = mbPerSec(r);
      const vs = ceiling && r !== ceiling ? `; ${(mbps / Math.max(mbPerSec(ceiling), 0.01)).toFixed(2)}× nginx` : '';
      r.note = `${mbps.toFixed(1)} MB/s${vs}; ${r.note}`;
      ctx.rows.push(r);
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e: Error) => ctx.log(`bench: media/segments clean-up: ${e.message}`));
  }
}

const mbPerSec = (r: Row) => (r.raw?.bytesPerSec ?? 0) / 1e6;

async function gql(base: string, query: string, variables: Record<string, unknown>, token?: string) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  return (await res.json()) as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A READY lesson of the first seeded course, made through the gateway: createLesson, a ticket, a tus
 * upload (one POST, one PATCH), a worker (in this process, stopped after) transcodes it.
 */
async function playableLesson(ctx: ExtraContext, gateway: ChildService, env: Record<string, string>, seconds: number) {
  const owner = ctx.seed.tokens[0];
  const courseId = ctx.seed.courseIds[0];
  const created = await until('media composed into the gateway', 60_000, async () => {
    const r = await gql(gateway.base, 'mutation($c: ID!) { createLesson(courseId: $c, title: "Bench") { id } }', { c: courseId }, owner);
    return r.data?.createLesson?.id as string | undefined;
  });
  const ticket = (await gql(gateway.base, 'mutation($l: ID!) { requestLessonUpload(lessonId: $l) { uploadUrl token } }', { l: created }, owner)).data
    ?.requestLessonUpload as { uploadUrl: string; token: string };
  const video = join(ctx.stack.dir, 'bench-source.mp4');
  // noise keeps the encoder from squeezing testsrc to nothing: segments near the ladder's bitrates
  await exec('ffmpeg', [
    ...['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=1280x720:rate=25`],
    ...['-vf', 'noise=alls=30:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-pix_fmt', 'yuv420p', video],
  ]);
  const bytes = readFileSync(video);
  const tus = { 'tus-resumable': '1.0.0', authorization: `Bearer ${ticket.token}` };
  const post = await fetch(new URL(ticket.uploadUrl, gateway.base), {
    method: 'POST',
    headers: { ...tus, 'upload-length': String(bytes.length), 'upload-metadata': `filename ${Buffer.from('bench.mp4').toString('base64')},filetype ${Buffer.from('video/mp4').toString('base64')}` },
  });
  const location = post.headers.get('location');
  if (post.status !== 201 || !location) throw new Error(`tus create answered ${post.status}`);
  const uploadUrl = new URL(new URL(location, gateway.base).pathname, gateway.base);
  const worker = await ctx.stack.mediaWorker({ env: { ...env, LOG_LEVEL: 'warn' }, discover: true });
  try {
    const patch = await fetch(uploadUrl, {
      method: 'PATCH',
      headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: bytes,
    });
    if (patch.status !== 204) throw new Error(`tus upload answered ${patch.status}: ${await patch.text()}`);
    await until('the lesson to be READY', 15 * 60_000, async () => {
      const l = (await gql(gateway.base, 'query($id: ID!) { lesson(id: $id) { status failureReason } }', { id: created }, owner)).data?.lesson;
      if (l?.status === 'FAILED') throw new Error(`transcode failed: ${l.failureReason}`);
      return l?.status === 'READY' ? true : undefined;
    });
  } finally {
    await worker.stop();
  }
  const playback = (await gql(gateway.base, 'query($id: ID!) { lesson(id: $id) { playback { hlsUrl } } }', { id: created }, owner)).data?.lesson?.playback as { hlsUrl: string };
  const lessonDir = join(ctx.stack.subgraphEnv('media', 0, env).MEDIA_DIR, 'lessons', created);
  const [asset] = readdirSync(lessonDir);
  return { lessonId: created, hlsUrl: playback.hlsUrl, outputDir: join(lessonDir, asset, 'output') };
}

/** Every segment the master playlist leads to (through the gateway, as a player would find them). */
async function segmentsOf(base: string, hlsUrl: string, outputDir: string): Promise<Segment[]> {
  const text = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path.replace(/play\/[^/]+/, 'play/<token>')} answered ${res.status}`);
    return res.text();
  };
  const uris = (playlist: string) => playlist.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const root = hlsUrl.replace(/\/master\.m3u8$/, '');
  const out: Segment[] = [];
  for (const variant of uris(await text(hlsUrl))) {
    const dir = variant.slice(0, variant.lastIndexOf('/') + 1);
    for (const seg of uris(await text(`${root}/${variant}`))) {
      const path = `${dir}${seg}`;
      out.push({ path, size: statSync(join(outputDir, path)).size });
    }
  }
  if (!out.length) throw new Error('the playlists name no segment');
  return out;
}

/** Each segment cut into ranges of at most RANGE_BYTES, interleaved across segments. */
function rangeReads(segments: Segment[]): RangeRead[] {
  const out: RangeRead[] = [];
  for (const s of segments) {
    for (let start = 0; start < s.size; start += RANGE_BYTES) {
      const end = Math.min(s.size, start + RANGE_BYTES) - 1;
      out.push({ path: s.path, range: `bytes=${start}-${end}`, length: end - start + 1 });
    }
  }
  // a fixed shuffle (players on different positions), the same order for every target
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** One range from a target must be a 206 with exactly the file's bytes, or its figure means nothing. */
async function checkSame(base: string, prefix: string, read: RangeRead, outputDir: string): Promise<void> {
  const res = await fetch(`${base}${prefix}/${read.path}`, { headers: { range: read.range } });
  const body = Buffer.from(await res.arrayBuffer());
  const [start] = read.range.slice(6).split('-').map(Number);
  const expected = readFileSync(join(outputDir, read.path)).subarray(start, start + read.length);
  if (res.status !== 206 || !body.equals(expected)) {
    const what = res.status === 206 ? `${body.length} other bytes` : body.toString('utf8').slice(0, 300);
    throw new Error(`${base} answered ${res.status} for ${read.path} ${read.range}: ${what}`);
  }
}

async function measureReads(
  ctx: ExtraContext,
  target: { name: string; base: string; prefix: string; watch: number[] },
  reads: RangeRead[],
): Promise<Row> {
  ctx.log(`bench: media/segments → ${target.name}`);
  let watches: ProcWatch[] = [];
  const result = await load(
    {
      url: target.base,
      method: 'GET',
      connections: ctx.connections,
      durationSec: ctx.duration,
      warmupSec: ctx.warmup,
      perRequest: (n) => {
        const r = reads[n % reads.length];
        return { method: 'GET', path: `${target.prefix}/${r.path}`, body: '', headers: { range: r.range } };
      },
    },
    async () => {
      watches = target.watch.map((pid) => new ProcWatch(pid));
    },
  );
  const usage = watches.map((w) => w.stop());
  const perReq = (cpuMs: number) => (result.requests ? Math.round((cpuMs / result.requests) * 1000) / 1000 : undefined);
  const main = usage[0];
  const extra =
    target.name === 'gateway' ? `media replica behind it: cpu ${usage[1].cpuPercent}%, ${perReq(usage[1].cpuMs)} CPU ms/req` : target.name === 'nginx' ? 'its 1 worker process, sendfile' : 'one node process';
  return {
    workload: 'media/segments',
    target: target.name,
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    rssMb: main.rssMb,
    cpuPercent: main.cpuPercent,
    cpuMsPerRequest: perReq(main.cpuMs),
    note: `${ctx.connections} connections, ranges ≤ ${RANGE_BYTES / 1024} KiB; ${extra}`,
    raw: result,
  };
}
