import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, badInput, forbidden, readJson, sendJson } from '@dream/common';
import type { Auth, GatewayExecutor } from '../../graphql/executor';
import { authOf, listCourses, runOperation } from '../../graphql/operations';
import type { RequestContext, RouteRegistry } from '@dream/common/http';
import { buyBody, createCourseBody, lobbyBody, loginBody, parseBody, parseRoles, signupBody } from './bodies';

/**
 * The spec's REST endpoints (DESIGN.md "REST shims"), each one GraphQL operation on the gateway's own
 * supergraph. Shapes, spellings (`cathegory`, `courseCathegory`) and messages are the spec's contract.
 */

const SIGNUP = /* GraphQL */ `mutation RestSignup($input: SignupInput!) { signup(input: $input) { jwt } }`;
const LOGIN = /* GraphQL */ `mutation RestLogin($username: String!, $password: String!) { login(username: $username, password: $password) { jwt } }`;
const CREATE_COURSE = /* GraphQL */ `mutation RestCreateCourse($input: CreateCourseInput!) { createCourse(input: $input) { id } }`;
const DELETE_COURSE = /* GraphQL */ `mutation RestDeleteCourse($id: ID!) { deleteCourse(id: $id) { id message } }`;
const JOIN_LOBBY = /* GraphQL */ `mutation RestJoinLobby($category: String!) { joinLobby(category: $category) { status courseId message } }`;
const BUY_COURSE = /* GraphQL */ `mutation RestBuyCourse($courseId: ID!, $idempotencyKey: String) { buyCourse(courseId: $courseId, idempotencyKey: $idempotencyKey) { message } }`;

export const COURSE_CREATED_RESPONSE = 'Course was created successfully.';
interface Deps {
  maxBodyBytes: number;
  courseListMax: number;
}

function pathParam(path: string, re: RegExp, name: string): string {
  const m = re.exec(path);
  try {
    const v = decodeURIComponent(m?.[1] ?? '');
    if (v) return v;
  } catch {
    /* fall through */
  }
  throw badInput(`${name} in the path is not valid.`, [{ field: name, message: 'is not valid' }]);
}

const queryParam = (url: URL, name: string): string | undefined => {
  const v = url.searchParams.get(name);
  return v === null || v.trim() === '' ? undefined : v;
};

export function registerRestShims(router: RouteRegistry, executor: GatewayExecutor, deps: Deps): void {
  const read = (req: IncomingMessage) => readJson(req, deps.maxBodyBytes);
  const ctx = (req: IncomingMessage, info: RequestContext, auth: Auth) => executor.contextFor(req, info.requestId, auth);
  /** Route wrapper: drains the body on early errors so keep-alive connections stay usable. */
  const route = (
    method: string,
    path: string | RegExp,
    label: string,
    handler: (req: IncomingMessage, res: ServerResponse, info: RequestContext) => Promise<void>,
  ) =>
    router.route(
      method,
      path,
      async (req, res, info) => {
        try {
          await handler(req, res, info);
        } catch (err) {
          if (!req.readableEnded) req.resume();
          if (err instanceof AppError && err.code === 'RATE_LIMITED') {
            const retryAfter = (err.extensions as { retryAfter?: number }).retryAfter;
            if (!res.headersSent && retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
          }
          if (err instanceof AppError && err.fields && !res.headersSent) {
            sendJson(res, err.status, { error: { code: err.code, message: err.message, fields: err.fields } });
            return;
          }
          throw err;
        }
      },
      label,
    );

  route('POST', '/api/user/signup', '/api/user/signup', async (req, res, info) => {
    const body = parseBody(signupBody, await read(req));
    const roles = parseRoles(body.roles);
    const data = await runOperation<{ signup: { jwt: string } }>(executor, ctx(req, info, {}), SIGNUP, {
      input: { username: body.username, password: body.password, email: body.email, roles },
    });
    sendJson(res, 201, { jwt: data.signup.jwt });
  });

  route('POST', '/api/users/login', '/api/users/login', async (req, res, info) => {
    const body = parseBody(loginBody, await read(req));
    const data = await runOperation<{ login: { jwt: string } }>(executor, ctx(req, info, {}), LOGIN, body);
    sendJson(res, 200, { jwt: data.login.jwt });
  });

  route('POST', '/api/course', '/api/course', async (req, res, info) => {
    const auth = await authOf(executor, req, true);
    const body = parseBody(createCourseBody, await read(req));
    await runOperation(executor, ctx(req, info, auth), CREATE_COURSE, {
      input: { name: body.courseName, info: body.courseInfo ?? '', category: body.courseCathegory, price: body.price },
    });
    sendJson(res, 201, { response: COURSE_CREATED_RESPONSE });
  });

  const coursePath = /^\/api\/course\/([^/]+)$/;
  route('DELETE', coursePath, '/api/course/:courseId', async (req, res, info) => {
    const auth = await authOf(executor, req, true);
    req.resume();
    const id = pathParam(info.path, coursePath, 'courseId');
    const data = await runOperation<{ deleteCourse: { message: string } }>(executor, ctx(req, info, auth), DELETE_COURSE, { id });
    sendJson(res, 200, { message: data.deleteCourse.message });
  });

  route('GET', '/api/courses', '/api/courses', async (req, res, info) => {
    const auth = await authOf(executor, req, true);
    req.resume();
    const courses = await listCourses(executor, ctx(req, info, auth), {
      category: queryParam(info.url, 'category'),
      ownerId: queryParam(info.url, 'ownerId'),
      max: deps.courseListMax,
    });
    sendJson(res, 200, courses.map((c) => ({ courseId: c.id, ownerId: c.owner.id })));
  });

  route('POST', '/api/student-service/course/subscribe', '/api/student-service/course/subscribe', async (req, res, info) => {
    const auth = await authOf(executor, req, true);
    const body = parseBody(lobbyBody, await read(req));
    if (body.userId !== auth.user!.id) throw forbidden('userId must be the id of the signed-in user.');
    const data = await runOperation<{ joinLobby: { status: string; courseId: string; message: string } }>(
      executor,
      ctx(req, info, auth),
      JOIN_LOBBY,
      { category: body.cathegory },
    );
    const { status, courseId, message } = data.joinLobby;
    sendJson(res, 200, { status, courseId, message });
  });

  const buyPath = /^\/courses\/([^/]+)\/buy$/;
  route('POST', buyPath, '/courses/:courseId/buy', async (req, res, info) => {
    const auth = await authOf(executor, req, true);
    const courseId = pathParam(info.path, buyPath, 'courseId');
    const body = parseBody(buyBody, await read(req));
    if (body.courseId !== undefined && body.courseId !== courseId) {
      throw badInput('courseId in the body must match the course in the path.', [{ field: 'courseId', message: 'does not match the path' }]);
    }
    if (body.userId !== auth.user!.id) throw forbidden('userId must be the id of the signed-in user.');
    const key = req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' && key ? key : undefined;
    const data = await runOperation<{ buyCourse: { message: string } }>(executor, ctx(req, info, auth), BUY_COURSE, { courseId, idempotencyKey });
    sendJson(res, 200, { message: data.buyCourse.message });
  });

  // The WS shims live on GET /courses and /courses/:ownerId: a plain HTTP GET gets a clear 426.
  router.route(
    'GET',
    /^\/courses(\/[^/]+)?$/,
    (req, res) => {
      req.resume();
      sendJson(res, 426, { error: { code: 'UPGRADE_REQUIRED', message: 'This is a WebSocket endpoint: connect with a WebSocket client.' } }, { upgrade: 'websocket' });
    },
    '/courses (ws)',
  );
}
