import type { GatewayConfig } from '../config';

/** The connection and subscription limits one worker enforces when `workers` processes share the port. */
const SHARED_LIMITS = ['WS_MAX_CONNECTIONS', 'WS_MAX_CONNECTIONS_PER_ADDRESS', 'MAX_SUBSCRIPTIONS', 'MAX_SUBSCRIPTIONS_PER_ADDRESS'] as const;

/**
 * A worker's configuration: the gateway-wide WebSocket limits split evenly (rounded up) between the
 * workers. The cluster hands new connections to the workers in turn, so one client's connections spread
 * over all of them, and the gateway as a whole never holds more than the configured limit (rounded up
 * to a multiple of `workers`); a client whose connections land unevenly can be refused slightly early.
 * Counting in one place instead would put an IPC round trip on every upgrade and subscribe.
 */
export function workerShare(config: GatewayConfig, workers: number): GatewayConfig {
  if (workers <= 1) return config;
  const shared = { ...config };
  for (const key of SHARED_LIMITS) shared[key] = Math.ceil(config[key] / workers);
  return shared;
}
