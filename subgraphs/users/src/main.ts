import { createLogger } from '@dream/common';
import { loadUsersConfig } from './config';
import { SERVICE_NAME, startUsersSubgraph } from './server';

export { loadUsersConfig, startUsersSubgraph };

/** Runs the users subgraph as a process: `npm start -w subgraphs/users`. */
async function main(): Promise<void> {
  const config = loadUsersConfig();
  const logger = createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  logger.info(
    { port: config.PORT, host: config.HOST, database: config.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@'), redis: config.REDIS_URL },
    'starting users subgraph',
  );
  const service = await startUsersSubgraph(config, { logger });
  /** Run in order before the server stops (e.g. deregistering from discovery). */
  const beforeStop: Array<() => Promise<void>> = [];

  // ---- DISCOVERY SEAM (lead wires registerWithDiscovery here) ----------------------------------
  // const registration = await registerWithDiscovery({ service: SERVICE_NAME, url: service.url, logger });
  // beforeStop.push(() => registration.deregister());
  // -----------------------------------------------------------------------------------------------

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping users subgraph');
    for (const fn of beforeStop) {
      await fn().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'shutdown step failed'));
    }
    await service.stop();
    logger.info('users subgraph stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    // ConfigError messages name each bad variable; print them plainly rather than as a stack.
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
