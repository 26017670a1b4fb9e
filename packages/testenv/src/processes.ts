import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor, type Disposables } from '@dream/common/testing';

/** The repository root (packages/testenv/src → ../../..). */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** The pids of a process's live children, from /proc (Linux; none elsewhere): a gateway supervisor's workers. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A service running in its own Node process (so load measurements see its own CPU and memory). */
export interface ChildService {
  name: string;
  pid: number;
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  proc: ChildProcess;
  /** Where its stdout/stderr go. */
  logFile: string;
  stop(): Promise<void>;
  /** SIGKILL (no deregistration, no graceful close), resolved once the process has exited. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

export interface SpawnOptions {
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeArgs?: string[];
  /** Path polled until it answers 2xx (default /health). */
  healthPath?: string;
  /** Readiness check instead of `healthPath` (true = ready). */
  ready?: (base: string) => Promise<boolean>;
  timeoutMs?: number;
}

export interface ProcessSpec extends SpawnOptions {
  name: string;
  command: string;
  args: string[];
  /** Added to this process's environment. */
  env: Record<string, string>;
  logFile: string;
  port: number;
  /** Address the health check and `base` use (default 127.0.0.1). */
  host?: string;
}

/**
 * Starts a process (stdout and stderr to `logFile`), waits until it is healthy (`ready`, or `healthPath`
 * answering 2xx on host:port), and stops it on dispose (SIGTERM, then SIGKILL after 5 s).
 */
export async function startProcess(d: Disposables, spec: ProcessSpec): Promise<ChildService> {
  const { name, port, logFile } = spec;
  const fd = openSync(logFile, 'a');
  const proc = spawn(spec.command, spec.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((res) => proc.once('exit', () => ((exited = true), res())));
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };
  const kill = async () => {
    if (exited) return;
    proc.kill('SIGKILL');
    await exit;
  };
  const base = `http://${spec.host ?? '127.0.0.1'}:${port}`;
  const child: ChildService = {
    name,
    pid: proc.pid!,
    port,
    base,
    proc,
    logFile,
    stop,
    kill,
    get exited() {
      return exited;
    },
  };
  d.defer(stop, `process ${name}`);
  const healthPath = spec.healthPath ?? '/health';
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`${name} exited before it was healthy (see ${logFile})`);
        if (spec.ready) return await spec.ready(base);
        const res = await fetch(`${base}${healthPath}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        await res?.body?.cancel();
        return !!res && res.status >= 200 && res.status < 300;
      },
      { timeoutMs: spec.timeoutMs ?? 30_000, intervalMs: 100, what: `${name} healthy` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return child;
}

/**
 * A TCP server that accepts connections and reads requests but never answers (a hung process: the
 * port is open, the event loop is stuck). `url` is shaped like a subgraph's GraphQL URL.
 */
export async function startHangingServer(): Promise<{ url: string; port: number; connections: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    handle.connections++;
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const handle = {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    connections: 0,
    stop: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
  return handle;
}
