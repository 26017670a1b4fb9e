// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { createLogger, installShutdown } from '@dream/common';
import { loadGatewayConfig } from './config';
import { startGateway } from './server';

/** `npm start -w gateway`: reads the environment once, serves until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', { level: config.LOG_LEVEL });
  const { REDIS_URL, JWT_PUBLIC_KEY, ...shown } = config;
  logger.info({ config: { ...shown, REDIS_URL: REDIS_URL ? '(set)' : '(unset)', JWT_PUBLIC_KEY: JWT_PUBLIC_KEY ? '(set)' : '(unset)' } }, 'gateway configuration');
  const gw = await startGateway(config, { logger });
  installShutdown([() => gw.stop()], logger);
}

main().catch((err) => {
  // eslint-disable-next-line no-console
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
