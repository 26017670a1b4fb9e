import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, type Database, type Logger, type OpenDatabaseOptions } from '@dream/common';
import { mediaMigrations } from './migrations';
import type { MediaDb } from './types';

export type MediaDatabase = Database<MediaDb>;

/** Opens (and migrates) the media database for either dialect. */
export async function openMediaDatabase(
  url: string,
  logger?: Logger,
  /** Oracle: an existing pool (tests pass a double; see OpenDatabaseOptions). */
  oracle: Pick<OpenDatabaseOptions, 'oraclePool'> = {},
): Promise<MediaDatabase> {
  const { dialect } = parseDatabaseUrl(url);
  return openDatabase<MediaDb>({ url, migrations: mediaMigrations(dialect), logger, ...oracle });
}

/** True when the database answers a trivial query. */
export async function databaseHealthy(database: MediaDatabase): Promise<boolean> {
  try {
    const probe = database.dialect === 'oracle' ? sql`select 1 from dual` : sql`select 1`;
    await probe.execute(database.db);
    return true;
  } catch {
    return false;
  }
}
