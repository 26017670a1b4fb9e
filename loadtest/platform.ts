/**
 * k6 load test of the main journeys through the gateway (one scenario per journey):
 *   auth            sign up a student, then log in                        POST /api/user/signup, /api/users/login
 *   browse_rest     list courses with the spec's `jwt` header             GET /api/courses
 *   browse_graphql  a page of courses with owner usernames (federated)    POST /graphql
 *   create_course   an owner publishes a course                           POST /api/course
 *   buy_course      a student buys a course (users → gRPC → courses)      POST /courses/:courseId/buy
 *   ws_list         a WebSocket subscriber gets the full list on connect  ws://…/courses
 *
 *   k6 run loadtest/platform.ts                                  # smoke against http://localhost:8080
 *   k6 run -e PROFILE=load -e BASE_URL=http://host:8080 loadtest/platform.ts
 * Settings: lib/config.ts. Thresholds (p95 latency per journey, error rates) fail the run when missed.
 */
import { check, fail, sleep } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import ws from 'k6/ws';
import { browseGraphQL, buyCourse, createCourse, listCourses, login, signup, type Session } from './lib/api.ts';
import { buildOptions, WS_HOLD_MS, WS_URL } from './lib/config.ts';

export const options = buildOptions();

const wsFirstList = new Trend('ws_first_list_ms', true);
const wsSessionErrors = new Rate('ws_session_errors');

const CATEGORIES = ['math', 'music', 'programming', 'languages'];
const SEED_COURSES = 8;

interface SetupData {
  owner: Session;
  /** Students that browse; VUs share them (reading needs no per-user state). */
  readers: Session[];
  courseIds: string[];
}

/** One owner with a few courses and a few reader accounts, created once before the journeys start. */
export function setup(): SetupData {
  const owner = signup('OWNER', 'lt_owner');
  if (!owner) fail('setup: could not sign up the owner (is the platform up at BASE_URL?)');
  for (let i = 0; i < SEED_COURSES; i++) {
    if (!createCourse(owner.jwt, CATEGORIES[i % CATEGORIES.length])) fail('setup: could not create a seed course');
  }
  const readers: Session[] = [];
  for (let i = 0; i < 4; i++) {
    const s = signup('STUDENT', 'lt_reader');
    if (!s) fail('setup: could not sign up a reader');
    readers.push(s);
  }
  const mine = listCourses(owner.jwt, owner.userId);
  if (!mine || mine.length < SEED_COURSES) fail(`setup: expected ${SEED_COURSES} courses of the owner, got ${mine?.length}`);
  return { owner, readers, courseIds: mine.map((c) => c.courseId) };
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
const reader = (data: SetupData) => data.readers[__VU % data.readers.length];

export function auth(): void {
  const s = signup('STUDENT');
  if (!s) return;
  login(s.username);
}

export function browse_rest(data: SetupData): void {
  listCourses(reader(data).jwt);
  sleep(0.2 + Math.random() * 0.3); // think time: a person reads the list
}

export function browse_graphql(data: SetupData): void {
  browseGraphQL(reader(data).jwt, Math.random() < 0.5 ? pick(CATEGORIES) : undefined);
  sleep(0.2 + Math.random() * 0.3);
}

export function create_course(data: SetupData): void {
  createCourse(data.owner.jwt, pick(CATEGORIES));
}

// Each VU buys as its own student, signed up on its first iteration (module state is per VU in k6).
let buyer: Session | undefined;

export function buy_course(data: SetupData): void {
  buyer = buyer ?? signup('STUDENT', 'lt_buyer');
  if (!buyer) return;
  buyCourse(buyer, pick(data.courseIds));
}

/** Connects to the list WebSocket, expects the full list (a JSON array) first, stays connected a while. */
export function ws_list(data: SetupData): void {
  const started = Date.now();
  let gotList = false;
  let messages = 0;
  const res = ws.connect(`${WS_URL}/courses`, { headers: { jwt: reader(data).jwt }, tags: { name: 'WS /courses' } }, (socket) => {
    socket.on('message', (raw) => {
      messages++;
      if (gotList) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      gotList = check(parsed, { 'ws list: first message is the course array': (p) => Array.isArray(p) });
      if (gotList) wsFirstList.add(Date.now() - started);
      else socket.close();
    });
    socket.on('error', () => socket.close());
    // No list within 5 s counts as a failed session; otherwise hold the subscription open.
    socket.setTimeout(() => {
      if (!gotList) socket.close();
    }, 5000);
    socket.setTimeout(() => socket.close(), WS_HOLD_MS);
  });
  const ok = check(res, { 'ws list: 101 Switching Protocols': (r) => r !== undefined && r.status === 101 }) && gotList;
  // tagged with whether anything arrived, to tell a refused upgrade from a silent socket
  wsSessionErrors.add(!ok, { got_messages: messages > 0 ? 'yes' : 'no' });
}
