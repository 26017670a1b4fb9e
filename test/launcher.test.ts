/**
 * scripts/start.ts (`npm start`): a child that crashes during start-up fails the whole start at once and
 * every other child is stopped, rather than the launcher waiting START_TIMEOUT_MS for it to register.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startRedisServer, type RedisServerHandle } from '@dream/common/testing';

const ROOT = resolve(__dirname, '..');

jest.setTimeout(60_000);

describe('launcher', () => {
  let redis: RedisServerHandle;
  let dir: string;
  let launcher: ChildProcess | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  });
  afterAll(async () => {
    // also when the test timed out: the launcher stops its children on SIGTERM
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
      const gone = new Promise((done) => launcher!.once('exit', done));
      launcher.kill('SIGTERM');
      await gone;
    }
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a subgraph that crashes at start fails the start at once (exit 1) and stops discovery', async () => {
    const discoveryPort = await freePort();
    const proc = (launcher = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        REDIS_URL: redis.url,
        DISCOVERY_PORT: String(discoveryPort),
        GATEWAY_PORT: String(await freePort()),
        DATA_DIR: dir,
        JWT_KEYS_DIR: join(dir, 'keys'),
        USERS_DATABASE_URL: 'nosuchdb:./nowhere',
        // far longer than the test may take: only the fail-fast path can end it in time
        START_TIMEOUT_MS: '600000',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    }));
    const exit = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
    // jest's timeout is the expiry: without the fail-fast the launcher waits START_TIMEOUT_MS
    expect(await exit).toBe(1);
    // discovery, started before the crashed replica, was stopped with it
    const stillUp = await fetch(`http://127.0.0.1:${discoveryPort}/health`).then(
      () => true,
      () => false,
    );
    expect(stillUp).toBe(false);
  });
});
