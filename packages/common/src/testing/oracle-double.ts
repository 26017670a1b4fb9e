import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { Pool } from 'oracledb';
import { lintOracleSql } from './oracle-sql-lint';

/**
 * A stand-in for an Oracle server behind an `oracledb` pool, for tests on machines with no Oracle. It
 * keeps what our code depends on and what a real server would hold it to:
 *
 * - sessions: every pooled connection is its own session (its own SQLite connection to one shared WAL
 *   file), kept by the pool between borrowers, as oracledb's pool keeps sessions;
 * - commits: with `autoCommit` off (oracledb's default) DML opens a transaction that other sessions
 *   cannot see until `commit()`; `autoCommit: true` commits when the statement succeeds; `rollback()`
 *   undoes; `close()` (back to the pool) rolls back whatever was not committed; DDL commits before it
 *   runs, as Oracle's implicit commit does;
 * - errors: ORA- codes and `errorNum` as oracledb reports them (ORA-00001 unique, ORA-00955 name in use,
 *   ORA-00942 no table …), and Oracle's empty string: '' is stored as NULL;
 * - DBMS_LOCK: the migration lock blocks of `oracle.ts` (a session lock, kept across commits, waited for
 *   up to the block's timeout, released by DBMS_LOCK.RELEASE or when the session ends);
 * - the dictionary views kysely's Migrator reads (ALL_USERS, ALL_TABLES, ALL_TAB_COLUMNS) and DUAL.
 *
 * Every statement must first pass lintOracleSql (what 23ai refuses is refused here too, as ORA-00900 naming
 * the rule). Oracle SQL is then run by SQLite after two mechanical rewrites (`:n` binds → `?`, `fetch first n rows only`
 * → `limit n`); everything else is sent as written, so SQL SQLite refuses fails here too. It is not an
 * Oracle: row locks are a single writer, PL/SQL other than the lock blocks is refused. Every call is
 * recorded in `calls` so tests can check what was sent, on which session and with which commit mode.
 */

export interface OracleDoubleCall {
  session: number;
  op: 'execute' | 'commit' | 'rollback' | 'close';
  sql?: string;
  binds?: unknown[];
  autoCommit?: boolean;
  /** Set when the call failed. */
  error?: string;
}

export class OracleDoubleError extends Error {
  readonly code: string;
  constructor(
    readonly errorNum: number,
    text: string,
  ) {
    const code = `ORA-${String(errorNum).padStart(5, '0')}`;
    super(`${code}: ${text}`);
    this.code = code;
    this.name = 'OracleDoubleError';
  }
}

export interface OracleDoubleOptions {
  /** The schema name the dictionary views report (default DOUBLE). */
  user?: string;
  /** Sessions the pool opens at most; a borrower waits for a free one beyond that (default 10). */
  poolMax?: number;
  /** How long DML waits for another session's open transaction (Oracle's row-lock wait) before ORA-30006. */
  lockWaitMs?: number;
  /** False: the schema lacks EXECUTE on DBMS_LOCK (the init script's grant), as PLS-00201 says on a server. */
  dbmsLockGranted?: boolean;
}

interface PoolState {
  sessions: Set<Session>;
  idle: Session[];
}

interface Session {
  id: number;
  pool: PoolState;
  sqlite: SQLite.Database;
  inTransaction: boolean;
  borrowed: boolean;
}

const DDL = /^(create|alter|drop|truncate|rename|comment|grant|revoke)\b/i;
const DML = /^(insert|update|delete|merge)\b/i;

export class OracleDouble {
  readonly calls: OracleDoubleCall[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'oracle-double-'));
  private readonly file = join(this.dir, 'db.sqlite');
  private readonly sessions: Session[] = [];
  private readonly locks = new Map<string, number>();
  /** 'changed': a transaction ended or a session went away (writers and lock waiters retry). */
  private readonly events = new EventEmitter().setMaxListeners(0);
  private nextSession = 1;
  private readonly user: string;
  private readonly poolMax: number;
  private readonly lockWaitMs: number;
  private readonly dbmsLockGranted: boolean;

  constructor(opts: OracleDoubleOptions = {}) {
    this.user = opts.user ?? 'DOUBLE';
    this.poolMax = opts.poolMax ?? 10;
    this.lockWaitMs = opts.lockWaitMs ?? 10_000;
    this.dbmsLockGranted = opts.dbmsLockGranted ?? true;
    const init = new SQLite(this.file);
    init.pragma('journal_mode = WAL');
    init.exec(`create table "DUAL" ("DUMMY" varchar(1)); insert into "DUAL" values ('X');`);
    init.close();
  }

  /**
   * A pool over this database, typed as oracledb's (it has the members kysely-oracledb calls). Each pool
   * has its own sessions, as each replica's pool has on a server; closing it ends only those.
   */
  pool(): Pool {
    const own: PoolState = { sessions: new Set(), idle: [] };
    const pool = {
      getConnection: () => this.borrow(own),
      close: async () => {
        for (const s of own.sessions) this.endSession(s);
      },
    };
    return pool as unknown as Pool;
  }

  /** SQL this double executed (successfully or not), in order; handy for assertions. */
  executed(filter?: RegExp): OracleDoubleCall[] {
    return this.calls.filter((c) => c.op === 'execute' && (!filter || filter.test(c.sql ?? '')));
  }

  /** `sql → reason` of every statement the lint made this double refuse (what Oracle 23ai would refuse). */
  refused(): string[] {
    return this.executed()
      .filter((c) => /would refuse/.test(c.error ?? ''))
      .map((c) => `${c.sql} → ${c.error}`);
  }

  /** Sessions open now, and which of them hold an open transaction. */
  get openSessions() {
    return this.sessions.map((s) => ({ id: s.id, borrowed: s.borrowed, inTransaction: s.inTransaction }));
  }

  /** Holders of DBMS_LOCK locks: lock name → session id. */
  get heldLocks(): Map<string, number> {
    return new Map(this.locks);
  }

  /** Reads the committed state directly (a fresh SQLite connection sees only committed work). */
  committed<T = Record<string, unknown>>(sql: string, ...binds: unknown[]): T[] {
    const probe = new SQLite(this.file, { readonly: true });
    try {
      return probe.prepare(sql).all(...binds) as T[];
    } finally {
      probe.close();
    }
  }

  /** Ends every session (as a server restart would) and deletes the files. */
  async destroy(): Promise<void> {
    this.closeAll();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async borrow(pool: PoolState) {
    let session = pool.idle.pop();
    while (!session) {
      if (pool.sessions.size < this.poolMax) {
        const sqlite = new SQLite(this.file);
        sqlite.pragma('busy_timeout = 0'); // waits are async (waitFor), a sync wait would freeze the test
        sqlite.pragma('foreign_keys = ON'); // Oracle always enforces them
        session = { id: this.nextSession++, pool, sqlite, inTransaction: false, borrowed: false };
        this.sessions.push(session);
        pool.sessions.add(session);
      } else {
        await this.waitFor(() => pool.idle.length > 0, 'a free pooled connection');
        session = pool.idle.pop();
      }
    }
    session.borrowed = true;
    return this.connectionFor(session);
  }

  private connectionFor(s: Session) {
    let open = true;
    const guard = () => {
      if (!open) throw Object.assign(new Error('NJS-003: invalid or closed connection'), { code: 'NJS-003' });
    };
    return {
      execute: async (sql: string, binds: unknown[] = [], options: { autoCommit?: boolean } = {}) => {
        guard();
        const call: OracleDoubleCall = { session: s.id, op: 'execute', sql, binds: [...binds], autoCommit: !!options.autoCommit };
        this.calls.push(call);
        try {
          return await this.execute(s, sql, binds, !!options.autoCommit);
        } catch (e) {
          call.error = (e as Error).message;
          throw e;
        }
      },
      commit: async () => {
        guard();
        this.calls.push({ session: s.id, op: 'commit' });
        this.end(s, 'commit');
      },
      rollback: async () => {
        guard();
        this.calls.push({ session: s.id, op: 'rollback' });
        this.end(s, 'rollback');
      },
      close: async (opts: { drop?: boolean } = {}) => {
        guard();
        open = false;
        this.calls.push({ session: s.id, op: 'close' });
        // oracledb: releasing a connection to the pool rolls back its uncommitted work.
        this.end(s, 'rollback');
        s.borrowed = false;
        if (opts.drop) this.endSession(s);
        else s.pool.idle.push(s);
        this.events.emit('changed');
      },
    };
  }

  private end(s: Session, how: 'commit' | 'rollback') {
    if (!s.inTransaction) return;
    s.sqlite.exec(how);
    s.inTransaction = false;
    this.events.emit('changed');
  }

  private endSession(s: Session) {
    if (s.inTransaction) this.end(s, 'rollback');
    for (const [name, owner] of this.locks) if (owner === s.id) this.locks.delete(name);
    s.sqlite.close();
    this.sessions.splice(this.sessions.indexOf(s), 1);
    s.pool.sessions.delete(s);
    const i = s.pool.idle.indexOf(s);
    if (i >= 0) s.pool.idle.splice(i, 1);
    this.events.emit('changed');
  }

  private closeAll() {
    for (const s of [...this.sessions]) this.endSession(s);
  }

  private async execute(s: Session, sqlText: string, binds: unknown[], autoCommit: boolean) {
    const text = sqlText.trim();
    const problems = lintOracleSql(text);
    if (problems.length > 0) throw new OracleDoubleError(900, `Oracle 23ai would refuse or misread this statement: ${problems.join('; ')}`);
    if (/^(declare|begin)\b/i.test(text)) return this.plsql(s, text, binds);
    const dictionary = this.dictionary(text);
    if (dictionary) return this.finish(s, autoCommit, { rows: dictionary, metaData: [] });
    const { sql, values } = toSqlite(text, binds);
    if (DDL.test(text)) {
      // Oracle commits the session's open transaction before any DDL, and the DDL itself.
      this.end(s, 'commit');
      await this.whileBusy(() => s.sqlite.exec(bindInline(sql, values)));
      return { rowsAffected: 0 };
    }
    if (DML.test(text)) {
      if (!s.inTransaction) {
        await this.whileBusy(() => s.sqlite.exec('begin immediate'));
        s.inTransaction = true;
      }
      const info = this.run(() => s.sqlite.prepare(sql).run(...values));
      return this.finish(s, autoCommit, { rowsAffected: info.changes });
    }
    const stmt = this.run(() => s.sqlite.prepare(sql));
    if (!stmt.reader) throw new OracleDoubleError(900, `invalid SQL statement (the double runs SELECT, DML and DDL): ${text.slice(0, 80)}`);
    const rows = this.run(() => stmt.all(...values)) as Record<string, unknown>[];
    return this.finish(s, autoCommit, { rows, metaData: stmt.columns().map((c) => ({ name: c.name })) });
  }

  private finish<T>(s: Session, autoCommit: boolean, result: T): T {
    if (autoCommit) this.end(s, 'commit');
    return result;
  }

  /** ALL_USERS / ALL_TABLES / ALL_TAB_COLUMNS as kysely-oracledb's introspector asks for them. */
  private dictionary(text: string): Record<string, unknown>[] | undefined {
    if (/\bfrom "ALL_USERS"/.test(text)) return [{ USERNAME: this.user }];
    if (/\bfrom "ALL_TABLES"/.test(text)) {
      const probe = new SQLite(this.file, { readonly: true });
      try {
        return (probe.prepare(`select name from sqlite_master where type = 'table' and name <> 'DUAL'`).all() as Array<{ name: string }>).map(
          (t) => ({ OWNER: this.user, TABLE_NAME: t.name }),
        );
      } finally {
        probe.close();
      }
    }
    if (/\bfrom "ALL_TAB_COLUMNS"/.test(text)) return [];
    return undefined;
  }

  /** The two PL/SQL blocks of oracle.ts (DBMS_LOCK); anything else is refused. */
  private async plsql(s: Session, text: string, binds: unknown[]) {
    if (!/dbms_lock\./i.test(text)) throw new OracleDoubleError(6550, 'the double runs only the DBMS_LOCK migration lock blocks');
    if (!this.dbmsLockGranted) throw new OracleDoubleError(6550, "PLS-00201: identifier 'DBMS_LOCK' must be declared");
    // DBMS_LOCK.ALLOCATE_UNIQUE commits.
    this.end(s, 'commit');
    const name = `dream_migrations.${this.user}.${String(binds[0])}`;
    if (/dbms_lock\.request/i.test(text)) {
      const timeoutMs = Number(binds[1]) * 1000;
      const free = () => !this.locks.has(name) || this.locks.get(name) === s.id;
      if (!free()) {
        try {
          await this.waitFor(free, `lock ${name}`, timeoutMs);
        } catch {
          throw new OracleDoubleError(20100, `migration lock ${name} not acquired (DBMS_LOCK.REQUEST: 1 = timed out, 2 = deadlock): 1`);
        }
      }
      this.locks.set(name, s.id);
      return { rowsAffected: 0 };
    }
    if (/dbms_lock\.release/i.test(text)) {
      if (this.locks.get(name) === s.id) {
        this.locks.delete(name);
        this.events.emit('changed');
      }
      return { rowsAffected: 0 };
    }
    throw new OracleDoubleError(6550, 'unknown DBMS_LOCK call');
  }

  /** Runs a SQLite call, turning its errors into the ORA- errors a server would give. */
  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toOracleError(e);
    }
  }

  /** Retries a write while another session's transaction holds SQLite's write lock (Oracle would wait on the row). */
  private async whileBusy(fn: () => void) {
    const deadline = Date.now() + this.lockWaitMs;
    for (;;) {
      try {
        fn();
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw toOracleError(e);
        const left = deadline - Date.now();
        if (left <= 0) throw new OracleDoubleError(30006, 'resource busy; acquire with WAIT timeout expired');
        await this.waitFor(() => true, 'a transaction to end', left, true).catch(() => undefined);
      }
    }
  }

  /** Resolves when `ready()` holds, re-checked on every 'changed' event; rejects after timeoutMs. */
  private waitFor(ready: () => boolean, what: string, timeoutMs = this.lockWaitMs, nextEventOnly = false): Promise<void> {
    if (!nextEventOnly && ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = () => {
        if (!ready()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`oracle double: timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('changed', onChange);
      };
      this.events.on('changed', onChange);
    });
  }
}

/** `:n` binds → `?` (SQLite's positional binds, reordered to match), `fetch first n rows only` → `limit n`, '' → NULL. */
export function toSqlite(text: string, binds: unknown[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  let sql = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      sql += text.slice(i, end + 1);
      i = end;
      continue;
    }
    const m = ch === ':' ? /^:(\d+)/.exec(text.slice(i)) : null;
    if (m) {
      values.push(oracleValue(binds[Number(m[1]) - 1]));
      sql += '?';
      i += m[0].length - 1;
      continue;
    }
    sql += ch;
  }
  sql = sql.replace(/\bfetch first (\?|\d+) rows only\b/gi, 'limit $1');
  if (/\boffset \S+ rows\b/i.test(sql)) throw new OracleDoubleError(900, 'the double does not translate OFFSET … ROWS');
  return { sql, values };
}

function oracleValue(v: unknown): unknown {
  if (v === '' || v === undefined) return null; // Oracle: a zero-length string is NULL
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object') throw new OracleDoubleError(3115, `unsupported bind value ${JSON.stringify(v)}`);
  return v;
}

/** DDL takes no binds in SQLite; kysely inlines DDL values itself, so this only guards the rare case. */
function bindInline(sql: string, values: unknown[]): string {
  if (values.length > 0) throw new OracleDoubleError(1027, 'bind variables not allowed for data definition operations');
  return sql;
}

function toOracleError(e: unknown): Error {
  if (e instanceof OracleDoubleError) return e;
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const code = err.code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new OracleDoubleError(1, `unique constraint (${msg.replace(/^.*failed: /, '')}) violated`);
  }
  if (code === 'SQLITE_CONSTRAINT_NOTNULL') return new OracleDoubleError(1400, `cannot insert NULL (${msg.replace(/^.*failed: /, '')})`);
  if (code === 'SQLITE_CONSTRAINT_CHECK') return new OracleDoubleError(2290, `check constraint violated (${msg})`);
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new OracleDoubleError(2291, 'integrity constraint violated - parent key not found');
  if (/already exists/.test(msg)) return new OracleDoubleError(955, `name is already used by an existing object (${msg})`);
  if (/no such table/.test(msg)) return new OracleDoubleError(942, `table or view does not exist (${msg})`);
  if (/no such column/.test(msg)) return new OracleDoubleError(904, `invalid identifier (${msg})`);
  return new OracleDoubleError(900, `invalid SQL statement (SQLite said: ${msg})`);
}
