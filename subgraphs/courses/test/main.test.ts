import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Disposables, startRedisServer, waitFor } from '@dream/common/testing';

/** `npm start -w subgraphs/courses` as a real process: env config, /health, clean exit on SIGTERM. */
const d = new Disposables();
afterAll(() => d.disposeAll());

const root = resolve(__dirname, '../../..');

function startMain(env: Record<string, string>) {
  const child = spawn(join(root, 'node_modules/.bin/tsx'), [resolve(__dirname, '../src/main.ts')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  d.push(child, (c: ChildProcess) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}

test('starts from the environment on a free port, reports health, and exits 0 on SIGTERM even with Redis gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courses-main-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
  const redis = d.push(await startRedisServer(), (r) => r.stop());
  const { child, lines, exited } = startMain({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'courses.db')}`,
    REDIS_URL: redis.url,
    JWT_KEYS_DIR: join(dir, 'keys'),
  });
  const listening = await waitFor(() => lines.find((l) => l.msg === 'courses subgraph listening'), {
    timeoutMs: 20000,
    what: 'courses to listen',
  });
  const base = String(listening.url).replace(/\/graphql$/, '');
  const health = await fetch(`${base}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', db: 'up', redis: 'up' });

  await redis.stop();
  const down = await waitFor(async () => {
    const r = await fetch(`${base}/health`);
    return ((await r.clone().json()) as { redis?: string }).redis === 'down' ? r.json() : undefined;
  }, { timeoutMs: 10000, what: 'health to report Redis down' });
  expect(down).toMatchObject({ status: 'ok', db: 'up', redis: 'down', degraded: true });

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

test('a bad setting stops start-up with a readable message', async () => {
  const { child, exited } = startMain({ PORT: 'not-a-port' });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  expect(await exited).toBe(1);
  expect(err).toMatch(/courses: invalid configuration/);
  expect(err).toMatch(/PORT/);
});
