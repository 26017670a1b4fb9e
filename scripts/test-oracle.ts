/**
 * `npm run test:oracle`: runs the users, courses and media repository suites (migrations + every repository
 * query) against a real Oracle, each in its own schema, by setting ORACLE_URL for one jest project at a time.
 *
 * Defaults target the compose Oracle published on the host (docs/deployment.md):
 *   docker compose -f docker-compose.yml -f deploy/oracle/compose.host-port.yml up -d oracle
 *   npm run test:oracle
 * Override per service with ORACLE_URL_USERS / ORACLE_URL_COURSES / ORACLE_URL_MEDIA (oracle://user:pass@host:1521/SERVICE),
 * or ORACLE_HOST / ORACLE_HOST_PORT / TEST_DB_PASSWORD for the compose schemas USERS_TEST / COURSES_TEST / MEDIA_TEST.
 * Before each suite it waits (ORACLE_WAIT_SECONDS, default 600) until `select 1 from dual` answers as that
 * suite's user, so it can be started right after `docker compose up -d oracle`. Extra arguments go to jest.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { OracleNotReady, waitForOracle } from './oracle-ready';

const ROOT = resolve(__dirname, '..');
const PROJECTS = ['users', 'courses', 'media'] as const;

function urlFor(project: (typeof PROJECTS)[number]): string {
  const explicit = process.env[`ORACLE_URL_${project.toUpperCase()}`];
  if (explicit) return explicit;
  const host = process.env.ORACLE_HOST ?? '127.0.0.1';
  const port = process.env.ORACLE_HOST_PORT ?? '1521';
  const password = encodeURIComponent(process.env.TEST_DB_PASSWORD ?? 'test-dev');
  return `oracle://${project.toUpperCase()}_TEST:${password}@${host}:${port}/FREEPDB1`;
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  for (const project of PROJECTS) {
    const url = urlFor(project);
    const u = new URL(url);
    const where = `${u.hostname}:${u.port || 1521}${u.pathname}`;
    process.stdout.write(`test:oracle: waiting for \`select 1 from dual\` as ${decodeURIComponent(u.username)} on ${where}\n`);
    try {
      const { default: oracledb } = await import('oracledb');
      const { attempts } = await waitForOracle({
        connect: () =>
          oracledb.getConnection({
            user: decodeURIComponent(u.username),
            password: decodeURIComponent(u.password),
            connectString: `${u.hostname}:${u.port || 1521}${u.pathname}`,
          }),
        timeoutMs: Number(process.env.ORACLE_WAIT_SECONDS ?? 600) * 1000,
        onWaiting: (err, ms) => process.stdout.write(`test:oracle: still waiting (${Math.round(ms / 1000)} s): ${err}\n`),
      });
      process.stdout.write(`test:oracle: ${project} schema answers (attempt ${attempts})\n`);
    } catch (e) {
      if (!(e instanceof OracleNotReady)) throw e;
      process.stderr.write(
        (e.nothingListening ? `test:oracle: no Oracle listening at ${where} (${project}): ${e.message}\n` : `test:oracle: ${project}: ${e.message}\n`) +
          '  Start the compose one: docker compose -f docker-compose.yml -f deploy/oracle/compose.host-port.yml up -d oracle\n' +
          '  (the first start takes a few minutes; ORACLE_WAIT_SECONDS sets how long this waits, default 600)\n',
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
