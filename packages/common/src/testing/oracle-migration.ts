import { DummyDriver, Kysely, type Migration } from 'kysely';
import { OracleAdapter, OracleIntrospector, OracleQueryCompiler } from 'kysely-oracledb';

/** The SQL a migration's `up` sends on the Oracle dialect, compiled without a server (for the lint). */
export async function oracleMigrationStatements(migration: Migration): Promise<string[]> {
  const statements: string[] = [];
  const recorder = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new OracleAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new OracleIntrospector(db as never),
      createQueryCompiler: () => new OracleQueryCompiler(),
    },
    log: (e) => {
      statements.push(e.query.sql);
    },
  });
  await migration.up(recorder);
  return statements;
}
