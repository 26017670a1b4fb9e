import Database from 'better-sqlite3';
import { join } from 'node:path';

/**
 * Read-only look into a service's SQLite file (the stack's replicas share one per service), to count
 * what was really recorded — the ground truth for "lost" and "doubled" writes.
 */
export function countRows(dir: string, service: 'courses' | 'users', sql: string, ...params: unknown[]): number {
  const db = new Database(join(dir, `${service}.db`), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return Number((db.prepare(sql).get(...params) as { n: number }).n);
  } finally {
    db.close();
  }
}

export function rows<T>(dir: string, service: 'courses' | 'users', sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dir, `${service}.db`), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/**
 * Takes a service database's write lock (BEGIN IMMEDIATE: readers go on, writers wait) until `release`,
 * so a scenario can keep writes in flight at a chosen moment instead of hoping to catch some.
 */
export function holdWriteLock(dir: string, service: 'courses' | 'users'): { release(): void } {
  const db = new Database(join(dir, `${service}.db`), { fileMustExist: true });
  db.exec('BEGIN IMMEDIATE');
  return {
    release() {
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
