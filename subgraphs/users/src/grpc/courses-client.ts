import { DiscoveryClient, type Logger, type Watcher } from '@dream/common';
import { createPurchaseServiceClient, type GrpcInstance, type GrpcServiceClient, type PurchaseServiceHandlers } from '@dream/common/grpc';

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
 * The users subgraph's way to courses over gRPC. With DISCOVERY_URL it follows discovery's change feed
 * (a new or departed courses instance is seen within a second, and the last list is kept while
 * discovery is down); otherwise COURSES_GRPC_URL gives a fixed list (running alone, tests). With
 * neither, every purchase answers SERVICE_UNAVAILABLE.
 */
export function createCoursesClient(opts: CoursesClientOptions): CoursesClient {
  let watcher: Watcher | undefined;
  let instances: () => readonly GrpcInstance[];
  let source: CoursesClient['source'];
  if (opts.discoveryUrl) {
    let current: readonly GrpcInstance[] = [];
    watcher = new DiscoveryClient({ discoveryUrl: opts.discoveryUrl, logger: opts.logger, token: opts.discoveryToken }).watch((snap) => {
      current = snap.services.courses ?? [];
    });
    instances = () => current;
    source = 'discovery';
  } else if (opts.staticAddresses) {
    const list = opts.staticAddresses
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
      .map((grpcUrl) => ({ id: grpcUrl, grpcUrl }));
    instances = () => list;
    source = 'static';
  } else {
    instances = () => [];
    source = 'none';
    opts.logger.warn('neither DISCOVERY_URL nor COURSES_GRPC_URL is set: buyCourse will answer SERVICE_UNAVAILABLE');
  }
  const purchase = createPurchaseServiceClient({ instances, deadlineMs: opts.deadlineMs, logger: opts.logger });
  return {
    purchase,
    source,
    serviceSecret: opts.serviceSecret,
    close: async () => {
      purchase.close();
      await watcher?.stop();
    },
  };
}
