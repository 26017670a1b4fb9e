/**
 * The images, without Docker: each Dockerfile target is staged as the image would hold it (.dockerignore
 * applied, production dependencies installed by the deps stage's own RUN on the images' Node major, native
 * modules compiled for it), then each service is started with the image's ENTRYPOINT + CMD and its compose
 * environment (defaults applied; SQLite instead of Oracle, a local redis-server, free ports instead of the
 * fixed ones, 127.0.0.1 instead of compose's service names) in compose's start order, and each must pass the
 * image's HEALTHCHECK. Finally a signup and a federated query go through the staged gateway.
 *
 * Run with `npm run test:images` (scripts/test-images.sh provides IMAGE_NODE). IMAGE_TARGETS=a,b stages and
 * starts only those services and what they depend on (e.g. `IMAGE_TARGETS=media-worker npm run test:images`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Disposables, freePort, startRedisServer, waitFor } from '@dream/common/testing';
import { compose, composeEnv, composeSecrets, dependsOn, OURS as ALL_OURS, services, WORKSPACES } from '../test/lib/compose-file';
import { imageNodeMajor, imagePath, inImage, splitAptSteps, stageImages, type StagedImage } from './stage';

const NODE = process.env.IMAGE_NODE;
// Outside the repository (jest would otherwise see the staged copies of the workspaces' package.json files).
// stages/ keeps the deps stage between runs, keyed by what it copies; work/ is rebuilt and removed each run.
const WORK = join(tmpdir(), 'dream-and-study-images');
const opts = NODE ? { node: NODE, workDir: join(WORK, 'work'), cacheDir: join(WORK, 'stages') } : undefined;

/** The targets this run stages: IMAGE_TARGETS (with their dependencies among ours) or all of them. */
function selectedTargets(): string[] {
  const wanted = (process.env.IMAGE_TARGETS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted.length) return ALL_OURS;
  const unknown = wanted.filter((w) => !ALL_OURS.includes(w));
  if (unknown.length) throw new Error(`IMAGE_TARGETS: not one of our services: ${unknown.join(', ')}`);
  const out = new Set<string>();
  const visit = (s: string) => {
    if (out.has(s)) return;
    out.add(s);
    for (const dep of Object.keys(dependsOn(services[s]))) if (ALL_OURS.includes(dep)) visit(dep);
  };
  wanted.forEach(visit);
  return ALL_OURS.filter((s) => out.has(s));
}
const OURS = selectedTargets();

/** compose's start order: a service after everything it depends on. */
function startOrder(): string[] {
  const order: string[] = [];
  const visit = (s: string) => {
    if (order.includes(s)) return;
    for (const dep of Object.keys(dependsOn(services[s]))) if (OURS.includes(dep)) visit(dep);
    order.push(s);
  };
  OURS.forEach(visit);
  return order;
}

interface Running {
  image: StagedImage;
  env: Record<string, string>;
  child: ChildProcess;
  output: string[];
  port: number;
}

describe('the Dockerfile targets, staged and started as compose starts them', () => {
  const disposables = new Disposables();
  let images: Record<string, StagedImage>;
  const running: Record<string, Running> = {};

  beforeAll(() => {
    if (!opts) throw new Error('IMAGE_NODE is not set: run `npm run test:images` (it provides the images\' Node major)');
    mkdirSync(WORK, { recursive: true });
    images = stageImages(OURS, opts);
  }, 600_000);
  afterAll(async () => {
    await disposables.disposeAll();
    rmSync(join(WORK, 'work'), { recursive: true, force: true });
  }, 60_000);

  it('runs on the Node major the images use', () => {
    const version = spawnSync(opts!.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(version.startsWith(`v${imageNodeMajor()}.`)).toBe(true);
  });

  it.each(OURS)('%s: holds production dependencies only, native modules built for that Node, and no tests or data', (name) => {
    const image = images[name];
    const nm = join(image.dir, 'node_modules');
    // the root's devDependencies that nothing in production pulls in (tsx is made a production one on purpose)
    for (const dev of ['jest', 'typescript', '@swc/core', '@swc/jest', 'autocannon', 'fast-check', '@graphql-hive/gateway-runtime']) expect({ dev, present: existsSync(join(nm, dev)) }).toEqual({ dev, present: false });
    expect(existsSync(join(nm, 'tsx/package.json'))).toBe(true);
    const sqlite = spawnSync(opts!.node, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: image.dir, encoding: 'utf8' });
    expect(sqlite.stderr).toBe('');
    expect(existsSync(join(image.dir, WORKSPACES[name], 'src/main.ts'))).toBe(true);
    expect(existsSync(join(image.dir, WORKSPACES[name], 'test'))).toBe(false);
    expect(existsSync(join(image.dir, 'test'))).toBe(false);
    expect(existsSync(join(image.dir, 'deploy/oracle'))).toBe(false);
    if (name === 'users' || name === 'courses') expect(existsSync(join(image.dir, WORKSPACES[name], 'src/data/migrations.ts'))).toBe(true);
    // only its own workspace: a service importing another's code would fail in its image
    for (const other of ALL_OURS.filter((o) => WORKSPACES[o] !== WORKSPACES[name])) expect(existsSync(join(image.dir, WORKSPACES[other]))).toBe(false);
    expect(image.user).toBe('node');
  });

  it('every service starts with its compose environment and passes its HEALTHCHECK, in compose order', async () => {
    const redis = disposables.push(await startRedisServer(), (r) => r.stop());
    // compose's named volumes: one folder each, shared by every service that mounts it (media-data: the
    // media replicas and the worker), linked where the image's /app path would be
    const volumeDir = (volume: string) => join(opts!.workDir, 'volumes', volume);
    for (const volume of Object.keys(compose.volumes ?? {})) {
      rmSync(volumeDir(volume), { recursive: true, force: true });
      mkdirSync(volumeDir(volume), { recursive: true });
    }
    const { secrets } = composeSecrets(); // one JWT pair for every service, as one .env gives them
    const ports: Record<string, number> = {};
    for (const name of OURS) ports[name] = await freePort();

    for (const name of startOrder()) {
      const image = images[name];
      const composeVars = composeEnv(name, secrets);
      // compose's service names and fixed ports → this machine's loopback and free ports
      const env: Record<string, string> = {
        PATH: imagePath(opts!),
        HOME: image.dir,
        HOSTNAME: '127.0.0.1', // the entrypoint advertises the container's host name
        ...image.env,
        ...composeVars,
        PORT: String(ports[name]),
      };
      for (const [k, v] of Object.entries(env)) {
        // and the image's /app (a path, or a sqlite: URL's file) → the staged folder
        env[k] = v.replace(/\/\/discovery:\d+\b/, `//127.0.0.1:${ports.discovery}`).replace(/^(sqlite:)?\/app(?=\/|$)/, `$1${image.dir}`);
      }
      // the private redis-server has no password (compose's carries REDIS_PASSWORD in the URL)
      if (env.REDIS_URL) env.REDIS_URL = redis.url;
      if (env.GRPC_PORT) env.GRPC_PORT = String(await freePort());
      // one SQLite file per Oracle schema, shared like the schema is (media's replicas and its worker)
      if (env.DATABASE_URL?.startsWith('oracle:')) {
        const schemaDir = join(opts!.workDir, 'oracle-schemas');
        mkdirSync(schemaDir, { recursive: true });
        env.DATABASE_URL = `sqlite:${join(schemaDir, `${new URL(env.DATABASE_URL).username.toLowerCase()}.db`)}`;
      }
      for (const [k, v] of Object.entries(env)) expect({ k, v }).not.toEqual({ k, v: expect.stringMatching(/\/\/(redis|discovery|oracle)[:/]/) });
      for (const mount of (services[name].volumes ?? []).map(String)) {
        const [volume, target] = mount.split(':');
        if (!(volume in (compose.volumes ?? {})) || !target.startsWith('/app/')) continue;
        const at = inImage(image, target);
        rmSync(at, { recursive: true, force: true });
        mkdirSync(dirname(at), { recursive: true });
        symlinkSync(volumeDir(volume), at);
      }
      const [cmd, ...args] = [...image.entrypoint, ...image.cmd].map((a) => inImage(image, a));
      const child = spawn(cmd, args, { cwd: image.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const output: string[] = [];
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      disposables.push(child, async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      });
      running[name] = { image, env, child, output, port: ports[name] };

      // Docker's HEALTHCHECK: the image's probe command, with the container's environment, until it exits 0.
      const [probe, ...probeArgs] = image.healthcheck.map((a) => inImage(image, a));
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.join('').slice(-3000)}`);
          const res = spawnSync(probe, probeArgs, { cwd: image.dir, env, timeout: 5000 });
          return res.status === 0;
        },
        { timeoutMs: 120_000, intervalMs: 500, what: `${name}'s HEALTHCHECK` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n--- ${name} output ---\n${output.join('').slice(-3000)}`);
      });
    }
    expect(Object.keys(running).sort()).toEqual([...OURS].sort());
    // the entrypoint set ADVERTISE_HOST from the host name, as in a container
    const auth = { authorization: `Bearer ${secrets.DISCOVERY_TOKEN}` }; // discovery requires compose's token
    const advertised = (await (await fetch(`http://127.0.0.1:${ports.discovery}/v1/services`, { headers: auth })).json()) as unknown;
    expect(JSON.stringify(advertised)).toMatch(/127\.0\.0\.1/);
  }, 300_000);

  it('the apt steps of a RUN are checked on this machine, never run on it', () => {
    const staged = splitAptSteps('apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/* && mkdir -p /x');
    expect(staged).toEqual({ command: 'mkdir -p /x', packages: ['ffmpeg'] });
    expect(() => splitAptSteps('DEBIAN_FRONTEND=noninteractive apt-get install -y x')).toThrow(/cannot stand in/);
    expect(splitAptSteps('npm ci && if [ -e x ]; then a && b; fi')).toEqual({ command: 'npm ci && if [ -e x ]; then a && b; fi', packages: [] });
  });

  (OURS.includes('media-worker') ? it : it.skip)('the staged media worker answers /health as a worker with its queue and database up', async () => {
    const worker = running['media-worker'];
    expect(worker).toBeDefined();
    const res = await fetch(`http://127.0.0.1:${worker.port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expect.objectContaining({ status: 'ok', role: 'worker', db: 'up', redis: 'up', worker: 'running' }));
  });

  (OURS.includes('gateway') ? it : it.skip)('the staged gateway answers a signup (users writes) and a federated query', async () => {
    const gateway = running.gateway;
    expect(gateway).toBeDefined();
    const base = `http://127.0.0.1:${gateway.port}`;
    const signup = await fetch(`${base}/api/user/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `img${Date.now() % 1e6}`, password: 'correct horse battery', email: `img${Date.now()}@example.org`, roles: 'OWNER' }),
    });
    expect(signup.status).toBe(201);
    const { jwt } = (await signup.json()) as { jwt: string };
    const created = await fetch(`${base}/api/course`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', jwt },
      body: JSON.stringify({ courseName: 'Images', courseInfo: 'staged', courseCathegory: 'Ops', price: '10' }),
    });
    expect(created.status).toBe(201);
    const query = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ courses(first: 5) { name owner { username } } }' }),
    });
    const body = (await query.json()) as { data?: { courses: Array<{ name: string; owner: { username: string } }> }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.courses.map((c) => c.name)).toContain('Images');
  });
});
