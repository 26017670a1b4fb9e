import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, type Database, type Logger, type OpenDatabaseOptions } from '@dream/common';
import { coursesMigrations } from './migrations';
import type { CoursesDb } from './types';

export type CoursesDatabase = Database<CoursesDb>;

/** Opens (and migrates) the courses database for either dialect. */
export async function openCoursesDatabase(
  url: string,
  logger?: Logger,
  /** Oracle: an existing pool (tests pass a double; see OpenDatabaseOptions). */
  oracle: Pick<OpenDatabaseOptions, 'oraclePool'> = {},
): Promise<CoursesDatabase> {
  const { dialect } = parseDatabaseUrl(url);
  if (dialect === 'oracle') {
    // `info` is a CLOB on Oracle; without this oracledb hands back Lob streams instead of strings.
    const { default: oracledb } = await import('oracledb');
    oracledb.fetchAsString = [oracledb.CLOB];
  }
  return openDatabase<CoursesDb>({ url, migrations: coursesMigrations(dialect), logger, ...oracle });
}

/** True when the database answers a trivial query. */
export async function databaseHealthy(database: CoursesDatabase): Promise<boolean> {
  try {
    const probe = database.dialect === 'oracle' ? sql`select 1 from dual` : sql`select 1`;
    await probe.execute(database.db);
    return true;
  } catch {
    return false;
  }
}
