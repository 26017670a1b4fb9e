import type { Logger } from '@dream/common';
import { createPurchaseServiceClient, grpcInstancesOf, type GrpcServiceClient, type PurchaseServiceHandlers } from '@dream/common/grpc';

export interface CoursesClient {
  purchase: GrpcServiceClient<PurchaseServiceHandlers>;
  /** Where the instances come from, for logs: 'discovery', 'static' or 'none'. */
  source: 'discovery' | 'static' | 'none';
  /** SERVICE_TOKEN: calls are signed with it so courses knows they come from the users service. */
  serviceSecret?: string;
  close(): Promise<void>;
}

export interface CoursesClientOptions {
  discoveryUrl?: string;
  /** `host:port[,host:port…]`, used only without discovery. */
  staticAddresses?: string;
  deadlineMs: number;
  logger: Logger;
  discoveryToken?: string;
  serviceSecret?: string;
}

/**
 * The users subgraph's way to courses over gRPC: discovery's change feed with DISCOVERY_URL, otherwise
 * COURSES_GRPC_URL's fixed list. With neither, every purchase answers SERVICE_UNAVAILABLE.
 */
export function createCoursesClient(opts: CoursesClientOptions): CoursesClient {
  const found = grpcInstancesOf({ service: 'courses', ...opts });
  if (found.source === 'none') opts.logger.warn('neither DISCOVERY_URL nor COURSES_GRPC_URL is set: buyCourse will answer SERVICE_UNAVAILABLE');
  const purchase = createPurchaseServiceClient({ instances: found.instances, deadlineMs: opts.deadlineMs, logger: opts.logger });
  return {
    purchase,
    source: found.source,
    serviceSecret: opts.serviceSecret,
    close: async () => {
      purchase.close();
      await found.stop();
    },
  };
}
