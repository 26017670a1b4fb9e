// The light core every service shares. Heavier parts have their own entries, so a service loads only
// what it uses: '@dream/common/db' (kysely, SQLite, Oracle), '/grpc', '/subgraph' (the subgraph
// start-up and its schema builder), '/events', '/testing', '/tracing'.
export * from './config';
export * from './errors';
export * from './zod-errors';
export * from './logger';
export * from './jwt';
export * from './auth';
export * from './redis';
export * from './http';
export * from './apollo-http';
export * from './discovery-client';
export * from './shutdown';
export * from './lifecycle';
export * from './breaker';
export * from './round-robin';
export * from './outlier';
export * from './announce';
export * from './cache';
export * from './client-address';
export * from './service-auth';
export * from './route-prefixes';
export * from './rendezvous';
export * from './write-once';
