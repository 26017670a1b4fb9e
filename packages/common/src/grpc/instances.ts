import { DiscoveryClient, type Watcher } from '../discovery-client';
import type { Logger } from '../logger';
import type { GrpcInstanceSource } from './client';

export interface GrpcInstancesOptions {
  /** The service name in discovery, e.g. 'courses'. */
  service: string;
  discoveryUrl?: string;
  discoveryToken?: string;
  /** `host:port[,host:port…]`, used only without discovery. */
  staticAddresses?: string;
  logger: Logger;
}

export interface GrpcInstances {
  instances: GrpcInstanceSource;
  /** Where the instances come from, for logs: 'discovery', 'static' or 'none'. */
  source: 'discovery' | 'static' | 'none';
  stop(): Promise<void>;
}

/**
 * The instances of one service for a GrpcServiceClient. With a discovery URL it follows discovery's change
 * feed (a new or departed instance is seen within a second, and the last list is kept while discovery is
 * down); otherwise a fixed list of addresses (running alone, tests). With neither the list is empty and
 * every call answers SERVICE_UNAVAILABLE.
 */
export function grpcInstancesOf(opts: GrpcInstancesOptions): GrpcInstances {
  if (opts.discoveryUrl) {
    let current: ReturnType<GrpcInstanceSource> = [];
    const watcher: Watcher = new DiscoveryClient({ discoveryUrl: opts.discoveryUrl, logger: opts.logger, token: opts.discoveryToken }).watch((snap) => {
      current = snap.services[opts.service] ?? [];
    });
    return { instances: () => current, source: 'discovery', stop: () => watcher.stop() };
  }
  if (opts.staticAddresses) {
    const list = opts.staticAddresses
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
      .map((grpcUrl) => ({ id: grpcUrl, grpcUrl }));
    return { instances: () => list, source: 'static', stop: async () => undefined };
  }
  return { instances: () => [], source: 'none', stop: async () => undefined };
}
