import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchBody, Disposables, startRedisServer, type RedisServerHandle } from '@dream/common/testing';
import { loadUsersConfig, type UsersConfig } from '../src/config';
import { startUsersSubgraph, type UsersSubgraph } from '../src/service';

export interface GqlResult {
  status: number;
  body: {
    data?: Record<string, any> | null;
    errors?: Array<{ message: string; extensions?: Record<string, any> }>;
  };
}

export interface TestUsers {
  service: UsersSubgraph;
  redis: RedisServerHandle;
  config: UsersConfig;
  dir: string;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult>;
  http(path: string): Promise<{ status: number; body: any }>;
}

/** A users subgraph on port 0 with a private redis-server and a SQLite file in a temp dir. */
export async function startTestUsers(d: Disposables, env: Record<string, string> = {}): Promise<TestUsers> {
  const dir = mkdtempSync(join(tmpdir(), 'users-test-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
  const redis = d.push(await startRedisServer(), (r) => r.stop());
  const config = loadUsersConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'users.db')}`,
    REDIS_URL: redis.url,
    JWT_KEYS_DIR: join(dir, 'keys'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const service = d.push(await startUsersSubgraph(config), (s) => s.stop());
  const base = service.url.replace(/\/graphql$/, '');
  return {
    service,
    redis,
    config,
    dir,
    async gql(query, variables, headers = {}) {
      const res = await fetch(service.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlResult['body'] };
    },
    http: (path) => fetchBody(base + path),
  };
}

export const SIGNUP = /* GraphQL */ `
  mutation Signup($input: SignupInput!) {
    signup(input: $input) { jwt user { id username email roles createdAt } }
  }
`;
export const LOGIN = /* GraphQL */ `
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) { jwt user { id username email roles } }
  }
`;
export const ME = /* GraphQL */ `{ me { id username email roles createdAt } }`;

export const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

let n = 0;
/** A valid signup input with a unique username/email. */
export function newUser(over: Partial<{ username: string; password: string; email: string; roles: string[] }> = {}) {
  n++;
  const tag = `${process.pid}_${n}`;
  return { username: `user_${tag}`, password: 'correct horse', email: `user_${tag}@example.org`, roles: ['STUDENT'], ...over };
}

export function firstError(r: GqlResult) {
  const e = r.body.errors?.[0];
  if (!e) throw new Error(`expected an error, got ${JSON.stringify(r.body)}`);
  return e;
}
