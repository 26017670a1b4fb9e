import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { databaseHealthy, openDatabase, type Database } from '../src/db';

/** Tests count a request's statements in `stats.queries`; a health probe landing meanwhile must not add to them. */
describe('database statement counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-stats-'));
  let database: Database<Record<string, never>>;
  beforeAll(async () => {
    database = await openDatabase({ url: `sqlite:${join(dir, 'stats.db')}`, migrations: {} });
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a health probe counts as a probe, a statement of the service as a query', async () => {
    const before = { ...database.stats };
    expect(await databaseHealthy(database)).toBe(true);
    expect(database.stats).toMatchObject({ queries: before.queries, probes: before.probes + 1 });
    await sql`select 2 as two`.execute(database.db);
    expect(database.stats).toMatchObject({ queries: before.queries + 1, probes: before.probes + 1 });
  });
});
