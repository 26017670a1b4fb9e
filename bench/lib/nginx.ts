import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export interface NginxHandle {
  /** The master's pid. */
  pid: number;
  /** The worker's pid (the process that serves, and the one to watch for CPU). */
  workerPid: number;
  base: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * Debian's nginx as a plain child process serving `root` read-only: no root needed (prefix, pid file,
 * logs and temp folders all in `dir`), one worker (like the one node process it is compared with),
 * sendfile on, no access log. The static-file ceiling of the media benchmark.
 */
export async function startNginx(dir: string, root: string, binary = 'nginx'): Promise<NginxHandle> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  writeFileSync(
    conf,
    [
      // as root, nginx's workers would drop to `nobody`, who cannot read a private temp folder; as
      // anyone else the directive is ignored (with a notice) and the workers run as that user anyway
      `user ${userInfo().username};`,
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      '  tcp_nopush on;',
      `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}`,
      '  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; video/mp4 mp4; image/jpeg jpg; }',
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await Promise.race([fetch(`${base}/`, { signal: AbortSignal.timeout(500) }).then(() => true, () => false), failed]);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start (see ${join(dir, 'error.log')})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  // the master forks the worker; Linux lists a process's children under /proc
  const [workerPid] = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  return {
    pid,
    workerPid: workerPid || pid,
    base,
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT'); // graceful: the workers finish, then the master exits
      await exited;
    },
  };
}
