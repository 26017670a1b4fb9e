import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  DummyDriver,
  Kysely,
  Migrator,
  SqliteAdapter,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type LogEvent,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import { OracleIntrospector, OracleQueryCompiler } from 'kysely-oracledb';
import type { Pool } from 'oracledb';
import { AppError, conflict, serviceUnavailable } from './errors';
import type { Logger } from './logger';
import { CommittingOracleDialect, LockingOracleAdapter } from './oracle';
import { AsyncBusySqliteDialect, SYNC_BUSY_TIMEOUT_MS } from './sqlite-busy';

export type SqlDialect = 'sqlite' | 'oracle';

export type DatabaseTarget =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'oracle'; user: string; password: string; connectString: string };

/**
 * `sqlite:./data/users.db`, `sqlite::memory:` or `oracle://user:pass@host:1521/SERVICE`.
 * Throws a clear error for anything else.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new Error(`DATABASE_URL "${url}" names no SQLite file`);
    return { dialect: 'sqlite', file };
  }
  if (url.startsWith('oracle://')) {
    const u = new URL(url);
    if (!u.username || !u.hostname || u.pathname.length < 2) {
      throw new Error('DATABASE_URL for Oracle must look like oracle://user:password@host:1521/SERVICE');
    }
    return {
      dialect: 'oracle',
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      connectString: `${u.hostname}:${u.port || '1521'}${u.pathname}`,
    };
  }
  throw new Error(`DATABASE_URL "${url}" is neither sqlite:<file> nor oracle://user:pass@host:port/service`);
}

export interface Database<DB> {
  db: Kysely<DB>;
  dialect: SqlDialect;
  /**
   * Statements executed so far (tests read it to prove batching), statements that found the database
   * locked by another writer and waited (SQLite; exported as db_lock_waits_total), and health probes
   * (`databaseHealthy`), counted apart so a probe landing mid-request is not taken for the request's query.
   */
  readonly stats: { queries: number; lockWaits: number; probes: number };
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  url: string;
  migrations: Record<string, Migration>;
  logger?: Logger;
  /** SQLite: how long a statement waits for a locked database before SQLITE_BUSY (→ 503); default 2000 ms. */
  busyTimeoutMs?: number;
  /**
   * Oracle: use this pool (closed by `close()`) instead of creating one from the URL's credentials.
   * The URL still says which dialect it is.
   */
  oraclePool?: Pool;
  /** Oracle: how long a replica waits for another replica's migrations; default 300 s. */
  migrationLockTimeoutSeconds?: number;
}

/**
 * Kysely's SQLite driver prepares every statement on every execution, a visible share of a courses
 * replica's CPU profile under BuyCourse; our queries are a small fixed set of SQL texts, so prepared statements are reused by
 * SQL text (bounded; the whole cache is dropped when full). Safe: the driver runs one statement at a time
 * on its single connection, and SQLite re-prepares a statement by itself after a schema change.
 */
function cachePreparedStatements<T extends object & { prepare(sql: string): unknown }>(sqlite: T, max = 500): T {
  const cache = new Map<string, unknown>();
  const prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      if (cache.size >= max) cache.clear();
      cache.set(sql, (stmt = sqlite.prepare(sql)));
    }
    return stmt;
  };
  return new Proxy(sqlite, {
    get(target, prop) {
      if (prop === 'prepare') return prepare;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The statements of `databaseHealthy`, told apart from the service's own queries in `stats`. */
const PROBE_SQL = new Set(['select 1', 'select 1 from dual']);

/** Opens the service's database, runs its migrations, and counts every statement it executes. */
export async function openDatabase<DB>(opts: OpenDatabaseOptions): Promise<Database<DB>> {
  const target = parseDatabaseUrl(opts.url);
  const stats = { queries: 0, lockWaits: 0, probes: 0 };
  const log = (event: LogEvent) => {
    if (PROBE_SQL.has(event.query.sql)) stats.probes++;
    else stats.queries++;
  };
  let db: Kysely<DB>;
  if (target.dialect === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3');
    if (target.file !== ':memory:') mkdirSync(dirname(resolve(target.file)), { recursive: true });
    const sqlite = new SQLite(target.file);
    // WAL lets several replicas read while one writes; busy_timeout makes writers queue instead of failing.
    sqlite.pragma('journal_mode = WAL');
    // (the wait itself is mostly async: see sqlite-busy.ts — a synchronous wait would freeze the process)
    sqlite.pragma(`busy_timeout = ${SYNC_BUSY_TIMEOUT_MS}`);
    sqlite.pragma('foreign_keys = ON');
    // In WAL mode NORMAL never corrupts the database; it skips the fsync on every commit (the WAL is
    // synced at checkpoints), so a power loss — not a process crash — can lose the last commits.
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<DB>({ dialect: new AsyncBusySqliteDialect({ database: cachePreparedStatements(sqlite) }, opts.busyTimeoutMs ?? 2000, () => stats.lockWaits++), log });
  } else {
    const { default: oracledb } = await import('oracledb');
    // CLOB columns (JSON documents) come back as strings; oracledb would otherwise hand back Lob streams.
    oracledb.fetchAsString = [oracledb.CLOB];
    const pool =
      opts.oraclePool ??
      (await oracledb.createPool({
        user: target.user,
        password: target.password,
        connectString: target.connectString,
        poolMin: 1,
        poolMax: 10,
      }));
    db = new Kysely<DB>({ dialect: new CommittingOracleDialect({ pool, lockTimeoutSeconds: opts.migrationLockTimeoutSeconds }), log });
  }
  // Replicas starting together on one new SQLite file would otherwise run the same migration twice
  // (SQLite's migrator takes no lock: "table already exists"); Oracle locks inside its dialect.
  const unlock = target.dialect === 'sqlite' && target.file !== ':memory:' ? await lockSqliteMigrations(target.file) : undefined;
  try {
    await migrate(db, opts.migrations, opts.logger);
  } catch (e) {
    // A failed start must not leave the pool's sessions (or SQLite's file handle) open behind it.
    await db.destroy().catch(() => undefined);
    throw e;
  } finally {
    unlock?.();
  }
  return {
    db,
    dialect: target.dialect,
    stats,
    close: () => db.destroy(),
  };
}

/** How long a replica waits for another one's migrations on the same SQLite file. */
const SQLITE_MIGRATION_WAIT_MS = 120_000;

/**
 * Holds an exclusive lock on a small file beside the database while migrations run: a lock on another
 * file never blocks the migrations' own statements, and the OS drops it if the process dies.
 */
async function lockSqliteMigrations(file: string): Promise<() => void> {
  // Openers in this process queue here first: the file lock's wait is synchronous, so a second opener
  // waiting on it would block the event loop that the first one needs to finish.
  const key = resolve(file);
  const before = migrationQueue.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const tail = before.then(() => mine);
  migrationQueue.set(key, tail);
  await before;
  const { default: SQLite } = await import('better-sqlite3');
  const lock = new SQLite(`${file}.migrations-lock`);
  try {
    // waiting blocks this process's event loop, which at start-up has nothing else to do
    lock.pragma(`busy_timeout = ${SQLITE_MIGRATION_WAIT_MS}`);
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    done();
    throw e;
  }
  return () => {
    lock.exec('COMMIT');
    lock.close();
    if (migrationQueue.get(key) === tail) migrationQueue.delete(key);
    done();
  };
}

const migrationQueue = new Map<string, Promise<void>>();

export async function migrate<DB>(db: Kysely<DB>, migrations: Record<string, Migration>, logger?: Logger): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({ db: db as Kysely<unknown>, provider });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) {
    if (r.status === 'Success') logger?.info({ migration: r.migrationName }, 'migration applied');
    if (r.status === 'Error') logger?.error({ migration: r.migrationName }, 'migration failed');
  }
  if (error) throw error;
}

/**
 * A Kysely that only compiles, for a dialect. Tests compile every repository query for Oracle
 * with it, so Oracle SQL is checked on machines with no Oracle server.
 */
export function compileOnly<DB>(dialect: SqlDialect): Kysely<DB> {
  if (dialect === 'oracle') {
    return new Kysely<DB>({
      dialect: {
        createAdapter: () => new LockingOracleAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new OracleIntrospector(db as never),
        createQueryCompiler: () => new OracleQueryCompiler(),
      },
    });
  }
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

interface DriverError {
  code?: string;
  errorNum?: number;
  message?: string;
}

/** A unique-constraint violation in either dialect (SQLite constraint codes, Oracle ORA-00001). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as DriverError;
  return (
    err?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    err?.errorNum === 1 ||
    /ORA-00001/.test(err?.message ?? '')
  );
}

/** Driver errors that mean "the database is not there right now" rather than a bug. */
export function isUnavailable(e: unknown): boolean {
  const err = e as DriverError;
  const code = err?.code ?? '';
  return (
    ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_READONLY'].some((c) => code.startsWith(c)) ||
    /^NJS-(040|500|501|503|510|511|521)/.test(code) ||
    /ORA-(12514|12541|12543|12170|03113|03114|01033|01034|01089)/.test(err?.message ?? '') ||
    code === 'ECONNREFUSED' ||
    code === 'ETIMEDOUT'
  );
}

/**
 * Maps a driver error to an API error: unique violations become CONFLICT (with `conflictMessage`),
 * an unreachable database SERVICE_UNAVAILABLE. Anything else is rethrown as-is (a bug: logged as 500).
 */
export function mapDbError(e: unknown, conflictMessage = 'That record already exists.'): never {
  if (e instanceof AppError) throw e;
  if (isUniqueViolation(e)) throw conflict(conflictMessage);
  if (isUnavailable(e)) throw serviceUnavailable('The database is unavailable, try again shortly.');
  throw e;
}

/** True when the database answers the cheapest statement its dialect accepts. */
export async function databaseHealthy<DB>(database: Database<DB>): Promise<boolean> {
  try {
    const probe = database.dialect === 'oracle' ? sql`select 1 from dual` : sql`select 1`;
    await probe.execute(database.db);
    return true;
  } catch {
    return false;
  }
}
