import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService, loadJwtKeys, type JwtKeys, type Role } from '@dream/common';
import { fetchBody, Disposables, startRedisServer, type RedisServerHandle } from '@dream/common/testing';
import { loadCoursesConfig, type CoursesConfig } from '../src/config';
import { startCoursesSubgraph, type CoursesSubgraph } from '../src/service';

export interface GqlResult {
  status: number;
  body: {
    data?: Record<string, any> | null;
    errors?: Array<{ message: string; extensions?: Record<string, any> }>;
  };
}

export interface TestUser {
  id: string;
  username: string;
  roles: Role[];
  token: string;
}

export interface TestCourses {
  service: CoursesSubgraph;
  redis: RedisServerHandle;
  config: CoursesConfig;
  keys: JwtKeys;
  dir: string;
  gql(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult>;
  http(path: string): Promise<{ status: number; body: any }>;
  /** Mints a token for a fresh user id (courses trusts the signed id; users need not exist here). */
  user(roles: Role[], username?: string): TestUser;
}

/** A courses subgraph on port 0 with a private redis-server and a SQLite file in a temp dir. */
export async function startTestCourses(d: Disposables, env: Record<string, string> = {}): Promise<TestCourses> {
  const dir = mkdtempSync(join(tmpdir(), 'courses-test-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
  const redis = d.push(await startRedisServer(), (r) => r.stop());
  const config = loadCoursesConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'courses.db')}`,
    REDIS_URL: redis.url,
    JWT_KEYS_DIR: join(dir, 'keys'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const keys = loadJwtKeys({ JWT_KEYS_DIR: config.JWT_KEYS_DIR });
  const jwt = new JwtService({ keys });
  const service = d.push(await startCoursesSubgraph(config), (s) => s.stop());
  const base = service.url.replace(/\/graphql$/, '');
  let n = 0;
  return {
    service,
    redis,
    config,
    keys,
    dir,
    async gql(query, variables, token) {
      const res = await fetch(service.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlResult['body'] };
    },
    http: (path) => fetchBody(base + path),
    user(roles, username = `user${++n}`) {
      const id = randomUUID();
      return { id, username, roles, token: jwt.sign({ id, username, roles }) };
    },
  };
}

export const COURSE_FIELDS = 'id name info category price owner { id } cursor createdAt updatedAt';

export const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCourseInput!) { createCourse(input: $input) { ${COURSE_FIELDS} } }
`;
export const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateCourseInput!) { updateCourse(id: $id, input: $input) { ${COURSE_FIELDS} } }
`;
export const DELETE = /* GraphQL */ `
  mutation Delete($id: ID!) { deleteCourse(id: $id) { id message } }
`;
export const LIST = /* GraphQL */ `
  query List($category: String, $ownerId: ID, $first: Int, $after: String) {
    courses(category: $category, ownerId: $ownerId, first: $first, after: $after) { ${COURSE_FIELDS} }
  }
`;
export const JOIN = /* GraphQL */ `
  mutation Join($category: String!) { joinLobby(category: $category) { status courseId message course { id category } } }
`;

export const errorCode = (r: GqlResult) => r.body.errors?.[0]?.extensions?.code;

export function courseInput(over: Record<string, unknown> = {}) {
  return { name: 'Strategy', info: 'text', category: 'Programming', price: '123', ...over };
}
