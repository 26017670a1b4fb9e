// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { ConfigError, createLogger, installShutdown } from '@dream/common';
import { loadDiscoveryConfig } from './config';
import { startDiscovery } from './server';

/** `npm start -w discovery`: reads the environment once, serves until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadDiscoveryConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger('discovery', { level: config.LOG_LEVEL });
  logger.info(
    { port: config.PORT, host: config.HOST, redis: config.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@'), ttlSeconds: config.DISCOVERY_TTL_SECONDS },
    'configuration',
  );
  const handle = await startDiscovery(config, logger);
  installShutdown([() => handle.stop()], logger);
}

main().catch((err: unknown) => {
  process.stderr.write(`discovery failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
