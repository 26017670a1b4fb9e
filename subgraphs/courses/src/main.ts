import { createLogger } from '@dream/common';
import { loadCoursesConfig } from './config';
import { startCoursesSubgraph } from './server';

/** `npm start -w subgraphs/courses`: one courses instance configured from the environment. */
async function main(): Promise<void> {
  const config = loadCoursesConfig();
  const logger = createLogger('courses', { level: config.LOG_LEVEL });
  logger.info(
    { port: config.PORT, host: config.HOST, database: config.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@'), redis: config.REDIS_URL },
    'starting courses subgraph',
  );
  const subgraph = await startCoursesSubgraph(config, { logger });

  // ---- DISCOVERY SEAM (lead): register this instance here ------------------------------------
  // e.g. const registration = await registerWithDiscovery({ service: 'courses', url: subgraph.url, ... });
  // and deregister it first thing in `shutdown` below.
  // ---------------------------------------------------------------------------------------------

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping courses subgraph');
    // A dependency that hangs must not keep a terminated instance alive.
    setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, 10_000).unref();
    try {
      await subgraph.stop();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // Configuration errors carry a readable list of problems; print them without a stack.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
