// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { announce, createLogger, installShutdown } from '@dream/common';
import { loadCoursesConfig } from './config';
import { coursesSdl } from './schema';
import { startCoursesSubgraph } from './server';

/** `npm start -w subgraphs/courses`: one courses instance configured from the environment. */
async function main(): Promise<void> {
  const config = loadCoursesConfig();
  const logger = createLogger('courses', { level: config.LOG_LEVEL });
  logger.info(
    { port: config.PORT, grpcPort: config.GRPC_PORT, host: config.HOST, cache: config.CACHE_ENABLED ? `${config.CACHE_TTL_SECONDS}s` : 'off', database: config.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@'), redis: config.REDIS_URL.replace(/\/\/[^@]*@/, '//***@') },
    'starting courses subgraph',
  );
  const subgraph = await startCoursesSubgraph(config, { logger });
  // In order on SIGTERM/SIGINT: deregister first (traffic stops), then close the server and clients.
  // installShutdown bounds the whole sequence, so a hanging dependency cannot keep the process alive.
  const shutdownSteps: Array<() => Promise<void>> = [];
  installShutdown(shutdownSteps, logger);
  const registration = await announce({
    discoveryUrl: config.DISCOVERY_URL,
    discoveryToken: config.DISCOVERY_TOKEN,
    advertiseHost: config.ADVERTISE_HOST,
    service: 'courses',
    httpPort: subgraph.port,
    grpcPort: subgraph.grpcPort,
    sdl: coursesSdl(),
    logger,
  });
  if (registration) shutdownSteps.push(() => registration.deregister());
  shutdownSteps.push(() => subgraph.stop());
}

main().catch((err: unknown) => {
  // Configuration errors carry a readable list of problems; print them without a stack.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
