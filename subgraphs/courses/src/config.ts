import { loadSubgraphConfig, subgraphEnv, type SubgraphConfigOf } from '@dream/common/subgraph';
import { positiveInt, subgraphSecrets } from '@dream/common';

/** Every environment variable the courses subgraph reads; defaults make `npm start -w subgraphs/courses` work. */
export const coursesEnv = {
  ...subgraphEnv({ port: 4002, database: 'sqlite:./data/courses.db' }),
  /** How often a replica applies cache invalidations left in the outbox by a writer that could not reach Redis. */
  CACHE_OUTBOX_POLL_MS: positiveInt(1000),
};

export type CoursesConfig = SubgraphConfigOf<typeof coursesEnv>;

/** Reads and validates the environment once; throws ConfigError naming each bad variable. */
export function loadCoursesConfig(env: NodeJS.ProcessEnv = process.env): CoursesConfig {
  return loadSubgraphConfig('courses', coursesEnv, env);
}

/** The service secrets this subgraph refuses to start without under NODE_ENV=production (deploy checks read this too). */
export const requiredSecrets = subgraphSecrets;
