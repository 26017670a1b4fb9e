import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/db';
import { slowMigrations } from './fixtures/slow-migrations';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const appliedMigrations = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('select name from kysely_migration').all();
  } finally {
    db.close();
  }
};

test('replicas in one process opening a new file together run each migration once', async () => {
  const file = join(dir, 'in-process.db');
  const dbs = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: `sqlite:${file}`, migrations: slowMigrations })));
  await Promise.all(dbs.map((d) => d.close()));
  expect(appliedMigrations(file)).toEqual([{ name: '001_two_tables' }]);
});

test('replicas in separate processes opening a new file together all start, each migration once', async () => {
  const file = join(dir, 'processes.db');
  const tsx = resolve(__dirname, '../../../node_modules/.bin/tsx');
  const run = () =>
    new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(tsx, [join(__dirname, 'fixtures/migrate-sqlite.ts'), file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('exit', (code) => done({ code, stderr }));
    });
  const results = await Promise.all([run(), run(), run(), run()]);
  expect(results).toEqual(Array(4).fill({ code: 0, stderr: '' }));
  expect(appliedMigrations(file)).toEqual([{ name: '001_two_tables' }]);
}, 90_000);
