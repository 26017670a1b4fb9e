import { compileOnly, openDatabase, type Database } from '@dream/common/db';
import { lintOracleSql, repositoryTargets, type RepositoryTarget } from '@dream/common/testing';
import { migrations } from '../src/data/migrations';
import { MAX_IDS_PER_QUERY, UsersRepository, type UsersDb } from '../src/data/users-repository';

/** The same suite on every database we support (see repositoryTargets). */
const { targets, double } = repositoryTargets('users');
const open = (t: RepositoryTarget) => openDatabase<UsersDb>({ url: t.url(), migrations, oraclePool: t.double?.pool() });

if (!process.env.ORACLE_URL) {
  describe('UsersRepository on oracle', () => {
    it.skip('SKIPPED: set ORACLE_URL=oracle://user:pass@host:1521/SERVICE to run the repository suite on Oracle', () => undefined);
  });
}

describe.each(targets)('UsersRepository on $name', (target) => {
  let database: Database<UsersDb>;
  let repo: UsersRepository;
  // Unique per run so the suite can run repeatedly against a persistent Oracle schema.
  const run = `${Date.now().toString(36)}${process.pid}`;
  const u = (n: string) => `${n}_${run}`.slice(0, 32);

  beforeAll(async () => {
    database = await open(target);
    repo = new UsersRepository(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('migrations are idempotent (a second open applies nothing and keeps data)', async () => {
    const created = await repo.createUser({ username: u('mig'), email: `${u('mig')}@x.org`, passwordHash: 'h', roles: ['STUDENT'] });
    const again = await open(target);
    try {
      expect(await new UsersRepository(again.db).findById(created.id)).toMatchObject({ username: u('mig') });
    } finally {
      await again.close();
    }
  });

  it('a signup is committed: another connection reads it while the first is still in the pool', async () => {
    const created = await repo.createUser({ username: u('commit'), email: `${u('commit')}@x.org`, passwordHash: 'h', roles: ['STUDENT'] });
    const other = await open(target);
    try {
      expect(await new UsersRepository(other.db).findByUsername(u('commit'))).toEqual(created);
    } finally {
      await other.close();
    }
    if (target.double) {
      expect(target.double.committed('select username from users where id = ?', created.id)).toEqual([{ username: u('commit') }]);
      expect(target.double.openSessions.filter((s) => s.inTransaction)).toEqual([]);
    }
  });

  it('creates and finds a user by id and by username', async () => {
    const created = await repo.createUser({ username: u('ann'), email: `${u('ann')}@x.org`, passwordHash: '$argon2id$x', roles: ['OWNER', 'STUDENT'] });
    expect(created.roles).toEqual(['STUDENT', 'OWNER']);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await repo.findById(created.id)).toEqual(created);
    expect(await repo.findByUsername(u('ann'))).toEqual(created);
    expect(await repo.findByUsername(u('nobody'))).toBeUndefined();
    expect(await repo.findById('missing')).toBeUndefined();
  });

  it('findByIds returns the found users in one query', async () => {
    const a = await repo.createUser({ username: u('ba'), email: `${u('ba')}@x.org`, passwordHash: 'h', roles: ['STUDENT'] });
    const b = await repo.createUser({ username: u('bb'), email: `${u('bb')}@x.org`, passwordHash: 'h', roles: ['OWNER'] });
    const before = database.stats.queries;
    const found = await repo.findByIds([a.id, b.id, 'missing', a.id]);
    expect(database.stats.queries - before).toBe(1);
    expect(found.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    expect(await repo.findByIds([])).toEqual([]);
  });

  it('unique username and email → CONFLICT with the field named', async () => {
    await repo.createUser({ username: u('dup'), email: `${u('dup')}@x.org`, passwordHash: 'h', roles: ['STUDENT'] });
    await expect(
      repo.createUser({ username: u('dup'), email: `${u('other')}@x.org`, passwordHash: 'h', roles: ['STUDENT'] }),
    ).rejects.toMatchObject({ code: 'CONFLICT', fields: [{ field: 'username' }] });
    await expect(
      repo.createUser({ username: u('other'), email: `${u('dup')}@x.org`, passwordHash: 'h', roles: ['STUDENT'] }),
    ).rejects.toMatchObject({ code: 'CONFLICT', fields: [{ field: 'email' }] });
  });
});

// Runs after the suites above (jest keeps file order): the Migrator's own statements, its introspection and
// every repository statement really sent, not only the ones compiled above.
describe('every statement sent to the Oracle double', () => {
  it('passed the Oracle 23ai lint (the double refuses what would fail)', () => {
    const sent = double.executed();
    expect(new Set(sent.map((c) => c.sql)).size).toBeGreaterThan(10);
    expect(double.refused()).toEqual([]);
  });
});

describe('every repository query compiles for Oracle', () => {
  const repo = new UsersRepository(compileOnly<UsersDb>('oracle'));
  const row = { id: 'i', username: 'u', email: 'e', password_hash: 'h', roles: 'STUDENT', created_at: '2026-01-01T00:00:00.000Z' };
  const compiled = {
    insert: repo.queries.insert(row).compile(),
    byId: repo.queries.byId('i').compile(),
    byIds: repo.queries.byIds(['a', 'b', 'c']).compile(),
    byUsername: repo.queries.byUsername('u').compile(),
    taken: repo.queries.taken('u', 'e').compile(),
  };

  it('covers every query the repository defines', () => {
    expect(Object.keys(compiled).sort()).toEqual(Object.keys(repo.queries).sort());
  });

  it.each(Object.entries(compiled))('%s uses Oracle bind variables and no limit/returning', (_name, q) => {
    expect(q.sql).toMatch(/:1\b/);
    expect(q.sql).not.toMatch(/\?/);
    expect(q.sql).not.toMatch(/\blimit\b/i);
    expect(q.sql).not.toMatch(/\breturning\b/i);
    expect(q.sql).toContain('"users"');
  });

  it.each(Object.entries(compiled))('%s passes the Oracle 23ai lint', (_name, q) => {
    expect(lintOracleSql(q.sql)).toEqual([]);
  });

  it('the largest batch findByIds sends stays within Oracle\'s IN-list limit', () => {
    const ids = Array.from({ length: MAX_IDS_PER_QUERY }, (_, i) => `id${i}`);
    expect(lintOracleSql(repo.queries.byIds(ids).compile().sql)).toEqual([]);
    expect(lintOracleSql(repo.queries.byIds([...ids, 'one more']).compile().sql).join()).toMatch(/ORA-01795/);
  });

  it('produces the expected SQL', () => {
    expect(compiled.byIds.sql).toBe('select * from "users" where "id" in (:1, :2, :3)');
    expect(compiled.byIds.parameters).toEqual(['a', 'b', 'c']);
    expect(compiled.byUsername.sql).toBe('select * from "users" where "username" = :1');
    expect(compiled.taken.sql).toBe('select "username", "email" from "users" where ("username" = :1 or "email" = :2)');
    expect(compiled.insert.sql).toBe(
      'insert into "users" ("id", "username", "email", "password_hash", "roles", "created_at") values (:1, :2, :3, :4, :5, :6)',
    );
  });

  it('the migrations compile to Oracle DDL with bounded varchar columns', async () => {
    const db = compileOnly<UsersDb>('oracle');
    const ddl: string[] = [];
    // Runs the real migration against the compile-only driver and records the SQL it would send.
    const recorder = db.withPlugin({
      transformQuery: (args) => {
        ddl.push(db.getExecutor().compileQuery(args.node, args.queryId).sql);
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    await migrations['001_create_users'].up(recorder as never);
    for (const statement of ddl) expect({ statement, problems: lintOracleSql(statement) }).toEqual({ statement, problems: [] });
    expect(ddl).toEqual([
      'create table "users" ("id" varchar(36) primary key, "username" varchar(32) not null, "email" varchar(254) not null, ' +
        '"password_hash" varchar(255) not null, "roles" varchar(32) not null, "created_at" varchar(32) not null)',
      'create unique index "users_username_uq" on "users" ("username")',
      'create unique index "users_email_uq" on "users" ("email")',
    ]);
  });
});
