import { join } from 'node:path';
import { Stack, gql, type Replica } from '../../../gateway/test/helpers';
import { loadCoursesConfig } from '../../courses/src/config';
import { startCoursesSubgraph, type CoursesSubgraph } from '../../courses/src/service';
import { loadUsersConfig } from '../src/config';
import { startUsersSubgraph, type UsersSubgraph } from '../src/service';

export { gql };

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

/**
 * The gateway tests' real topology (redis-server, discovery, gateway, replicas sharing SQLite files), with
 * subgraphs that serve gRPC and register their gRPC address, and a users subgraph that finds courses
 * through discovery — the production wiring of the purchase path.
 */
export class PurchaseStack extends Stack {
  private env(name: string, extra: Record<string, string> = {}) {
    return {
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(this.dir, `${name}.db`)}`,
      REDIS_URL: this.redis.url,
      JWT_KEYS_DIR: join(this.dir, 'keys'),
      LOG_LEVEL,
      // discovery and gRPC are authenticated, as in production
      DISCOVERY_TOKEN: this.discoveryToken,
      SERVICE_TOKEN: this.serviceToken,
      ...extra,
    };
  }

  async addGrpcCourses(extra: Record<string, string> = {}): Promise<Replica & { service: CoursesSubgraph }> {
    const service = await startCoursesSubgraph(loadCoursesConfig(this.env('courses', extra)));
    const r = await this.announce('courses', service);
    this.courses.push(r);
    return r as Replica & { service: CoursesSubgraph };
  }

  async addGrpcUsers(extra: Record<string, string> = {}): Promise<Replica & { service: UsersSubgraph }> {
    const service = await startUsersSubgraph(loadUsersConfig(this.env('users', { DISCOVERY_URL: this.discoveryUrl, ...extra })));
    const r = await this.announce('users', service);
    this.users.push(r);
    return r as Replica & { service: UsersSubgraph };
  }

  private async announce(name: string, service: CoursesSubgraph | UsersSubgraph): Promise<Replica> {
    const registration = await this.client.register(
      { service: name, url: service.url, grpcUrl: `127.0.0.1:${service.grpcPort}` },
      { heartbeatMs: 500, retryMs: 100, maxRetryMs: 300 },
    );
    const r: Replica = { service, registration, port: service.port, url: service.url, stopped: false };
    this.d.defer(async () => {
      await registration.deregister();
      if (!r.stopped) await r.service.stop();
    });
    return r;
  }
}

let n = 0;
/** Signs a real user up through the gateway; returns its id and token. */
export async function signup(gw: { url: string }, roles: string[]): Promise<{ id: string; token: string; username: string }> {
  n++;
  const username = `p${process.pid}_${n}`;
  const r = await gql(gw, 'mutation($i: SignupInput!) { signup(input: $i) { jwt user { id } } }', {
    variables: { i: { username, password: 'correct horse', email: `${username}@example.org`, roles } },
  });
  if (!r.body.data?.signup) throw new Error(`signup failed: ${JSON.stringify(r.body)}`);
  return { id: r.body.data.signup.user.id, token: r.body.data.signup.jwt, username };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

export const BUY = /* GraphQL */ `
  mutation Buy($courseId: ID!, $key: String) {
    buyCourse(courseId: $courseId, idempotencyKey: $key) { message enrollmentId alreadyOwned }
  }
`;

export async function createCourse(gw: { url: string }, token: string, name = 'Strategy'): Promise<string> {
  const r = await gql(gw, 'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }', {
    variables: { i: { name, info: 'text', category: 'Programming', price: '10' } },
    headers: auth(token),
  });
  if (!r.body.data?.createCourse) throw new Error(`createCourse failed: ${JSON.stringify(r.body)}`);
  return r.body.data.createCourse.id;
}
