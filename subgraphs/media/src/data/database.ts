import { type Logger } from '@dream/common';
import { openDatabase, parseDatabaseUrl, type Database, type OpenDatabaseOptions } from '@dream/common/db';
import { mediaMigrations } from './migrations';
import type { MediaDb } from './types';

export type MediaDatabase = Database<MediaDb>;

/** Opens (and migrates) the media database for either dialect, outside a running service (tests, tools). */
export function openMediaDatabase(
  url: string,
  logger?: Logger,
  /** Oracle: an existing pool (tests pass a double; see OpenDatabaseOptions). */
  oracle: Pick<OpenDatabaseOptions, 'oraclePool'> = {},
): Promise<MediaDatabase> {
  return openDatabase<MediaDb>({ url, migrations: mediaMigrations(parseDatabaseUrl(url).dialect), logger, ...oracle });
}
