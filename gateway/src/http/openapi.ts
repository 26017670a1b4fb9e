import { sendJson } from '@dream/common';
import type { RouteRegistry } from '@dream/common/http';

/**
 * OpenAPI 3.1 description of the REST shims (served at GET /api/openapi.json). Hand-written: the
 * shapes are the spec's contract, and a test checks the real responses against this document.
 */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const errors = {
  400: errorResponse('Malformed JSON, a missing field or a field of the wrong type (BAD_USER_INPUT).'),
  401: errorResponse('No token, or a bad, expired or revoked one (UNAUTHENTICATED).'),
  403: errorResponse('Wrong role, not the owner, or userId is not the caller (FORBIDDEN).'),
  404: errorResponse('Unknown course (NOT_FOUND).'),
  409: errorResponse('Conflict (CONFLICT).'),
  413: errorResponse('Body larger than REST_MAX_BODY_BYTES (PAYLOAD_TOO_LARGE).'),
  429: errorResponse('Rate limited (RATE_LIMITED); see the retry-after header.'),
  503: errorResponse('A subgraph is unavailable (SERVICE_UNAVAILABLE).'),
};
const pick = (...codes: Array<keyof typeof errors>) => Object.fromEntries(codes.map((c) => [String(c), errors[c]]));

const bearer = [{ jwt: [] }, { bearer: [] }];

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Dream and Study REST API',
    version: '1.0.0',
    description:
      'REST endpoints of the spec, served by the gateway and translated to GraphQL operations on the supergraph. ' +
      'GraphQL itself is at POST /graphql (graphql-ws subscriptions on the same path); WebSocket course lists at /courses and /courses/{ownerId}.',
  },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: {
      jwt: { type: 'apiKey', in: 'header', name: 'jwt', description: 'The spec\'s header: `jwt: <token>`.' },
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        additionalProperties: false,
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: {
                type: 'string',
                enum: ['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'],
              },
              message: { type: 'string' },
              fields: {
                type: 'array',
                items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
              },
            },
          },
        },
      },
      Jwt: { type: 'object', required: ['jwt'], additionalProperties: false, properties: { jwt: { type: 'string', minLength: 1 } } },
      WsTicket: {
        type: 'object',
        required: ['ticket', 'expiresInSeconds'],
        additionalProperties: false,
        properties: { ticket: { type: 'string', minLength: 43 }, expiresInSeconds: { type: 'integer', minimum: 1 } },
      },
      SignupRequest: {
        type: 'object',
        required: ['username', 'password', 'email', 'roles'],
        properties: {
          username: { type: 'string', example: 'name' },
          password: { type: 'string', example: 'password' },
          email: { type: 'string', example: 'email@example.org' },
          roles: {
            description: '"STUDENT", "OWNER", "STUDENT/OWNER" (both) or an array of them.',
            oneOf: [
              { type: 'string', enum: ['STUDENT', 'OWNER', 'STUDENT/OWNER', 'OWNER/STUDENT'] },
              { type: 'array', minItems: 1, items: { type: 'string', enum: ['STUDENT', 'OWNER'] } },
            ],
          },
        },
      },
      LoginRequest: {
        type: 'object',
        required: ['username', 'password'],
        properties: { username: { type: 'string', example: 'john' }, password: { type: 'string', example: 'password' } },
      },
      CreateCourseRequest: {
        type: 'object',
        required: ['courseName', 'courseCathegory', 'price'],
        properties: {
          courseName: { type: 'string', example: 'Strategy' },
          courseInfo: { type: 'string', example: 'text' },
          courseCathegory: { type: 'string', example: 'Programming' },
          price: { oneOf: [{ type: 'string', pattern: '^\\d+(\\.\\d{1,2})?$' }, { type: 'number', minimum: 0 }], example: '123' },
        },
      },
      CourseCreated: {
        type: 'object',
        required: ['response'],
        additionalProperties: false,
        properties: { response: { const: 'Course was created successfully.' } },
      },
      CourseDeleted: {
        type: 'object',
        required: ['message'],
        additionalProperties: false,
        properties: { message: { type: 'string', pattern: '^Course .+ deleted successfully\\.$', example: 'Course qwerty deleted successfully.' } },
      },
      CourseList: {
        type: 'array',
        items: {
          type: 'object',
          required: ['courseId', 'ownerId'],
          additionalProperties: false,
          properties: { courseId: { type: 'string' }, ownerId: { type: 'string' } },
        },
      },
      LobbyRequest: {
        type: 'object',
        required: ['cathegory', 'userId'],
        properties: { cathegory: { type: 'string', example: 'Programing' }, userId: { type: 'string', description: 'Must be the signed-in user.' } },
      },
      LobbyJoined: {
        type: 'object',
        required: ['status', 'courseId', 'message'],
        additionalProperties: false,
        properties: { status: { const: 'success' }, courseId: { type: 'string' }, message: { const: 'Joined course.' } },
      },
      BuyRequest: {
        type: 'object',
        required: ['userId'],
        properties: {
          userId: { type: 'string', description: 'Must be the signed-in user.' },
          courseId: { type: 'string', description: 'Optional; must match the path.' },
        },
      },
      Bought: {
        type: 'object',
        required: ['message'],
        additionalProperties: false,
        properties: { message: { const: 'Student bought course using gRPC.' } },
      },
    },
  },
  paths: {
    '/api/user/signup': {
      post: {
        summary: 'Create an account and sign in',
        operationId: 'signup',
        requestBody: { required: true, content: json(ref('SignupRequest')) },
        responses: { 201: { description: 'Signed up.', content: json(ref('Jwt')) }, ...pick(400, 409, 413, 503) },
      },
    },
    '/api/users/login': {
      post: {
        summary: 'Sign in',
        operationId: 'login',
        requestBody: { required: true, content: json(ref('LoginRequest')) },
        responses: { 200: { description: 'Signed in.', content: json(ref('Jwt')) }, ...pick(400, 401, 413, 429, 503) },
      },
    },
    '/api/ws-ticket': {
      post: {
        summary: 'A single-use WebSocket ticket',
        description: 'For clients that cannot send headers on a WebSocket upgrade: pass it as `?ticket=` on /courses, /courses/{ownerId} or /graphql within `expiresInSeconds`; it works once.',
        operationId: 'wsTicket',
        security: bearer,
        responses: { 201: { description: 'Issued.', content: json(ref('WsTicket')) }, ...pick(401, 503) },
      },
    },
    '/api/course': {
      post: {
        summary: 'Publish a course (OWNER)',
        operationId: 'createCourse',
        security: bearer,
        requestBody: { required: true, content: json(ref('CreateCourseRequest')) },
        responses: { 201: { description: 'Created.', content: json(ref('CourseCreated')) }, ...pick(400, 401, 403, 413, 503) },
      },
    },
    '/api/course/{courseId}': {
      delete: {
        summary: 'Delete one of your courses',
        operationId: 'deleteCourse',
        security: bearer,
        parameters: [{ name: 'courseId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'Deleted.', content: json(ref('CourseDeleted')) }, ...pick(400, 401, 403, 404, 503) },
      },
    },
    '/api/courses': {
      get: {
        summary: 'List courses (newest first)',
        operationId: 'listCourses',
        security: bearer,
        parameters: [
          { name: 'category', in: 'query', required: false, schema: { type: 'string' }, description: 'Case-insensitive.' },
          { name: 'ownerId', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'Courses, up to COURSE_LIST_MAX.', content: json(ref('CourseList')) }, ...pick(400, 401, 503) },
      },
    },
    '/api/student-service/course/subscribe': {
      post: {
        summary: 'Lobby: join the newest course of a category (STUDENT) and follow the category',
        operationId: 'joinLobby',
        security: bearer,
        requestBody: { required: true, content: json(ref('LobbyRequest')) },
        responses: { 200: { description: 'Joined.', content: json(ref('LobbyJoined')) }, ...pick(400, 401, 403, 404, 413, 503) },
      },
    },
    '/courses/{courseId}/buy': {
      post: {
        summary: 'Buy a course (STUDENT; users → gRPC → courses; idempotent)',
        operationId: 'buyCourse',
        security: bearer,
        parameters: [
          { name: 'courseId', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'idempotency-key', in: 'header', required: false, schema: { type: 'string' } },
        ],
        requestBody: { required: true, content: json(ref('BuyRequest')) },
        responses: { 200: { description: 'Bought (or already owned).', content: json(ref('Bought')) }, ...pick(400, 401, 403, 404, 409, 413, 503) },
      },
    },
  },
} as const;

/** GET /api/openapi.json */
export function registerOpenApi(router: RouteRegistry): void {
  router.route('GET', '/api/openapi.json', (req, res) => {
    req.resume();
    sendJson(res, 200, OPENAPI_DOCUMENT);
  });
}
