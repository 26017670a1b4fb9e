// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import cluster from 'node:cluster';
import { createLogger, installShutdown, type Logger } from '@dream/common';
import { type GatewayConfig, loadGatewayConfig } from './config';
import { serveClusterMetrics } from './workers/cluster-metrics';
import { startSupervisor, workerJoins, workerSlot } from './workers/supervisor';
import { workerShare } from './workers/worker-share';

/** How long a joining worker waits for its first supergraph before it listens anyway. */
const JOIN_WAIT_MS = 30_000;

/** How long the supervisor lets its workers drain on SIGTERM before it kills them (each worker's own shutdown takes ≤ 10 s). */
const DRAIN_TIMEOUT_MS = 12_000;

/**
 * `npm start -w gateway`: reads the environment once; GATEWAY_WORKERS=1 serves in this process, more
 * make this process a supervisor of that many workers on the same port. Serves until SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const slot = workerSlot();
  const logger = createLogger('gateway', { level: config.LOG_LEVEL }).child(slot ? { worker: slot } : {});
  if (cluster.isPrimary && config.GATEWAY_WORKERS > 1) return supervise(config, logger);
  if (!slot) logConfig(config, logger);
  // loaded here, not at the top: the supervisor never serves, so it does not load (or compile) the gateway
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startGateway } = require('./server') as typeof import('./server');
  const gw = await startGateway(slot ? workerShare(config, config.GATEWAY_WORKERS) : config, {
    logger,
    workerSlot: slot,
    listenAfterSupergraphMs: workerJoins() ? JOIN_WAIT_MS : undefined,
  });
  installShutdown([() => gw.stop()], logger);
}

async function supervise(config: GatewayConfig, logger: Logger): Promise<void> {
  logConfig(config, logger);
  const supervisor = startSupervisor({ workers: config.GATEWAY_WORKERS, logger, drainTimeoutMs: DRAIN_TIMEOUT_MS });
  serveClusterMetrics(logger);
  installShutdown([() => supervisor.stop()], logger, { timeoutMs: DRAIN_TIMEOUT_MS + 3000 });
  await supervisor.listening.catch(async (err: unknown) => {
    await supervisor.stop();
    throw err;
  });
}

function logConfig(config: GatewayConfig, logger: Logger): void {
  const { REDIS_URL, JWT_PUBLIC_KEY, ...shown } = config;
  logger.info({ config: { ...shown, REDIS_URL: REDIS_URL ? '(set)' : '(unset)', JWT_PUBLIC_KEY: JWT_PUBLIC_KEY ? '(set)' : '(unset)' } }, 'gateway configuration');
}

main().catch((err) => {
  // eslint-disable-next-line no-console
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
