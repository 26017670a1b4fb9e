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
