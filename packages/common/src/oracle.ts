import {
  CompiledQuery,
  DialectAdapterBase,
  sql,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type MigrationLockOptions,
  type QueryCompiler,
  type QueryResult,
  type RawBuilder,
  type TransactionSettings,
} from 'kysely';
import { OracleDialect, type OracleConnection } from 'kysely-oracledb';
import type { Pool } from 'oracledb';

/**
 * The Oracle dialect we run: kysely-oracledb's query compiler and introspector, with the two pieces of
 * it that cannot work replaced.
 *
 * 1. Commits. oracledb runs with autoCommit off, kysely-oracledb's beginTransaction does nothing, and a
 *    connection returned to the pool rolls back whatever it did not commit: every write outside an
 *    explicit transaction was silently undone. Here a statement outside a transaction runs with
 *    autoCommit (committed exactly when it succeeds, in the same round trip); inside `db.transaction()`
 *    statements run without it and the transaction commits or rolls back as a unit; a connection is
 *    rolled back before it goes back to the pool if a transaction was left open.
 * 2. The migration lock. kysely-oracledb's adapter throws "Not implemented", so the Migrator could not
 *    start. Oracle DDL commits implicitly, so a row or table lock would be released by the first
 *    CREATE TABLE; DBMS_LOCK.REQUEST with release_on_commit => false is held by the session until it is
 *    released or the session ends (a crashed replica's lock goes with its session). Needs
 *    `GRANT EXECUTE ON SYS.DBMS_LOCK` (deploy/oracle/init/01-create-schemas.sh).
 */

/** How long a replica waits for another one's migrations before giving up (and restarting). */
export const MIGRATION_LOCK_TIMEOUT_SECONDS = 300;

/** ORA-20100: the application error the lock blocks raise; the message says which call and status. */
export const MIGRATION_LOCK_ERROR = 20100;

/**
 * The lock is named per schema (each service migrates its own schema, and two services must not wait
 * for each other) and per lock table (kysely's option, so two migrators in one schema are distinct).
 * DBMS_LOCK.ALLOCATE_UNIQUE commits; both blocks run outside any transaction, on the Migrator's one
 * connection. REQUEST answers 0 (granted) or 4 (this session already holds it); RELEASE 0 or 4 (not held:
 * releasing after a failed request is not an error).
 */
const LOCK_NAME = `'dream_migrations.' || sys_context('USERENV', 'CURRENT_SCHEMA') || '.'`;

/** A block that allocates the lock's handle, calls `call` (which sets lock_status) and raises unless 0 or 4. */
function lockBlock(lockTable: string, call: RawBuilder<unknown>, failure: string) {
  return sql`declare
  lock_name varchar2(128) := ${sql.raw(LOCK_NAME)} || ${lockTable};
  lock_handle varchar2(128);
  lock_status integer;
begin
  dbms_lock.allocate_unique(lock_name, lock_handle);
  ${call};
  if lock_status not in (0, 4) then
    raise_application_error(-${sql.raw(String(MIGRATION_LOCK_ERROR))}, 'migration lock ' || lock_name || ' ${sql.raw(failure)} ' || lock_status);
  end if;
end;`;
}

export function acquireLockSql(lockTable: string, timeoutSeconds: number) {
  return lockBlock(
    lockTable,
    sql`lock_status := dbms_lock.request(lockhandle => lock_handle, lockmode => dbms_lock.x_mode, timeout => ${timeoutSeconds}, release_on_commit => false)`,
    'not acquired (DBMS_LOCK.REQUEST: 1 = timed out, 2 = deadlock):',
  );
}

export function releaseLockSql(lockTable: string) {
  return lockBlock(lockTable, sql`lock_status := dbms_lock.release(lock_handle)`, 'not released: DBMS_LOCK.RELEASE returned');
}

/** kysely-oracledb's adapter (no RETURNING, no transactional DDL) with the lock implemented. */
export class LockingOracleAdapter extends DialectAdapterBase {
  constructor(private readonly lockTimeoutSeconds = MIGRATION_LOCK_TIMEOUT_SECONDS) {
    super();
  }

  /**
   * `create table if not exists` exists only from 23ai on; without it the Migrator creates its tables
   * plainly and, when replicas race, treats ORA-00955 followed by "the table exists" as success. So the
   * same code runs on 19c too (`npm run test:oracle` against an existing database).
   */
  override get supportsCreateIfNotExists(): boolean {
    return false;
  }

  async acquireMigrationLock(db: Kysely<unknown>, opts: MigrationLockOptions): Promise<void> {
    await acquireLockSql(opts.lockTable, this.lockTimeoutSeconds).execute(db);
  }

  async releaseMigrationLock(db: Kysely<unknown>, opts: MigrationLockOptions): Promise<void> {
    await releaseLockSql(opts.lockTable).execute(db);
  }
}

/** A pooled connection plus whether a transaction is open on it. */
class CommittingConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(readonly inner: OracleConnection) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    // Outside a transaction: autoCommit, so the statement is committed when (and only when) it succeeds.
    // Inside: the transaction's commit or rollback decides.
    const withCommit = { ...query, executeOptions: { ...(query as { executeOptions?: object }).executeOptions, autoCommit: !this.inTransaction } };
    return this.inner.executeQuery(withCommit) as Promise<QueryResult<R>>;
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on Oracle');
  }
}

const ISOLATION: Partial<Record<NonNullable<TransactionSettings['isolationLevel']>, string>> = {
  'read committed': 'read committed',
  serializable: 'serializable',
};

class CommittingOracleDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init() {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new CommittingConnection((await this.inner.acquireConnection()) as OracleConnection);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as CommittingConnection;
    if (settings.isolationLevel || settings.accessMode) {
      const level = settings.isolationLevel && ISOLATION[settings.isolationLevel];
      if (settings.isolationLevel && !level) throw new Error(`Oracle has no "${settings.isolationLevel}" isolation level`);
      const mode = level ? `isolation level ${level}` : settings.accessMode!;
      // SET TRANSACTION must be the transaction's first statement, and it starts it.
      c.inTransaction = true;
      await c.executeQuery(CompiledQuery.raw(`set transaction ${mode}`));
      return;
    }
    // Oracle starts a transaction with the first DML; from here on nothing commits by itself.
    c.inTransaction = true;
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.endTransaction(connection as CommittingConnection, 'commit');
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.endTransaction(connection as CommittingConnection, 'rollback');
  }

  private async endTransaction(c: CommittingConnection, how: 'commit' | 'rollback'): Promise<void> {
    try {
      await c.inner.connection[how]();
    } finally {
      c.inTransaction = false;
    }
  }

  savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    return this.inner.savepoint!((connection as CommittingConnection).inner, name, compile);
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    return this.inner.rollbackToSavepoint!((connection as CommittingConnection).inner, name, compile);
  }

  async releaseSavepoint(): Promise<void> {
    // Oracle has no RELEASE SAVEPOINT (ORA-00900); its savepoints simply end with the transaction.
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = connection as CommittingConnection;
    if (c.inTransaction) {
      // Only reachable if kysely lost track of a transaction; never hand open work to the next borrower.
      c.inTransaction = false;
      await c.inner.connection.rollback().catch(() => undefined);
    }
    await this.inner.releaseConnection(c.inner);
  }

  destroy() {
    return this.inner.destroy();
  }
}

/** kysely-oracledb's dialect with commits that stick and a migration lock (see the top of this file). */
export class CommittingOracleDialect implements Dialect {
  private readonly base: OracleDialect;

  constructor(
    private readonly config: { pool: Pool; lockTimeoutSeconds?: number },
  ) {
    this.base = new OracleDialect({ pool: config.pool });
  }

  createDriver(): Driver {
    return new CommittingOracleDriver(this.base.createDriver());
  }

  createAdapter() {
    return new LockingOracleAdapter(this.config.lockTimeoutSeconds);
  }

  createIntrospector(db: Kysely<unknown>) {
    return this.base.createIntrospector(db as never);
  }

  createQueryCompiler() {
    return this.base.createQueryCompiler();
  }
}
