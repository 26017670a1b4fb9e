/**
 * deploy/oracle/init/01-create-schemas.sh against a stand-in `sqlplus` (test/fixtures/sqlplus-standin.cjs)
 * that records each statement and answers as Oracle would (ORA-01920 for a user that exists, …). The
 * script runs on every start of the compose Oracle, so it must be idempotent and repair a half-done first boot.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const SCRIPT = join(ROOT, 'deploy/oracle/init/01-create-schemas.sh');
const STANDIN = join(__dirname, 'fixtures/sqlplus-standin.cjs');
const SCHEMAS = ['USERS_SVC', 'COURSES_SVC', 'MEDIA_SVC', 'USERS_TEST', 'COURSES_TEST', 'MEDIA_TEST'];

interface StandinUser {
  password: string;
  options: string;
  quota: string[];
  grants: string[];
}
interface StandinState {
  containers: string[];
  users: Record<string, StandinUser>;
}

describe('the Oracle schema script', () => {
  let dir: string;
  const paths = () => ({
    state: join(dir, 'state.json'),
    log: join(dir, 'statements.jsonl'),
    marker: join(dir, 'oracle-base/oradata/dream-schemas.ok'),
  });
  const passwords = { USERS_DB_PASSWORD: 'users-pw', COURSES_DB_PASSWORD: 'courses-pw', MEDIA_DB_PASSWORD: 'media-pw', TEST_DB_PASSWORD: 'test-pw' };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oracle-init-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'oracle-base/oradata'), { recursive: true });
    // `sqlplus` on PATH is the stand-in, run by this node.
    writeFileSync(join(dir, 'bin/sqlplus'), `#!/bin/sh\nexec "${process.execPath}" "${STANDIN}" "$@"\n`);
    chmodSync(join(dir, 'bin/sqlplus'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string | undefined> = {}) => {
    writeFileSync(paths().log, '');
    const res = spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: {
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        ORACLE_BASE: join(dir, 'oracle-base'),
        SQLPLUS_STANDIN_STATE: paths().state,
        SQLPLUS_STANDIN_LOG: paths().log,
        ...passwords,
        ...env,
      },
    });
    const statements = readFileSync(paths().log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { args: string[]; container: string; statement: string });
    return { ...res, statements };
  };
  const state = () => JSON.parse(readFileSync(paths().state, 'utf8')) as StandinState;

  it('creates the four schemas in FREEPDB1 with the privileges the services need, then writes the marker', () => {
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(existsSync(paths().marker)).toBe(true);
    expect(first.statements.every((s) => s.args.join(' ') === '-s / as sysdba')).toBe(true);
    const users = state().users;
    expect(Object.keys(users).sort()).toEqual(SCHEMAS.map((s) => `FREEPDB1/${s}`).sort());
    expect(users['FREEPDB1/USERS_SVC'].password).toBe('users-pw');
    expect(users['FREEPDB1/COURSES_SVC'].password).toBe('courses-pw');
    expect(users['FREEPDB1/MEDIA_SVC'].password).toBe('media-pw');
    expect(users['FREEPDB1/USERS_TEST'].password).toBe('test-pw');
    for (const s of SCHEMAS) {
      const u = users[`FREEPDB1/${s}`];
      expect(u.quota).toEqual(['UNLIMITED ON USERS']);
      // the migrations create tables and indexes; the migration lock is DBMS_LOCK (oracle.ts)
      expect(u.grants).toEqual(expect.arrayContaining(['CREATE SESSION', 'CREATE TABLE', 'EXECUTE ON SYS.DBMS_LOCK']));
      expect(u.grants).not.toContain('DBA');
    }
  });

  it('is idempotent: a second run succeeds, creates nothing and leaves the same state', () => {
    expect(run().status).toBe(0);
    const after1 = state();
    const second = run();
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    expect(second.statements.filter((s) => /^CREATE USER/i.test(s.statement))).toEqual([]);
    expect(state()).toEqual(after1);
    expect(existsSync(paths().marker)).toBe(true);
  });

  it('completes a first boot that failed half-way, and applies a changed password', () => {
    // the first boot died after creating one schema (as the old script left it: no DBMS_LOCK grant)
    writeFileSync(
      paths().state,
      JSON.stringify({ containers: ['CDB$ROOT', 'FREEPDB1'], users: { 'FREEPDB1/USERS_SVC': { password: 'old', options: '', quota: [], grants: ['CREATE SESSION'] } } }),
    );
    const res = run();
    expect(res.status).toBe(0);
    const users = state().users;
    expect(Object.keys(users)).toHaveLength(6);
    expect(users['FREEPDB1/USERS_SVC'].password).toBe('users-pw');
    expect(users['FREEPDB1/USERS_SVC'].grants).toContain('EXECUTE ON SYS.DBMS_LOCK');
    expect(res.statements.filter((s) => /^CREATE USER/i.test(s.statement)).map((s) => s.statement.split(' ')[2])).toEqual([
      'COURSES_SVC',
      'MEDIA_SVC',
      'USERS_TEST',
      'COURSES_TEST',
      'MEDIA_TEST',
    ]);
  });

  it('fails without the marker when the database refuses, and when a password is missing', () => {
    expect(run().status).toBe(0);
    const refused = run({ ORACLE_DATABASE: 'NOPE' });
    expect(refused.status).not.toBe(0);
    expect(existsSync(paths().marker)).toBe(false);
    const missing = run({ COURSES_DB_PASSWORD: undefined });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/COURSES_DB_PASSWORD is required/);
    expect(existsSync(paths().marker)).toBe(false);
    const quoted = run({ TEST_DB_PASSWORD: 'a"b' });
    expect(quoted.status).not.toBe(0);
    expect(quoted.stderr).toMatch(/double quote/);
  });
});
