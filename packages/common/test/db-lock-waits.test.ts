import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { openDatabase, type Database } from '@dream/common/db';
import { waitFor } from '@dream/common/testing';
import { registerDatabaseMetrics } from '../src/db-metrics';

/**
 * A statement that meets a database locked by another connection waits for it (asynchronously), and is
 * counted once — the counter is what lets an operator (and the network fault suite) see a write parked
 * behind another writer.
 */
describe('database lock waits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-lock-waits-'));
  const file = join(dir, 'x.db');
  let db: Database<{ t: { v: number } }>;

  beforeAll(async () => {
    db = await openDatabase({ url: `sqlite:${file}`, migrations: {}, busyTimeoutMs: 10_000 });
    await sql`create table t (v integer)`.execute(db.db);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write behind another writer is counted once, waits, and commits when the lock is released', async () => {
    const registry = new Registry();
    registerDatabaseMetrics(registry, db.stats);
    const metric = async () => (await registry.getSingleMetric('db_lock_waits_total')!.get()).values[0]?.value ?? 0;
    expect(await metric()).toBe(0);
    const holder = new SQLite(file);
    holder.exec('BEGIN IMMEDIATE');
    let committed = false;
    const write = db.db.insertInto('t').values({ v: 1 }).execute().then(() => (committed = true));
    try {
      await waitFor(() => db.stats.lockWaits === 1, { timeoutMs: 5000, what: 'the write waiting for the lock' });
      expect(committed).toBe(false);
      expect(await metric()).toBe(1);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await write;
    expect(committed).toBe(true);
    // one wait per statement, however many retries it took
    expect(db.stats.lockWaits).toBe(1);
    expect(await metric()).toBe(1);
    await db.db.insertInto('t').values({ v: 2 }).execute();
    expect(await metric()).toBe(1);
  });
});
