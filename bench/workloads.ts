/**
 * Workloads that depend on features landing from other issues: REST shims (c), graphql-ws
 * fan-out (d) and gRPC BuyCourse (e). Each one detects whether its feature exists and otherwise
 * records a `pending` row, so the harness runs whatever is in the tree.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT, type ChildService, type Stack } from '@dream/testenv';
import type { Row, Seed } from './run';

export interface ExtraContext {
  stack: Stack;
  gateway: ChildService;
  replicas: ChildService[];
  seed: Seed;
  smoke: boolean;
  duration: number;
  subs: number;
  counter: () => Promise<number>;
  rows: Row[];
  enabled: (w: string) => boolean;
  log: (...a: unknown[]) => void;
}

const pending = (workload: string, why: string): Row => ({ workload, target: 'gateway', rps: 0, p50: 0, p99: 0, errors: 0, note: `pending: ${why}` });

export async function runExtraWorkloads(ctx: ExtraContext): Promise<void> {
  if (ctx.enabled('rest')) {
    if (!existsSync(resolve(REPO_ROOT, 'gateway/src/rest'))) ctx.rows.push(pending('rest/mixed', 'REST shims (issue 6) not in the tree'));
    else ctx.rows.push(pending('rest/mixed', 'not measured yet'));
  }
  if (ctx.enabled('ws')) {
    if (!existsSync(resolve(REPO_ROOT, 'gateway/src/subscriptions'))) ctx.rows.push(pending('ws/fan-out', 'subscriptions (issue 6) not in the tree'));
    else ctx.rows.push(pending('ws/fan-out', 'not measured yet'));
  }
  if (ctx.enabled('grpc')) ctx.rows.push(pending('grpc/buy-course', 'not measured yet'));
}
