/** The bench topology's parts shared by the runner and the A/B scripts: subgraph replicas, pools, seed data. */
import type { ChildService, SpawnOptions, Stack } from '@dream/testenv';
import type { Seed } from './types';

export interface Replicas {
  users: ChildService[];
  courses: ChildService[];
  all: ChildService[];
}

/** Replicas per subgraph, replica 1 of each first (each migrates its subgraph's shared SQLite file). */
export async function startReplicas(stack: Stack, n: number, env: Record<string, string>, o: SpawnOptions = {}): Promise<Replicas> {
  const first = await Promise.all([stack.spawnSubgraph('users', env, o), stack.spawnSubgraph('courses', env, o)]);
  const users = [first[0]];
  const courses = [first[1]];
  for (let i = 1; i < n; i++) {
    const more = await Promise.all([stack.spawnSubgraph('users', env, o), stack.spawnSubgraph('courses', env, o)]);
    users.push(more[0]);
    courses.push(more[1]);
  }
  return { users, courses, all: [...users, ...courses] };
}

/** Waits until the gateway's pools hold `n` instances of each subgraph. */
export async function waitForPools(gw: ChildService, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${gw.base}/ready`).catch(() => undefined);
    const body = res ? ((await res.json().catch(() => ({}))) as { subgraphs?: Record<string, { available: number }> }) : {};
    const s = body.subgraphs ?? {};
    if (s.users?.available === n && s.courses?.available === n) return;
    if (Date.now() > deadline) throw new Error(`gateway pools never reached ${n} replicas each: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POSTs an operation and returns its data; GraphQL errors throw. */
export async function gqlPost(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: any; errors?: Array<{ message: string }> };
  if (body.errors?.length) throw new Error(`${url}: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data;
}

/** 5 owners with 12 courses each (SMOKE: 2 × 30 would be slower; the same set is fine). */
export async function seedData(base: string): Promise<Seed> {
  const url = `${base}/graphql`;
  const tokens: string[] = [];
  const ownerIds: string[] = [];
  const courseIds: string[] = [];
  const courseMeta: Seed['courseMeta'] = {};
  const owners = 5;
  const tag = Date.now().toString(36);
  for (let o = 0; o < owners; o++) {
    const data = await gqlPost(
      url,
      'mutation($i: SignupInput!) { signup(input: $i) { jwt user { id } } }',
      { i: { username: `owner${o}_${tag}`, password: 'bench-password-1', email: `owner${o}_${tag}@bench.test`, roles: ['OWNER', 'STUDENT'] } },
    );
    tokens.push(data.signup.jwt);
    ownerIds.push(data.signup.user.id);
  }
  const categories = ['math', 'music', 'code', 'art'];
  for (let i = 0; i < owners * 12; i++) {
    const data = await gqlPost(
      url,
      'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }',
      { i: { name: `Course ${i}`, info: `About course ${i}`, category: categories[i % categories.length], price: 10 + (i % 40) } },
      { authorization: `Bearer ${tokens[i % owners]}` },
    );
    courseIds.push(data.createCourse.id);
    courseMeta[data.createCourse.id] = { ownerId: ownerIds[i % owners], category: categories[i % categories.length] };
  }
  return { owners, ownerIds, courseIds, courseMeta, tokens };
}

