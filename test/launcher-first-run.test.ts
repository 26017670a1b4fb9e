/**
 * `npm start` as a new user meets it (scripts/start.ts, the real launcher and services):
 * - the first start with an empty data folder seeds the demo catalogue through the public API and prints
 *   the accounts, which log in; the student's course gets a lesson whose generated video was uploaded with
 *   tus through the gateway; a second start on the same folder seeds nothing and prints them again, and
 *   the worker has made that lesson READY for the student to play;
 * - logs: LOG_FORMAT=pretty gives one prefixed line per event, never raw JSON; piped without LOG_FORMAT
 *   they stay JSON; the gateway's access log is off under npm start.
 * When it does not seed (SEED_DEMO=false, NODE_ENV=production, …) is checked on seedDecision itself.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, waitFor, type RedisServerHandle } from '@dream/common/testing';
import { DEMO_LESSON_TITLE } from '../scripts/demo-lesson';
import { DEMO_ACCOUNTS_FILE, seedDecision, type DemoData } from '../scripts/demo-seed';
import { startNpmStart, type NpmStart } from './npm-start';

jest.setTimeout(300_000);

async function gql<T>(gateway: string, query: string, variables: Record<string, unknown> = {}, jwt?: string): Promise<T> {
  const res = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

describe('npm start on a fresh data folder', () => {
  let redis: RedisServerHandle;
  let dir: string;
  const runs: NpmStart[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'first-run-'));
  });
  afterAll(async () => {
    for (const r of runs) await r.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>): Promise<NpmStart> {
    const run = await startNpmStart({ redisUrl: redis.url, dir, env });
    runs.push(run);
    return run;
  }

  async function stop(run: NpmStart): Promise<void> {
    expect(await run.stop()).toBe(0);
  }

  const passwordOf = (out: string, username: string) => new RegExp(`username ${username}\\s+password (\\S+)`).exec(out)?.[1];

  // the first start is shared by the two tests below (each has its own time budget: a start, then a stop)
  let first: NpmStart | undefined;

  it('first start: seeds owner, student and courses in several categories, and a video lesson; prints the accounts', async () => {
    const run = await start({ LOG_FORMAT: 'pretty' });
    first = run;
    await run.up;
    const out = run.output();
    const ownerPassword = passwordOf(out, 'demo-owner');
    const studentPassword = passwordOf(out, 'demo-student');
    expect(ownerPassword).toBeDefined();
    expect(studentPassword).toBeDefined();
    expect(statSync(join(dir, 'data', DEMO_ACCOUNTS_FILE)).mode & 0o777).toBe(0o600);

    // the printed accounts log in, with the roles they were given
    const login = 'mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { jwt user { roles } } }';
    const owner = await gql<{ login: { jwt: string; user: { roles: string[] } } }>(run.gateway, login, { u: 'demo-owner', p: ownerPassword });
    const student = await gql<{ login: { jwt: string; user: { roles: string[] } } }>(run.gateway, login, { u: 'demo-student', p: studentPassword });
    expect(owner.login.user.roles).toEqual(['OWNER']);
    expect(student.login.user.roles).toEqual(['STUDENT']);

    const { courses } = await gql<{ courses: Array<{ category: string; owner: { username: string } }> }>(
      run.gateway,
      '{ courses(first: 100) { category owner { username } } }',
    );
    expect(courses.length).toBeGreaterThanOrEqual(4);
    expect(new Set(courses.map((c) => c.category)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(courses.map((c) => c.owner.username))).toEqual(new Set(['demo-owner']));
    const { me } = await gql<{ me: { enrolledCourses: Array<{ name: string }> } }>(run.gateway, '{ me { enrolledCourses { name } } }', {}, student.login.jwt);
    expect(me.enrolledCourses).toHaveLength(1);
    expect(out).toContain(`demo-student owns "${me.enrolledCourses[0].name}"`);

    // the lesson with video: uploaded during start-up (the worker transcodes it afterwards; the second
    // start below plays it)
    const data = JSON.parse(readFileSync(join(dir, 'data', DEMO_ACCOUNTS_FILE), 'utf8')) as DemoData;
    expect(data.lesson).toMatchObject({ courseId: data.purchased, title: DEMO_LESSON_TITLE });
    expect(out).toContain(`has a lesson with video, "${DEMO_LESSON_TITLE}"`);
  });

  it('first start, on a terminal: logs pretty, access log off', async () => {
    const run = first!;
    await run.up;
    await stop(run);
    // every log line (everything but the banner) is a prefixed one-liner; no raw JSON reached the terminal
    const all = run.output().split('\n');
    const banner = all.findIndex((l) => l === 'Dream and Study is up:');
    const logLines = all.filter((l, i) => l.trim() !== '' && (i < banner - 1 || i > all.findIndex((x) => x === 'Press Ctrl-C to stop.')));
    expect(logLines.length).toBeGreaterThan(10);
    for (const l of logLines) expect(l).toMatch(/^(launcher|discovery|users-1|courses-1|media-1|media-worker|gateway) +\| /);
    expect(logLines.some((l) => /^gateway +\| \[\d\d:\d\d:\d\d\] INFO: gateway listening/.test(l))).toBe(true);
    expect(logLines.some((l) => /^launcher +\| .*seeded the demo catalogue/.test(l))).toBe(true);
    // access log off: the GraphQL requests above answered 200 and left no "request" line (the gateway's
    // "shutting down" line, logged on SIGTERM after them, proves its output was read past them)
    expect(logLines.some((l) => /^gateway +\| .*INFO: shutting down/.test(l))).toBe(true);
    expect(logLines.filter((l) => /^gateway +\| .*: request \{.*"status":200/.test(l))).toEqual([]);
  });

  // the second start is shared by the three tests below (each has its own time budget: a start, a transcode, a stop)
  let second: NpmStart | undefined;

  it('second start on the same folder: seeds nothing, prints the accounts again', async () => {
    const run = await start({});
    second = run;
    await run.up;
    const out = run.output();
    expect(passwordOf(out, 'demo-owner')).toBeDefined();
    const { courses } = await gql<{ courses: unknown[] }>(run.gateway, '{ courses(first: 100) { id } }');
    expect(courses).toHaveLength(5);
  });

  it('the demo lesson turns READY (the worker) and demo-student plays it; no second lesson was seeded', async () => {
    const run = second!;
    await run.up;
    // queued on the first start; finished by this start's worker if that one stopped first
    const data = JSON.parse(readFileSync(join(dir, 'data', DEMO_ACCOUNTS_FILE), 'utf8')) as DemoData;
    const login = 'mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { jwt } }';
    const jwtOf = async (role: string) => {
      const a = data.accounts.find((x) => x.role === role)!;
      return (await gql<{ login: { jwt: string } }>(run.gateway, login, { u: a.username, p: a.password })).login.jwt;
    };
    const ownerJwt = await jwtOf('OWNER');
    const studentJwt = await jwtOf('STUDENT');
    const STATUS = 'query S($id: ID!) { lesson(id: $id) { status failureReason } }';
    await waitFor(
      async () => {
        const { lesson } = await gql<{ lesson: { status: string; failureReason: string | null } }>(run.gateway, STATUS, { id: data.lesson!.id }, ownerJwt);
        if (lesson.status === 'FAILED') throw new Error(`the demo lesson FAILED: ${lesson.failureReason}`);
        return lesson.status === 'READY';
      },
      { timeoutMs: 240_000, intervalMs: 1000, what: 'the demo lesson READY' },
    );
    const { course } = await gql<{ course: { lessons: Array<{ id: string; playback: { hlsUrl: string } | null }> } }>(
      run.gateway,
      'query C($id: ID!) { course(id: $id) { lessons { id playback { hlsUrl } } } }',
      { id: data.purchased },
      studentJwt,
    );
    expect(course.lessons.map((l) => l.id)).toEqual([data.lesson!.id]);
    const master = await fetch(new URL(course.lessons[0].playback!.hlsUrl, run.gateway));
    expect(master.status).toBe(200);
    expect(await master.text()).toMatch(/^#EXTM3U/);
  });

  it('second start, piped: its logs stay JSON', async () => {
    const run = second!;
    await run.up;
    await stop(run);
    const jsonLines = run
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(jsonLines.length).toBeGreaterThan(10);
    const services = new Set(jsonLines.map((l) => (JSON.parse(l) as { service: string }).service));
    expect(services).toEqual(new Set(['launcher', 'discovery', 'users', 'courses', 'media', 'media-worker', 'gateway']));
    expect(run.output()).not.toContain('seeded the demo catalogue');
    expect(run.output()).not.toMatch(/^\w+ +\| /m);
  });

  it('seeds only on a first start outside production, unless SEED_DEMO=false', () => {
    const empty = join(dir, 'empty');
    const used = join(dir, 'used');
    mkdirSync(empty, { recursive: true });
    mkdirSync(used, { recursive: true });
    writeFileSync(join(used, 'courses.db'), '');
    const base = { seedDemo: true, nodeEnv: 'development', dataDir: empty, externalDatabase: false };
    expect(seedDecision(base)).toEqual({ seed: true });
    expect(seedDecision({ ...base, nodeEnv: undefined })).toEqual({ seed: true });
    expect(seedDecision({ ...base, dataDir: join(dir, 'not-created-yet') })).toEqual({ seed: true });
    expect(seedDecision({ ...base, seedDemo: false })).toEqual({ seed: false, reason: 'SEED_DEMO=false' });
    expect(seedDecision({ ...base, nodeEnv: 'production' })).toEqual({ seed: false, reason: 'NODE_ENV=production' });
    expect(seedDecision({ ...base, externalDatabase: true })).toMatchObject({ seed: false });
    expect(seedDecision({ ...base, dataDir: used })).toMatchObject({ seed: false, reason: expect.stringContaining('courses.db') });
  });
});
