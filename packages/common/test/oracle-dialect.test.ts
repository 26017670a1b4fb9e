/**
 * The Oracle dialect we run (src/oracle.ts) against a recording double of an oracledb pool that keeps
 * Oracle's commit semantics (src/testing/oracle-double.ts): kysely's Migrator with the migration lock, and
 * every write committed exactly when it succeeds. No Oracle server needed; `npm run test:oracle` runs the
 * repository suites on a real one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { openDatabase, type Database } from '../src/database';
import { OracleDouble, type OracleDoubleCall } from '../src/testing';

interface Db {
  items: { id: string; label: string | null };
}

const migrationRuns = { count: 0 };
const migrations: Record<string, Migration> = {
  '001_items': {
    async up(db: Kysely<unknown>) {
      migrationRuns.count++;
      await db.schema
        .createTable('items')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('label', 'varchar(64)')
        .execute();
    },
  },
  '002_items_label_idx': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('items_label_idx').on('items').column('label').execute();
    },
  },
};

const open = (double: OracleDouble, extra: { migrationLockTimeoutSeconds?: number } = {}) =>
  openDatabase<Db>({ url: 'oracle://double:x@double:1521/DOUBLE', migrations, oraclePool: double.pool(), ...extra });

const opened: Database<Db>[] = [];
const doubles: OracleDouble[] = [];
function newDouble(opts?: ConstructorParameters<typeof OracleDouble>[0]) {
  const d = new OracleDouble(opts);
  doubles.push(d);
  return d;
}
async function openTracked(double: OracleDouble, extra?: { migrationLockTimeoutSeconds?: number }) {
  const database = await open(double, extra);
  opened.push(database);
  return database;
}

beforeEach(() => {
  migrationRuns.count = 0;
});
afterEach(async () => {
  for (const d of opened.splice(0)) await d.close().catch(() => undefined);
  for (const d of doubles.splice(0)) await d.destroy();
});

const isLock = (c: OracleDoubleCall, call: 'request' | 'release') => c.op === 'execute' && new RegExp(`dbms_lock\\.${call}`).test(c.sql ?? '');

describe('migrations on Oracle', () => {
  it('run under a DBMS_LOCK session lock, on one session, and their bookkeeping is committed', async () => {
    const double = newDouble();
    await openTracked(double);
    const calls = double.calls.filter((c) => c.op === 'execute');
    const acquire = calls.findIndex((c) => isLock(c, 'request'));
    const release = calls.findIndex((c) => isLock(c, 'release'));
    const create = calls.findIndex((c) => /^create table "items"/.test(c.sql!));
    const bookkeeping = calls.filter((c) => /^insert into "kysely_migration"/.test(c.sql!));
    expect(acquire).toBeGreaterThanOrEqual(0);
    expect(acquire).toBeLessThan(create);
    expect(create).toBeLessThan(release);
    // Lock, DDL, bookkeeping and release all on the Migrator's one session: the lock is the session's.
    const session = calls[acquire].session;
    expect(new Set([calls[create], calls[release], ...bookkeeping].map((c) => c.session))).toEqual(new Set([session]));
    // The lock waits (timeout bound) and survives the DDL's implicit commits.
    expect(calls[acquire].sql).toMatch(/release_on_commit => false/);
    expect(calls[acquire].binds).toEqual(['kysely_migration_lock', 300]);
    expect(bookkeeping.map((c) => c.autoCommit)).toEqual([true, true]);
    // Another connection sees both migrations recorded, and nothing is left locked or open.
    expect(double.committed<{ name: string }>('select name from kysely_migration order by name').map((r) => r.name)).toEqual([
      '001_items',
      '002_items_label_idx',
    ]);
    expect(double.heldLocks.size).toBe(0);
    expect(double.openSessions.filter((s) => s.borrowed || s.inTransaction)).toEqual([]);
  });

  it('a restart applies nothing (no ORA-00955 from re-running the first migration)', async () => {
    const double = newDouble();
    const first = await open(double);
    await first.close();
    await openTracked(double);
    expect(migrationRuns.count).toBe(1);
    expect(double.executed(/^create table "items"/)).toHaveLength(1);
  });

  it('several replicas starting together migrate once', async () => {
    const double = newDouble();
    const replicas = await Promise.all([0, 1, 2, 3].map(() => openTracked(double)));
    expect(replicas).toHaveLength(4);
    expect(migrationRuns.count).toBe(1);
    expect(double.executed(/^create table "items"/).filter((c) => !c.error)).toHaveLength(1);
    expect(double.committed('select name from kysely_migration')).toHaveLength(2);
    // kysely's own tables: created once (a replica that lost the race got ORA-00955 and went on), and
    // without IF NOT EXISTS, which Oracle before 23ai refuses
    expect(double.executed(/^create table "kysely_migration"/).filter((c) => !c.error)).toHaveLength(1);
    expect(double.executed(/if not exists/)).toEqual([]);
    // every replica took and released the lock
    expect(double.executed(/dbms_lock\.request/).filter((c) => !c.error)).toHaveLength(4);
    expect(double.heldLocks.size).toBe(0);
  });

  it('a replica that cannot get the lock fails with a clear error, within the timeout, and closes its pool', async () => {
    const double = newDouble();
    await openTracked(double);
    // Another session holds the lock (a replica migrating); ours gives up after its timeout.
    const holder = await double.pool().getConnection();
    await holder.execute("declare begin dbms_lock.request(:1, :2); end;", ['kysely_migration_lock', 60]);
    await expect(open(double, { migrationLockTimeoutSeconds: 1 })).rejects.toThrow(/ORA-20100: migration lock .* not acquired/);
    await holder.close();
    expect(double.openSessions.filter((s) => s.borrowed)).toEqual([]);
  });

  it('without EXECUTE on DBMS_LOCK the start fails naming it', async () => {
    const double = newDouble({ dbmsLockGranted: false });
    await expect(open(double)).rejects.toThrow(/DBMS_LOCK/);
  });
});

describe('writes on Oracle', () => {
  it('a single statement is committed when it succeeds (another connection sees it)', async () => {
    const double = newDouble();
    const { db } = await openTracked(double);
    await db.insertInto('items').values({ id: 'a', label: 'one' }).execute();
    expect(double.committed('select id, label from items')).toEqual([{ id: 'a', label: 'one' }]);
    await db.updateTable('items').set({ label: 'two' }).where('id', '=', 'a').execute();
    expect(double.committed('select label from items')).toEqual([{ label: 'two' }]);
    await db.deleteFrom('items').where('id', '=', 'a').execute();
    expect(double.committed('select id from items')).toEqual([]);
  });

  it('a failed statement commits nothing and leaves no transaction open', async () => {
    const double = newDouble();
    const { db } = await openTracked(double);
    await db.insertInto('items').values({ id: 'a', label: 'one' }).execute();
    await expect(db.insertInto('items').values({ id: 'a', label: 'dup' }).execute()).rejects.toMatchObject({ errorNum: 1 });
    expect(double.committed('select label from items')).toEqual([{ label: 'one' }]);
    expect(double.openSessions.filter((s) => s.inTransaction || s.borrowed)).toEqual([]);
  });

  it('an explicit transaction commits as a unit, or rolls back as a unit', async () => {
    const double = newDouble();
    const { db } = await openTracked(double);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 'a', label: 'one' }).execute();
      await trx.insertInto('items').values({ id: 'b', label: 'two' }).execute();
      // not visible to anyone else before the commit
      expect(double.committed('select id from items')).toEqual([]);
    });
    expect(double.committed('select id from items order by id')).toEqual([{ id: 'a' }, { id: 'b' }]);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 'c', label: 'three' }).execute();
        await trx.insertInto('items').values({ id: 'a', label: 'dup' }).execute();
      }),
    ).rejects.toMatchObject({ errorNum: 1 });
    expect(double.committed('select id from items order by id')).toEqual([{ id: 'a' }, { id: 'b' }]);
    // statements inside ran without autoCommit; the transaction ended with one commit and one rollback
    const trxInserts = double.executed(/^insert into "items"/);
    expect(trxInserts.map((c) => c.autoCommit)).toEqual([false, false, false, false]);
    expect(double.calls.filter((c) => c.op === 'commit')).toHaveLength(1);
    expect(double.openSessions.filter((s) => s.inTransaction || s.borrowed)).toEqual([]);
  });

  it('keeps Oracle semantics the code relies on: the empty string is NULL, select from dual works', async () => {
    const double = newDouble();
    const { db } = await openTracked(double);
    await db.insertInto('items').values({ id: 'e', label: '' }).execute();
    expect(await db.selectFrom('items').select('label').where('id', '=', 'e').executeTakeFirst()).toEqual({ label: null });
    expect((await sql<{ one: number }>`select 1 as "one" from dual`.execute(db)).rows).toEqual([{ one: 1 }]);
  });
});
