/**
 * scripts/start.ts (`npm start`): a child that crashes during start-up fails the whole start at once and
 * every other child is stopped, rather than the launcher waiting START_TIMEOUT_MS for it to register.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from '@dream/common/testing';

const ROOT = resolve(__dirname, '..');

jest.setTimeout(120_000);

const reachable = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );

describe('launcher', () => {
  let redis: RedisServerHandle;
  let dir: string;
  let launcher: ChildProcess | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  });
  /** The real launcher (`npm start`'s script) with this test's Redis and keys; kept for afterAll. */
  function startLauncher(env: Record<string, string>): ChildProcess {
    launcher = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', REDIS_URL: redis.url, JWT_KEYS_DIR: join(dir, 'keys'), ...env },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    return launcher;
  }

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
    const proc = startLauncher({
      DISCOVERY_PORT: String(discoveryPort),
      GATEWAY_PORT: String(await freePort()),
      DATA_DIR: dir,
      USERS_DATABASE_URL: 'nosuchdb:./nowhere',
      // far longer than the test may take: only the fail-fast path can end it in time
      START_TIMEOUT_MS: '600000',
    });
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

  it('starts everything with discovery and subgraphs on loopback only, and stops every child on SIGTERM', async () => {
    const discoveryPort = await freePort();
    const gatewayPort = await freePort();
    const proc = startLauncher({
      DISCOVERY_PORT: String(discoveryPort),
      GATEWAY_PORT: String(gatewayPort),
      DATA_DIR: join(dir, 'up'),
      USERS_REPLICAS: '1',
      COURSES_REPLICAS: '1',
      // the launcher uses the environment's token (else it makes one): the test needs it to read discovery
      DISCOVERY_TOKEN: 'launcher-test-token',
    });
    const exit = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
    await waitFor(() => reachable(`http://127.0.0.1:${gatewayPort}/health`), { what: 'the gateway up', timeoutMs: 90_000 });
    // discovery is authenticated
    expect((await fetch(`http://127.0.0.1:${discoveryPort}/v1/services`)).status).toBe(401);
    const services = (await (await fetch(`http://127.0.0.1:${discoveryPort}/v1/services`, { headers: { authorization: 'Bearer launcher-test-token' } })).json()) as {
      services: Record<string, Array<{ url: string }>>;
    };
    const subgraphUrls = Object.values(services.services).flat().map((i) => new URL(i.url));
    expect(subgraphUrls.length).toBeGreaterThanOrEqual(2);
    // 127.0.0.2 is this machine too (all of 127.0.0.0/8 is loopback on Linux), but a socket bound to
    // 127.0.0.1 does not accept there while one bound to every interface does: a bind check that runs
    // on every machine, with or without a LAN address
    const other = '127.0.0.2';
    expect(await reachable(`http://${other}:${gatewayPort}/health`)).toBe(true);
    expect(await reachable(`http://${other}:${discoveryPort}/health`)).toBe(false);
    for (const u of subgraphUrls) expect(await reachable(`http://${other}:${u.port}/health`)).toBe(false);
    // and they are up on 127.0.0.1 (so "not reachable" above is the bind, not a dead process)
    expect(await reachable(`http://127.0.0.1:${discoveryPort}/health`)).toBe(true);
    for (const u of subgraphUrls) expect(await reachable(`http://127.0.0.1:${u.port}/health`)).toBe(true);
    proc.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(await reachable(`http://127.0.0.1:${gatewayPort}/health`)).toBe(false);
    expect(await reachable(`http://127.0.0.1:${discoveryPort}/health`)).toBe(false);
    for (const u of subgraphUrls) expect(await reachable(`http://127.0.0.1:${u.port}/health`)).toBe(false);
  });
});
