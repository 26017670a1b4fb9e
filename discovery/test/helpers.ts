import { EventEmitter } from 'node:events';
import type { ServicesSnapshot } from '@dream/common';
import { loadDiscoveryConfig } from '../src/config';
import { startDiscovery, type DiscoveryHandle } from '../src/server';

/** A discovery server in this process on `port` (0 = free port) against `redisUrl`. */
export function startTestDiscovery(redisUrl: string, opts: { port?: number; ttlSeconds?: number; sweepMs?: number } = {}): Promise<DiscoveryHandle> {
  const config = loadDiscoveryConfig({
    PORT: String(opts.port ?? 0),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    DISCOVERY_TTL_SECONDS: String(opts.ttlSeconds ?? 10),
    DISCOVERY_SWEEP_MS: String(opts.sweepMs ?? 200),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  return startDiscovery(config);
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

export async function http<T = any>(method: string, url: string, body?: unknown, raw?: string): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T) };
}

/** Collects snapshots a watcher delivers, so tests can wait for one matching a condition. */
export class SnapshotLog extends EventEmitter {
  readonly all: ServicesSnapshot[] = [];
  readonly push = (s: ServicesSnapshot) => {
    this.all.push(s);
    this.emit('snapshot', s);
  };
  get last(): ServicesSnapshot | undefined {
    return this.all[this.all.length - 1];
  }
}

export const urlsOf = (s: ServicesSnapshot | undefined, service: string) => (s?.services[service] ?? []).map((i) => i.url).sort();

export interface DiscoveryProcess {
  url: string;
  child: import('node:child_process').ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM (SIGKILL after 5 s); resolves when it exited. */
  stop(): Promise<number | string>;
}

/** `src/main.ts` as a real process (what `npm start -w discovery` runs), on a free port. */
export async function spawnDiscovery(env: Record<string, string>): Promise<DiscoveryProcess> {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const root = path.resolve(__dirname, '../..');
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['src/main.ts'], {
    cwd: path.join(root, 'discovery'),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`discovery process did not start:\n${output}`)), 20000);
    const onData = (buf: Buffer) => {
      output += buf.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('discovery listening')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    void exited.then((code) => reject(new Error(`discovery process exited (${code}):\n${output}`)));
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }
    return exited;
  };
  return { url, child, exited, stop };
}
