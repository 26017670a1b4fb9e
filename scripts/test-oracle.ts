/**
 * `npm run test:oracle`: runs the users and courses repository suites (migrations + every repository
 * query) against a real Oracle, each in its own schema, by setting ORACLE_URL for one jest project at a time.
 *
 * Defaults target the compose Oracle published on the host (docs/deployment.md):
 *   docker compose -f docker-compose.yml -f deploy/oracle/compose.host-port.yml up -d oracle
 *   npm run test:oracle
 * Override per service with ORACLE_URL_USERS / ORACLE_URL_COURSES (oracle://user:pass@host:1521/SERVICE),
 * or ORACLE_HOST / ORACLE_HOST_PORT / TEST_DB_PASSWORD for the compose schemas USERS_TEST / COURSES_TEST.
 * Extra arguments go to jest.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const PROJECTS = ['users', 'courses'] as const;

function urlFor(project: (typeof PROJECTS)[number]): string {
  const explicit = process.env[`ORACLE_URL_${project.toUpperCase()}`];
  if (explicit) return explicit;
  const host = process.env.ORACLE_HOST ?? '127.0.0.1';
  const port = process.env.ORACLE_HOST_PORT ?? '1521';
  const password = encodeURIComponent(process.env.TEST_DB_PASSWORD ?? 'test-dev');
  return `oracle://${project.toUpperCase()}_TEST:${password}@${host}:${port}/FREEPDB1`;
}

/** A TCP connect with a deadline, so a missing database is one clear line instead of a jest timeout. */
function reachable(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  for (const project of PROJECTS) {
    const url = urlFor(project);
    const u = new URL(url);
    if (!(await reachable(u.hostname, Number(u.port || 1521)))) {
      process.stderr.write(
        `test:oracle: no Oracle listening at ${u.hostname}:${u.port || 1521} (${project}).\n` +
          '  Start the compose one: docker compose -f docker-compose.yml -f deploy/oracle/compose.host-port.yml up -d oracle\n' +
          '  (first start takes a few minutes; wait for `docker compose ps oracle` to say healthy)\n',
      );
      return 1;
    }
    process.stdout.write(`test:oracle: ${project} repository suite on ${redact(url)}\n`);
    const res = spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--selectProjects', project, '--testPathPatterns', 'repository', '--runInBand', ...jestArgs],
      { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ORACLE_URL: url } },
    );
    if (res.status !== 0) return res.status ?? 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`test:oracle: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
