/**
 * The worker role's /health: what Docker's HEALTHCHECK and the Kubernetes probes ask a process that serves
 * no API. A real worker (private redis-server, SQLite) answers 200; each essential part down answers 500
 * naming it; after stop() nothing listens any more.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@dream/common';
import { Disposables, startRedisServer } from '@dream/common/testing';
import { loadMediaConfig } from '../src/config';
import { startMediaWorker } from '../src/worker';
import { startWorkerHealthServer, type WorkerHealthChecks } from '../src/worker-health';

jest.setTimeout(60_000);

const d = new Disposables();
afterAll(() => d.disposeAll());

const logger = createLogger('worker-health-test', { level: 'silent' });

async function health(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('media worker /health', () => {
  it('a running worker answers 200 with its database, Redis and job loop up, and stops listening on stop()', async () => {
    const redis = d.push(await startRedisServer(), (r) => r.stop(), 'redis-server');
    const dir = mkdtempSync(join(tmpdir(), 'media-worker-health-'));
    d.defer(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadMediaConfig({
      MEDIA_ROLE: 'worker',
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      DATABASE_URL: `sqlite:${join(dir, 'media.db')}`,
      MEDIA_DIR: join(dir, 'media'),
      MEDIA_UPLOAD_DIR: join(dir, 'uploads'),
      COURSES_GRPC_URL: '127.0.0.1:1',
      JWT_KEYS_DIR: join(dir, 'keys'),
      MEDIA_SIGNING_SECRET: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'silent',
    });
    const worker = await startMediaWorker(config);
    let stopped = false;
    d.defer(() => (stopped ? undefined : worker.stop()), 'media worker');
    expect(worker.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await health(worker.healthUrl);
    expect(ok).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok', role: 'worker', db: 'up', redis: 'up', worker: 'running' }) });

    await worker.stop();
    stopped = true;
    await expect(fetch(`${worker.healthUrl}/health`)).rejects.toThrow();
  });

  it.each([
    ['database', { database: false, redis: true, worker: true }, 'database unavailable'],
    ['redis', { database: true, redis: false, worker: true }, 'redis unavailable'],
    ['worker', { database: true, redis: true, worker: false }, 'worker unavailable'],
  ])('answers 500 naming %s when it is down', async (_name, state, reason) => {
    const checks: WorkerHealthChecks = { database: async () => state.database, redis: async () => state.redis, worker: () => state.worker };
    const server = d.push(await startWorkerHealthServer({ port: 0, host: '127.0.0.1', logger, checks }), (s) => s.stop(), 'health server');
    const res = await health(server.base);
    expect(res.status).toBe(500);
    expect(res.body).toEqual(expect.objectContaining({ status: 'down', reason }));
  });
});
