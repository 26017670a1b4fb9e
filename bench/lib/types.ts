import type { ChildService, Stack } from '@dream/testenv';
import type { LoadResult } from './load';

/** One line of a results table: a workload against one target. */
export interface Row {
  workload: string;
  target: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  callsPerRequest?: number;
  rssMb?: number;
  cpuPercent?: number;
  /** The target process's CPU time per answered request (ms): what a request costs it, whatever else runs on the machine. */
  cpuMsPerRequest?: number;
  /** CPU time of every subgraph replica per answered request (ms): on this machine they share the cores with the target. */
  subgraphCpuMsPerRequest?: number;
  note?: string;
  raw?: LoadResult;
}

/** The data the read workloads run on, seeded once per topology. */
export interface Seed {
  owners: number;
  ownerIds: string[];
  courseIds: string[];
  courseMeta: Record<string, { ownerId: string; category: string }>;
  tokens: string[];
}

/** What the workloads beyond the federated read are given (bench/workloads.ts, lib/media-segments.ts). */
export interface ExtraContext {
  stack: Stack;
  gateway: ChildService;
  replicas: ChildService[];
  seed: Seed;
  smoke: boolean;
  duration: number;
  warmup: number;
  connections: number;
  subs: number;
  /** GATEWAY_WORKERS of our gateway in this run. */
  gatewayWorkers: number;
  eventRate: number;
  counter: () => Promise<number>;
  rows: Row[];
  enabled: (w: string) => boolean;
  log: (...a: unknown[]) => void;
}
