/**
 * The real `npm start` launcher (scripts/start.ts) for tests: one replica of each subgraph on free ports,
 * this test's Redis and folder, output captured. `up` resolves when the banner is printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort } from '@dream/common/testing';

const ROOT = resolve(__dirname, '..');

export interface NpmStart {
  proc: ChildProcess;
  /** stdout and stderr so far. */
  output: () => string;
  gateway: string;
  /** Resolves once the launcher printed its banner (rejects if it exits first). */
  up: Promise<void>;
  exit: Promise<number | null>;
  /** SIGTERM, and the exit code. */
  stop: () => Promise<number | null>;
}

export async function startNpmStart(opts: { redisUrl: string; dir: string; env?: Record<string, string> }): Promise<NpmStart> {
  const gatewayPort = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      REDIS_URL: opts.redisUrl,
      DATA_DIR: join(opts.dir, 'data'),
      JWT_KEYS_DIR: join(opts.dir, 'keys'),
      USERS_REPLICAS: '1',
      COURSES_REPLICAS: '1',
      GATEWAY_PORT: String(gatewayPort),
      DISCOVERY_PORT: String(await freePort()),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exit = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  const up = new Promise<void>((resolveUp, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('Press Ctrl-C to stop.')) resolveUp();
    });
    void exit.then((code) => reject(new Error(`launcher exited (${code}) before it was up:\n${out}`)));
  });
  up.catch(() => undefined); // observed by whoever awaits it
  proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    return exit;
  };
  return { proc, output: () => out, gateway: `http://127.0.0.1:${gatewayPort}`, up, exit, stop };
}
