import { openDatabase, parseDatabaseUrl, type Database, type OpenDatabaseOptions } from '@dream/common/db';
import { type Logger } from '@dream/common';
import { coursesMigrations } from './migrations';
import type { CoursesDb } from './types';

export type CoursesDatabase = Database<CoursesDb>;

/** Opens (and migrates) the courses database for either dialect, outside a running subgraph (tests, scripts). */
export async function openCoursesDatabase(
  url: string,
  logger?: Logger,
  /** Oracle: an existing pool (tests pass a double; see OpenDatabaseOptions). */
  oracle: Pick<OpenDatabaseOptions, 'oraclePool'> = {},
): Promise<CoursesDatabase> {
  const { dialect } = parseDatabaseUrl(url);
  return openDatabase<CoursesDb>({ url, migrations: coursesMigrations(dialect), logger, ...oracle });
}
