import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from '../logger';
import { getProtos } from './protos';

export interface GrpcServiceBinding {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: any typed definition fits here
  definition: grpc.ServiceDefinition<any>;
  implementation: grpc.UntypedServiceImplementation;
}

export interface StartGrpcServerOptions {
  /** 0 (default) picks a free port; the bound one is returned. */
  port?: number;
  /** Interface to bind; default 0.0.0.0 (containers). Tests pass 127.0.0.1. */
  host?: string;
  services: GrpcServiceBinding[];
  logger?: Logger;
  /** What reflection describes; default: the project's protos (users.v1, courses.v1, grpc.health.v1). */
  packageDefinition?: PackageDefinition;
  /** How long stop() lets in-flight calls finish before cancelling them (default 2000 ms). */
  shutdownGraceMs?: number;
}

export interface GrpcServerHandle {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  /** `host:port` to advertise when host is a concrete address (not 0.0.0.0). */
  address: string;
  server: grpc.Server;
  /** Fully-qualified names of the services served, e.g. ['courses.v1.PurchaseService']. */
  serviceNames: string[];
  /** Flips every service (and the overall '' entry) of the health service, e.g. while draining. */
  setServing(serving: boolean): void;
  /** Marks NOT_SERVING, lets in-flight calls finish (up to the grace time), then closes. Safe to call twice. */
  stop(): Promise<void>;
}

/** 'courses.v1.PurchaseService' from a definition whose method paths look like '/courses.v1.PurchaseService/BuyCourse'. */
export function serviceNameOf(definition: grpc.ServiceDefinition): string {
  const first = Object.values(definition)[0];
  const m = first && /^\/([^/]+)\//.exec(first.path);
  if (!m) throw new Error('gRPC service definition has no methods');
  return m[1];
}

function bind(server: grpc.Server, hostPort: string): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(hostPort, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/**
 * A grpc-js server with our services, `grpc.health.v1.Health` (SERVING per service and for '') and server
 * reflection (so `grpcurl -plaintext host:port list` works without .proto files). Plaintext: the services
 * sit on a private network behind the gateway, and callers authenticate with the JWT in metadata.
 */
export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const host = opts.host ?? '0.0.0.0';
  const server = new grpc.Server({
    // Keepalive so callers notice a vanished peer, and a bounded message size (our messages are tiny).
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });

  const serviceNames: string[] = [];
  for (const { definition, implementation } of opts.services) {
    server.addService(definition, implementation);
    serviceNames.push(serviceNameOf(definition));
  }

  const health = new HealthImplementation({ '': 'SERVING' });
  const setServing = (serving: boolean) => {
    const s: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    for (const name of serviceNames) health.setStatus(name, s);
  };
  setServing(true);
  health.addToServer(server);
  new ReflectionService(opts.packageDefinition ?? getProtos().packageDefinition).addToServer(server);

  const hostForBind = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const port = await bind(server, `${hostForBind}:${opts.port ?? 0}`);
  opts.logger?.info({ port, host, services: serviceNames }, 'gRPC server listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      setServing(false);
      const force = setTimeout(() => server.forceShutdown(), opts.shutdownGraceMs ?? 2000);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        opts.logger?.info({ port }, 'gRPC server stopped');
        resolve();
      });
    });
    return stopping;
  };

  return { port, address: `${hostForBind}:${port}`, server, serviceNames, setServing, stop };
}
