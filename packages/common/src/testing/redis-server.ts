import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait';
import { Redis } from 'ioredis';

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
  /** Starts it again on the same port, as after a crash or a restart. */
  start(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A private, memory-only redis-server on a free port, never the machine's 6379.
 * Throws with install instructions when redis-server is missing.
 */
export async function startRedisServer(): Promise<RedisServerHandle> {
  if (!redisServerAvailable()) {
    throw new Error('redis-server is not installed: run `apt-get install -y redis-server` (or set REDIS_URL).');
  }
  const port = await freePort();
  // its own working folder: redis-server loads a dump.rdb from its folder at start (one left in the
  // caller's folder by anything else would make an "empty" restart come back with old data)
  const dir = mkdtempSync(join(tmpdir(), 'dream-redis-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    child.unref();
    await waitFor(
      async () => {
        const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          await c.connect();
          return (await c.ping()) === 'PONG';
        } finally {
          // A probe that never connected is already 'end'; disconnecting it again arms ioredis's
          // 2 s stream-destroy timer on a closed socket, which holds jest open after the run.
          if (c.status !== 'end') c.disconnect();
        }
      },
      { timeoutMs: 10000, what: `redis-server on port ${port}` },
    );
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  };

  await start();
  const handle: RedisServerHandle = { url: `redis://127.0.0.1:${port}`, port, stop, start };
  process.once('exit', () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return handle;
}
