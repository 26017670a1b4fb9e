import { createHash } from 'node:crypto';
import { z } from 'zod';
import { optionalString } from './config';
import { DiscoveryClient, type Registration } from './discovery-client';
import { serviceSecretsEnv } from './service-auth';
import type { Logger } from './logger';
import { normalizeRoutes, type RouteInput } from './route-prefixes';

/** Environment a discoverable service reads (spread into its loadConfig shape). */
export const announceEnv = {
  /** Unset: run alone, register nowhere (e.g. `npm start -w subgraphs/users`). */
  DISCOVERY_URL: optionalString(),
  /** Host other services reach this instance on (compose: the container host name). */
  ADVERTISE_HOST: z.string().default('127.0.0.1'),
  ...serviceSecretsEnv,
};

export interface AnnounceOptions {
  discoveryUrl: string | undefined;
  advertiseHost: string;
  service: string;
  httpPort: number;
  grpcPort?: number;
  /** The subgraph's SDL; its hash tells the gateway when to recompose. */
  sdl?: string;
  /** Path prefixes served over plain HTTP that the gateway should proxy here, e.g. `['/media/']`. */
  routes?: readonly RouteInput[];
  logger: Logger;
  /** DISCOVERY_TOKEN. */
  discoveryToken?: string;
}

export const sdlHash = (sdl: string) => createHash('sha256').update(sdl).digest('hex').slice(0, 16);

/**
 * Registers this instance with discovery (GraphQL URL, gRPC address, SDL hash, HTTP path prefixes). Resolves at once even
 * when discovery is down; the client keeps retrying and heartbeating. Undefined when no DISCOVERY_URL.
 */
export async function announce(opts: AnnounceOptions): Promise<Registration | undefined> {
  if (!opts.discoveryUrl) {
    opts.logger.info('DISCOVERY_URL not set: running stand-alone, not registering');
    return undefined;
  }
  const client = new DiscoveryClient({ discoveryUrl: opts.discoveryUrl, logger: opts.logger, token: opts.discoveryToken });
  const info = {
    service: opts.service,
    url: `http://${opts.advertiseHost}:${opts.httpPort}/graphql`,
    ...(opts.grpcPort ? { grpcUrl: `${opts.advertiseHost}:${opts.grpcPort}` } : {}),
    ...(opts.sdl ? { sdlHash: sdlHash(opts.sdl) } : {}),
    ...(opts.routes?.length ? { routes: normalizeRoutes(opts.routes) } : {}),
  };
  // Heartbeats only while the instance's own /health says it can serve (a lost database stops them).
  const healthUrl = `http://${opts.advertiseHost}:${opts.httpPort}/health`;
  const healthy = async () => {
    const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  };
  const registration = await client.register(info, { healthy });
  opts.logger.info({ ...info, registered: registration.registered }, 'announced to discovery');
  return registration;
}
