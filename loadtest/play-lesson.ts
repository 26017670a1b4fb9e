/**
 * k6: students playing a lesson through the gateway, as a player does:
 *   1. POST /graphql  `lesson(id) { playback { hlsUrl } }`  as an enrolled student (signed URLs)
 *   2. GET the HLS master playlist, then one variant playlist (a random rendition)
 *   3. Range reads of its segments: the first bytes of each (206), then the rest of one (open range)
 *
 * It needs a READY lesson and a student enrolled in its course. `npm start` seeds both on a first start (the
 * demo course's lesson, and demo-student, whose password is printed and kept in data/demo-accounts.json):
 *   k6 run -e STUDENT=demo-student -e PASSWORD=<password> loadtest/play-lesson.ts
 *   k6 run -e PROFILE=load -e STUDENT=… -e PASSWORD=… -e LESSON_ID=<id> -e BASE_URL=http://host:8080 loadtest/play-lesson.ts
 * Without LESSON_ID, setup() takes the first READY lesson the student may play. Nothing is written.
 */
import { check, fail, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { login } from './lib/api.ts';
import { BASE_URL, PROFILE } from './lib/config.ts';
import { contentRange, playlistUris, resolveUri } from './lib/hls.ts';
import { PLAYABLE_QUERY, PLAYBACK_QUERY } from './lib/media-queries.ts';

/** First bytes asked of each segment (a player's first read, enough to find the first frames). */
const RANGE_BYTES = 64 * 1024;
const SEGMENTS_PER_PLAY = Number(__ENV.SEGMENTS || 3);

const segmentBytes = new Counter('segment_bytes');

export const options: Options = {
  scenarios: {
    play_lesson:
      PROFILE === 'load'
        ? {
            executor: 'ramping-vus',
            startVUs: 0,
            stages: [
              { duration: '30s', target: 20 * Number(__ENV.SCALE || 1) },
              { duration: '2m', target: 20 * Number(__ENV.SCALE || 1) },
              { duration: '20s', target: 0 },
            ],
          }
        : { executor: 'per-vu-iterations', vus: 1, iterations: 3 },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{step:playback}': ['p(95)<500'],
    'http_req_duration{step:playlist}': ['p(95)<300'],
    'http_req_duration{step:segment}': ['p(95)<500'],
  },
  setupTimeout: '1m',
};

interface SetupData {
  jwt: string;
  lessonId: string;
}


function graphql<T>(jwt: string, query: string, variables: Record<string, unknown> = {}): T | undefined {
  const res = http.post(`${BASE_URL}/graphql`, JSON.stringify({ query, variables }), {
    headers: { 'Content-Type': 'application/json', authorization: `Bearer ${jwt}` },
    tags: { name: 'POST /graphql', step: 'playback' },
  });
  const body = res.json() as { data?: T; errors?: unknown[] } | null;
  const ok = check(res, { 'graphql: 200': (r) => r.status === 200, 'graphql: no errors': () => !body?.errors && !!body?.data });
  return ok ? body!.data : undefined;
}

export function setup(): SetupData {
  const student = __ENV.STUDENT;
  if (!student || !__ENV.PASSWORD) fail('set STUDENT and PASSWORD: a student enrolled in a course with a READY lesson (npm start prints demo-student)');
  const session = login(student, __ENV.PASSWORD);
  if (!session) fail(`setup: ${student} could not log in`);
  return { jwt: session.jwt, lessonId: __ENV.LESSON_ID || firstPlayableLesson(session.jwt, student) };
}

/** The first READY lesson whose playback the student gets (the courses it is enrolled in). */
function firstPlayableLesson(jwt: string, student: string): string {
  const data = graphql<{ courses: Array<{ lessons: Array<{ id: string; status: string; playback: unknown }> }> }>(jwt, PLAYABLE_QUERY);
  const lesson = data?.courses.flatMap((c) => c.lessons).find((l) => l.status === 'READY' && l.playback);
  if (!lesson) fail(`setup: ${student} may play no READY lesson (has the worker finished the demo lesson?)`);
  return lesson.id;
}

function get(url: string, step: 'playlist' | 'segment', name: string, headers: Record<string, string> = {}) {
  return http.get(url, { headers, tags: { name, step } });
}

export default function playLesson(data: SetupData): void {
  // 1. signed URLs for this student
  const play = graphql<{ lesson: { playback: { hlsUrl: string } | null } | null }>(data.jwt, PLAYBACK_QUERY, { id: data.lessonId });
  const hlsUrl = play?.lesson?.playback?.hlsUrl;
  if (!check(hlsUrl, { 'playback: the enrolled student gets an HLS URL': (u) => typeof u === 'string' && u.endsWith('.m3u8') })) return;
  const master = resolveUri(BASE_URL, hlsUrl!);

  // 2. master playlist → one rendition's playlist (relative URIs inherit the signed path)
  const masterRes = get(master, 'playlist', 'GET master.m3u8');
  const variants = playlistUris(String(masterRes.body ?? ''));
  const masterOk = check(masterRes, {
    'master: 200': (r) => r.status === 200,
    'master: an HLS playlist': (r) => String(r.headers['Content-Type'] ?? '').includes('mpegurl') && String(r.body).startsWith('#EXTM3U'),
    'master: names variant playlists': () => variants.length > 0,
  });
  if (!masterOk) return;
  const variant = resolveUri(master, variants[Math.floor(Math.random() * variants.length)]);
  const variantRes = get(variant, 'playlist', 'GET <rendition>/index.m3u8');
  const segments = playlistUris(String(variantRes.body ?? ''));
  const variantOk = check(variantRes, {
    'variant: 200': (r) => r.status === 200,
    'variant: a VOD playlist': (r) => String(r.body).includes('#EXT-X-ENDLIST'),
    'variant: names segments': () => segments.length > 0,
  });
  if (!variantOk) return;

  // 3. Range reads: the first bytes of the first few segments, as a player buffering ahead does
  let firstSize = 0;
  for (const uri of segments.slice(0, SEGMENTS_PER_PLAY)) {
    const url = resolveUri(variant, uri);
    const res = get(url, 'segment', 'GET segment (range)', { Range: `bytes=0-${RANGE_BYTES - 1}` });
    const range = contentRange(res.headers['Content-Range']);
    check(res, {
      'segment range: 206': (r) => r.status === 206,
      'segment range: Content-Range from 0': () => range?.first === 0 && range.last < RANGE_BYTES,
      'segment range: body is the range': (r) => range !== undefined && (r.body as string | null)?.length === range.last - range.first + 1,
      'segment range: Accept-Ranges bytes': (r) => r.headers['Accept-Ranges'] === 'bytes',
    });
    segmentBytes.add(range ? range.last - range.first + 1 : 0);
    if (!firstSize && range) firstSize = range.size;
    sleep(0.1);
  }
  // ...then the rest of the first segment (an open range), when there is more of it
  if (firstSize > RANGE_BYTES) {
    const res = get(resolveUri(variant, segments[0]), 'segment', 'GET segment (open range)', { Range: `bytes=${RANGE_BYTES}-` });
    const range = contentRange(res.headers['Content-Range']);
    check(res, {
      'segment open range: 206': (r) => r.status === 206,
      'segment open range: to the end': () => range?.first === RANGE_BYTES && range.last === firstSize - 1,
    });
    segmentBytes.add(range ? range.last - range.first + 1 : 0);
  }
  sleep(0.5 + Math.random()); // watching
}
