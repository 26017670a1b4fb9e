// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { announce, createLogger, installShutdown } from '@dream/common';
import { loadUsersConfig } from './config';
import { SERVICE_NAME, startUsersSubgraph, typeDefsSource } from './server';

export { loadUsersConfig, startUsersSubgraph };

/** Runs the users subgraph as a process: `npm start -w subgraphs/users`. */
async function main(): Promise<void> {
  const config = loadUsersConfig();
  const logger = createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  logger.info(
    {
      port: config.PORT,
      grpcPort: config.GRPC_PORT,
      host: config.HOST,
      coursesVia: config.DISCOVERY_URL ? 'discovery' : config.COURSES_GRPC_URL ? 'COURSES_GRPC_URL' : 'none',
      cache: config.CACHE_ENABLED ? `${config.CACHE_TTL_SECONDS}s` : 'off',
      database: config.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@'),
      redis: config.REDIS_URL.replace(/\/\/[^@]*@/, '//***@'),
      jwtTtlSeconds: config.JWT_TTL_SECONDS,
      loginMaxAttempts: config.LOGIN_MAX_ATTEMPTS,
      loginWindowSeconds: config.LOGIN_WINDOW_SECONDS,
    },
    'starting users subgraph',
  );
  const service = await startUsersSubgraph(config, { logger });
  // Run in order on SIGTERM/SIGINT: deregister first (traffic stops), then close the server and clients.
  const shutdownSteps: Array<() => Promise<void>> = [];
  installShutdown(shutdownSteps, logger);

  const registration = await announce({
    discoveryUrl: config.DISCOVERY_URL,
    discoveryToken: config.DISCOVERY_TOKEN,
    advertiseHost: config.ADVERTISE_HOST,
    service: SERVICE_NAME,
    httpPort: service.port,
    grpcPort: service.grpcPort,
    sdl: typeDefsSource,
    logger,
  });
  if (registration) shutdownSteps.push(() => registration.deregister());

  shutdownSteps.push(() => service.stop());
}

if (require.main === module) {
  main().catch((err: unknown) => {
    // ConfigError messages name each bad variable; print them plainly rather than as a stack.
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
