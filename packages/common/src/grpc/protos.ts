import { join, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/**
 * The .proto files are loaded at run time with @grpc/proto-loader rather than compiled to generated code:
 * - the repository stays free of a codegen step (no protoc / ts-proto binaries, nothing to keep in sync in CI);
 * - the same PackageDefinition feeds server reflection, so `grpcurl list/describe` always shows exactly the
 *   files the process serves;
 * - the contracts are a few small services, so the hand-written interfaces below are cheap to review against
 *   the .proto files (the tests call both services over the wire, which catches drift).
 *
 * Loader options:
 * - keepCase: false — fields arrive camelCased (`user_id` → `userId`, `created_at` → `createdAt`), matching our
 *   TypeScript, GraphQL and JSON naming. The wire format is unaffected (protobuf is keyed by field number), and
 *   grpcurl's JSON accepts both `courseId` and `course_id`.
 * - defaults: true — absent scalars decode as '' / false / [] (proto3 semantics), so handlers never see
 *   undefined for a declared field and the interfaces below can use non-optional types.
 * - longs/enums: String — nothing here is 64-bit or an enum, but if one is added it stays JSON-safe.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Repository-level proto/ directory (packages/common/src/grpc → ../../../../proto). */
export const PROTO_DIR = resolve(__dirname, '..', '..', '..', '..', 'proto');

export const USERS_PROTO = 'users/v1/users.proto';
export const PURCHASE_PROTO = 'courses/v1/purchase.proto';
export const ACCESS_PROTO = 'courses/v1/access.proto';

/** Fully-qualified service names, as used in health checks, reflection and method paths. */
export const USER_SERVICE_NAME = 'users.v1.UserService';
export const PURCHASE_SERVICE_NAME = 'courses.v1.PurchaseService';
export const COURSE_ACCESS_SERVICE_NAME = 'courses.v1.CourseAccessService';
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

// ---- users.v1 -------------------------------------------------------------------------------------

export interface GrpcUser {
  id: string;
  username: string;
  roles: string[];
  /** ISO-8601 UTC. */
  createdAt: string;
}

export interface GetUsersRequest {
  ids: string[];
}

export interface GetUsersResponse {
  users: GrpcUser[];
}

export interface UserServiceHandlers extends grpc.UntypedServiceImplementation {
  GetUsers: grpc.handleUnaryCall<GetUsersRequest, GetUsersResponse>;
}

// ---- courses.v1 -----------------------------------------------------------------------------------

export interface BuyCourseRequest {
  userId: string;
  courseId: string;
  idempotencyKey: string;
}

export interface BuyCourseResponse {
  message: string;
  enrollmentId: string;
  alreadyOwned: boolean;
}

export interface PurchaseServiceHandlers extends grpc.UntypedServiceImplementation {
  BuyCourse: grpc.handleUnaryCall<BuyCourseRequest, BuyCourseResponse>;
}

export interface GetCourseAccessRequest {
  userId: string;
  courseIds: string[];
}

export interface CourseAccess {
  courseId: string;
  exists: boolean;
  ownerId: string;
  enrolled: boolean;
}

export interface GetCourseAccessResponse {
  courses: CourseAccess[];
}

export interface ListCourseStudentsRequest {
  courseId: string;
}

export interface ListCourseStudentsResponse {
  userIds: string[];
}

export interface CourseAccessServiceHandlers extends grpc.UntypedServiceImplementation {
  GetCourseAccess: grpc.handleUnaryCall<GetCourseAccessRequest, GetCourseAccessResponse>;
  ListCourseStudents: grpc.handleUnaryCall<ListCourseStudentsRequest, ListCourseStudentsResponse>;
}

// ---- loading --------------------------------------------------------------------------------------

export interface LoadedProtos {
  /** Everything loaded (our services + grpc.health.v1): what reflection describes. */
  packageDefinition: protoLoader.PackageDefinition;
  userService: grpc.ServiceDefinition<UserServiceHandlers>;
  purchaseService: grpc.ServiceDefinition<PurchaseServiceHandlers>;
  courseAccessService: grpc.ServiceDefinition<CourseAccessServiceHandlers>;
}

function serviceOf<T extends grpc.UntypedServiceImplementation>(
  def: protoLoader.PackageDefinition,
  name: string,
): grpc.ServiceDefinition<T> {
  const svc = def[name];
  if (!svc || 'format' in svc) throw new Error(`gRPC service ${name} is missing from the loaded protos`);
  // proto-loader's ServiceDefinition is structurally grpc-js's; only the handler typing is ours.
  return svc as unknown as grpc.ServiceDefinition<T>;
}

/** Parses the project's .proto files (plus the standard health proto, so reflection can describe it). */
export function loadProtos(protoDir: string = PROTO_DIR): LoadedProtos {
  const packageDefinition = protoLoader.loadSync([join(protoDir, USERS_PROTO), join(protoDir, PURCHASE_PROTO), join(protoDir, ACCESS_PROTO), healthProtoPath], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir],
  });
  return {
    packageDefinition,
    userService: serviceOf<UserServiceHandlers>(packageDefinition, USER_SERVICE_NAME),
    purchaseService: serviceOf<PurchaseServiceHandlers>(packageDefinition, PURCHASE_SERVICE_NAME),
    courseAccessService: serviceOf<CourseAccessServiceHandlers>(packageDefinition, COURSE_ACCESS_SERVICE_NAME),
  };
}

let cached: LoadedProtos | undefined;

/** The project's protos, parsed once per process (parsing is synchronous file I/O). */
export function getProtos(): LoadedProtos {
  cached ??= loadProtos();
  return cached;
}
