/**
 * The platform's public API as the spec defines it (REST shims, GraphQL, WS), with k6 checks.
 * Every helper checks the exact success shape and returns undefined (after a failed check) otherwise,
 * so a journey stops at the first broken step instead of cascading errors.
 */
import { check } from 'k6';
import encoding from 'k6/encoding';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { BASE_URL } from './config.ts';

export type Role = 'STUDENT' | 'OWNER';

export interface Session {
  jwt: string;
  /** The token's subject: the user id the REST bodies ask for. */
  userId: string;
  username: string;
}

export const PASSWORD = 'loadtest-Passw0rd';

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const authHeaders = (jwt: string) => ({ ...JSON_HEADERS, jwt });

/** A username unique across VUs, iterations and runs (3–32 of [A-Za-z0-9_.-]). */
export function uniqueName(prefix: string): string {
  const rand = Math.floor(Math.random() * 36 ** 4).toString(36);
  return `${prefix}_${Date.now().toString(36)}${__VU.toString(36)}${rand}`.slice(0, 32);
}

function bodyOf(res: RefinedResponse<ResponseType | undefined>): unknown {
  try {
    return res.json();
  } catch {
    return undefined;
  }
}

/** The user id is the JWT's `sub` claim (base64url JSON payload; the signature is the server's business). */
export function subjectOf(jwt: string): string {
  const payload = JSON.parse(encoding.b64decode(jwt.split('.')[1], 'rawurl', 's')) as { sub?: string };
  return payload.sub ?? '';
}

function session(res: RefinedResponse<ResponseType | undefined>, status: number, username: string, what: string): Session | undefined {
  const body = bodyOf(res) as { jwt?: unknown } | undefined;
  const ok = check(res, {
    [`${what}: ${status}`]: (r) => r.status === status,
    [`${what}: returns {jwt}`]: () => typeof body?.jwt === 'string' && body.jwt.split('.').length === 3,
  });
  if (!ok || !body || typeof body.jwt !== 'string') return undefined;
  return { jwt: body.jwt, userId: subjectOf(body.jwt), username };
}

/** POST /api/user/signup → 201 {"jwt"} */
export function signup(roles: Role | Role[], prefix = 'lt'): Session | undefined {
  const username = uniqueName(prefix);
  const res = http.post(
    `${BASE_URL}/api/user/signup`,
    JSON.stringify({ username, password: PASSWORD, email: `${username}@loadtest.example`, roles }),
    { headers: JSON_HEADERS, tags: { name: 'POST /api/user/signup' } },
  );
  return session(res, 201, username, 'signup');
}

/** POST /api/users/login → 200 {"jwt"} */
export function login(username: string, password = PASSWORD): Session | undefined {
  const res = http.post(`${BASE_URL}/api/users/login`, JSON.stringify({ username, password }), {
    headers: JSON_HEADERS,
    tags: { name: 'POST /api/users/login' },
  });
  return session(res, 200, username, 'login');
}

export interface CourseRef {
  courseId: string;
  ownerId: string;
}

/** GET /api/courses[?ownerId=] with the spec's `jwt` header → 200 [{"courseId","ownerId"}] */
export function listCourses(jwt: string, ownerId?: string): CourseRef[] | undefined {
  const url = ownerId ? `${BASE_URL}/api/courses?ownerId=${encodeURIComponent(ownerId)}` : `${BASE_URL}/api/courses`;
  const res = http.get(url, { headers: { jwt }, tags: { name: 'GET /api/courses' } });
  const body = bodyOf(res);
  const ok = check(res, {
    'list courses: 200': (r) => r.status === 200,
    'list courses: [{courseId, ownerId}]': () =>
      Array.isArray(body) && body.every((c: CourseRef) => typeof c.courseId === 'string' && typeof c.ownerId === 'string'),
  });
  return ok ? (body as CourseRef[]) : undefined;
}

/** POST /api/course {courseName, courseInfo, courseCathegory, price} as an OWNER → 201 */
export function createCourse(jwt: string, category: string): boolean {
  const name = uniqueName('course');
  const res = http.post(
    `${BASE_URL}/api/course`,
    JSON.stringify({ courseName: name, courseInfo: `Load test course ${name}`, courseCathegory: category, price: '19.99' }),
    { headers: authHeaders(jwt), tags: { name: 'POST /api/course' } },
  );
  const body = bodyOf(res) as { response?: unknown } | undefined;
  return check(res, {
    'create course: 201': (r) => r.status === 201,
    'create course: {"response": "Course was created successfully."}': () => body?.response === 'Course was created successfully.',
  });
}

/** POST /courses/:courseId/buy {userId, courseId} as a STUDENT → 200 (idempotent: a repeat buys nothing twice) */
export function buyCourse(s: Session, courseId: string): boolean {
  const res = http.post(
    `${BASE_URL}/courses/${encodeURIComponent(courseId)}/buy`,
    JSON.stringify({ userId: s.userId, courseId }),
    { headers: authHeaders(s.jwt), tags: { name: 'POST /courses/:courseId/buy' } },
  );
  const body = bodyOf(res) as { message?: unknown } | undefined;
  return check(res, {
    'buy course: 200': (r) => r.status === 200,
    'buy course: {"message": "Student bought course using gRPC."}': () => body?.message === 'Student bought course using gRPC.',
  });
}

const BROWSE_QUERY = `query Browse($first: Int, $category: String) {
  courses(first: $first, category: $category) { id name category price owner { id username } }
}`;

/** POST /graphql: a page of courses with their owners (resolved by the users subgraph through the gateway). */
export function browseGraphQL(jwt: string, category?: string): boolean {
  const res = http.post(`${BASE_URL}/graphql`, JSON.stringify({ query: BROWSE_QUERY, variables: { first: 20, category } }), {
    headers: { ...JSON_HEADERS, Authorization: `Bearer ${jwt}` },
    tags: { name: 'POST /graphql Browse' },
  });
  const body = bodyOf(res) as { data?: { courses?: Array<{ owner?: { username?: unknown } }> }; errors?: unknown } | undefined;
  return check(res, {
    'graphql browse: 200': (r) => r.status === 200,
    'graphql browse: no errors': () => body !== undefined && body.errors === undefined,
    'graphql browse: courses with owner usernames': () =>
      Array.isArray(body?.data?.courses) && body.data.courses.every((c) => typeof c.owner?.username === 'string'),
  });
}
