import * as grpc from '@grpc/grpc-js';
import { AppError } from '../errors';
import type { BreakerOptions, BreakerState } from '../breaker';
import type { Logger } from '../logger';
import { InstancePool, type InstanceStatus } from '../round-robin';
import { fromGrpcError, isServiceError, isTransportFailure } from './errors';
import {
  HEALTH_SERVICE_NAME,
  type CourseAccessServiceHandlers,
  getProtos,
  type PurchaseServiceHandlers,
  type UserServiceHandlers,
} from './protos';
import { serviceNameOf } from './server';

/** An instance as discovery reports it; entries without grpcUrl are ignored. */
export interface GrpcInstance {
  id: string;
  /** `host:port` or `grpc://host:port`. */
  grpcUrl?: string;
}

/** The current instances, e.g. `() => discoverySnapshot.services.courses ?? []`; called before every call. */
export type GrpcInstanceSource = () => readonly GrpcInstance[] | Promise<readonly GrpcInstance[]>;

export interface GrpcClientOptions<S extends grpc.UntypedServiceImplementation> {
  definition: grpc.ServiceDefinition<S>;
  instances: GrpcInstanceSource;
  /** Deadline of every attempt (default 2000 ms). A retried call can take up to twice this. */
  deadlineMs?: number;
  /** Per-instance breaker: `threshold` consecutive failures (default 3) open it for `cooldownMs` (default 5000). */
  breaker?: BreakerOptions;
  /**
   * After the cool-down, probe an open instance with grpc.health.v1 Check in the background (default true),
   * so callers' requests never go to an instance that is still down. false: the next real call is the probe.
   */
  healthProbe?: boolean;
  logger?: Logger;
  onStateChange?: (instance: { id: string; url: string }, state: BreakerState) => void;
}

export interface GrpcCallOptions {
  /** Sent with every attempt (cloned); put the token and request id in with `callMetadata`. */
  metadata?: grpc.Metadata;
  /**
   * The method is safe to repeat (reads; BuyCourse with its idempotency key): after UNAVAILABLE or
   * DEADLINE_EXCEEDED it is retried once on the next instance. Otherwise it is retried only when it never
   * left this process (no connection to the instance). Default false.
   */
  idempotent?: boolean;
  /** Overrides the client's deadline for this call. */
  deadlineMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inference helpers
type ReqOf<H> = H extends grpc.handleUnaryCall<infer Req, any> ? Req : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inference helpers
type ResOf<H> = H extends grpc.handleUnaryCall<any, infer Res> ? Res : never;

/** The declared method names of a handlers interface, without UntypedServiceImplementation's index signature. */
type MethodNames<S> = keyof { [K in keyof S as string extends K ? never : K]: S[K] } & string;

/** A transport failure with a message safe to show (no addresses), carrying the grpc-js error as cause. */
class TransportFailure extends Error {
  /** Read by round-robin's isNotReachedError: safe to retry even a non-idempotent call. */
  readonly notReached: boolean;
  constructor(message: string, cause: grpc.ServiceError) {
    super(message, { cause });
    // grpc-js reports a call that never found a connection as UNAVAILABLE "No connection established".
    this.notReached = cause.code === grpc.status.UNAVAILABLE && /No connection established/i.test(cause.details ?? '');
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Reconnect quickly after an instance restarts on the same address (grpc-js defaults back off to 120 s).
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

function addressOf(grpcUrl: string): string {
  return grpcUrl.replace(/^grpc:\/\//, '').replace(/\/+$/, '');
}

/**
 * Calls one gRPC service on whichever instances discovery knows: round-robin over instances whose breaker
 * is closed (the gateway's InstancePool, so both share one breaker behaviour), a deadline on every attempt,
 * one retry on the next instance for idempotent calls, and one grpc-js Client (channel) cached per address.
 * Errors come back as AppErrors: the server's own code (NOT_FOUND, FORBIDDEN, …) or SERVICE_UNAVAILABLE when
 * no instance answered, at once when every breaker is open.
 */
export class GrpcServiceClient<S extends grpc.UntypedServiceImplementation> {
  readonly serviceName: string;
  readonly pool: InstancePool<{ id: string; url: string }>;
  private readonly clients = new Map<string, grpc.Client>();
  private readonly deadlineMs: number;
  private closed = false;

  constructor(private readonly opts: GrpcClientOptions<S>) {
    this.serviceName = serviceNameOf(opts.definition);
    this.deadlineMs = opts.deadlineMs ?? 2000;
    this.pool = new InstancePool({
      service: this.serviceName,
      breaker: opts.breaker,
      logger: opts.logger,
      onStateChange: opts.onStateChange,
      probe: opts.healthProbe === false ? undefined : (inst) => this.healthCheck(inst.url),
    });
  }

  /** Calls `method` (e.g. 'BuyCourse') on the next live instance. */
  async unary<M extends MethodNames<S>>(method: M, request: ReqOf<S[M]>, callOpts: GrpcCallOptions = {}): Promise<ResOf<S[M]>> {
    if (this.closed) throw new AppError('SERVICE_UNAVAILABLE', `Client for ${this.serviceName} is closed.`);
    const def = this.opts.definition[method];
    if (!def) throw new Error(`${this.serviceName} has no method ${method}`);
    await this.refresh();
    const deadlineMs = callOpts.deadlineMs ?? this.deadlineMs;
    const outcome = await this.pool.execute<Outcome<ResOf<S[M]>>>(
      async (inst) => {
        try {
          const value = await this.invoke<ReqOf<S[M]>, ResOf<S[M]>>(inst.url, def, request, callOpts.metadata, deadlineMs);
          return { ok: true, value };
        } catch (err) {
          // Only transport failures count against the instance; an API error proves it is alive.
          if (isTransportFailure(err) && isServiceError(err)) {
            const why = err.code === grpc.status.DEADLINE_EXCEEDED ? `no answer within ${deadlineMs} ms` : 'instance unreachable';
            throw new TransportFailure(why, err);
          }
          return { ok: false, error: err };
        }
      },
      { retryOnce: true, idempotent: callOpts.idempotent ?? false },
    );
    if (!outcome.ok) throw fromGrpcError(outcome.error, this.serviceName);
    return outcome.value;
  }

  /** Breaker state of every known instance (for /ready). */
  status(): InstanceStatus[] {
    return this.pool.status();
  }

  /** Closes every cached channel and stops breaker probes. */
  close(): void {
    this.closed = true;
    this.pool.close();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /** Feeds the pool from the source; closes channels of addresses that left. */
  private async refresh(): Promise<void> {
    let list: readonly GrpcInstance[];
    try {
      list = await this.opts.instances();
    } catch (err) {
      this.opts.logger?.warn({ err, service: this.serviceName }, 'gRPC instance source failed; keeping the last list');
      return;
    }
    const instances = list.filter((i) => !!i.grpcUrl).map((i) => ({ id: i.id, url: addressOf(i.grpcUrl as string) }));
    this.pool.setInstances(instances);
    const live = new Set(instances.map((i) => i.url));
    for (const [addr, client] of this.clients) {
      if (!live.has(addr)) {
        client.close();
        this.clients.delete(addr);
      }
    }
  }

  private clientFor(address: string): grpc.Client {
    let c = this.clients.get(address);
    if (!c) {
      c = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients.set(address, c);
    }
    return c;
  }

  private invoke<Req, Res>(
    address: string,
    def: grpc.MethodDefinition<unknown, unknown>,
    request: Req,
    metadata: grpc.Metadata | undefined,
    deadlineMs: number,
  ): Promise<Res> {
    const md = metadata ? metadata.clone() : new grpc.Metadata();
    return new Promise<Res>((resolve, reject) => {
      this.clientFor(address).makeUnaryRequest<Req, Res>(
        def.path,
        def.requestSerialize as (v: Req) => Buffer,
        def.responseDeserialize as (b: Buffer) => Res,
        request,
        md,
        { deadline: Date.now() + deadlineMs },
        (err, res) => (err ? reject(err) : resolve(res as Res)),
      );
    });
  }

  /** grpc.health.v1.Health/Check for this service on one address; throws unless SERVING. */
  private async healthCheck(address: string): Promise<void> {
    const health = getProtos().packageDefinition[HEALTH_SERVICE_NAME] as unknown as grpc.ServiceDefinition;
    const res = await this.invoke<{ service: string }, { status: string }>(
      address,
      health.Check as grpc.MethodDefinition<unknown, unknown>,
      { service: this.serviceName },
      undefined,
      Math.min(this.deadlineMs, 1000),
    );
    if (res.status !== 'SERVING') throw new Error(`${this.serviceName} at ${address} is ${res.status}`);
  }
}

/** Client for users.v1.UserService (GetUsers is a read: pass `idempotent: true`). */
export function createUserServiceClient(opts: Omit<GrpcClientOptions<UserServiceHandlers>, 'definition'>): GrpcServiceClient<UserServiceHandlers> {
  return new GrpcServiceClient({ ...opts, definition: getProtos().userService });
}

/** Client for courses.v1.PurchaseService (BuyCourse is idempotent per user+course: pass `idempotent: true`). */
export function createPurchaseServiceClient(
  opts: Omit<GrpcClientOptions<PurchaseServiceHandlers>, 'definition'>,
): GrpcServiceClient<PurchaseServiceHandlers> {
  return new GrpcServiceClient({ ...opts, definition: getProtos().purchaseService });
}

/** Client for courses.v1.CourseAccessService (both methods are reads: pass `idempotent: true`). */
export function createCourseAccessServiceClient(
  opts: Omit<GrpcClientOptions<CourseAccessServiceHandlers>, 'definition'>,
): GrpcServiceClient<CourseAccessServiceHandlers> {
  return new GrpcServiceClient({ ...opts, definition: getProtos().courseAccessService });
}
