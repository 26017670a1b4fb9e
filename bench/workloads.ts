/**
 * Workloads beyond the federated read: (c) mixed REST through the shims, (d) graphql-ws fan-out,
 * (e) gRPC BuyCourse, (f) Range reads of HLS segments (lib/media-segments.ts). A workload that throws records a failed row and the others still run.
 */
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { callMetadata, createPurchaseServiceClient } from '@dream/common/grpc';
import { createLogger, createRedis } from '@dream/common';
import type { ChildService } from '@dream/testenv';
import { load, type LoadResult } from './lib/load';
import { mediaSegmentsWorkload } from './lib/media-segments';
import { ProcWatch } from './lib/proc';
import type { ExtraContext, Row, Seed } from './lib/types';

export type { ExtraContext };

export async function runExtraWorkloads(ctx: ExtraContext): Promise<void> {
  const guard = async (workload: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      ctx.log(`bench: ${workload} failed:`, err);
      ctx.rows.push({ workload, target: 'gateway', rps: 0, p50: 0, p99: 0, errors: 1, note: `failed: ${(err as Error).message}` });
    }
  };
  if (ctx.enabled('rest')) await guard('rest/mixed', () => restWorkload(ctx));
  if (ctx.enabled('ws')) await guard('ws/fan-out', () => wsWorkload(ctx));
  if (ctx.enabled('grpc')) await guard('grpc/buy-course', () => grpcWorkload(ctx));
  if (ctx.enabled('media')) await guard('media/segments', () => mediaSegmentsWorkload(ctx));
}

async function measured(ctx: ExtraContext, svc: ChildService, run: (between: () => Promise<void>) => Promise<LoadResult>) {
  let before = 0;
  let watch: ProcWatch | undefined;
  const result = await run(async () => {
    before = await ctx.counter();
    watch = new ProcWatch(svc.pid);
  });
  const usage = watch!.stop();
  const calls = (await ctx.counter()) - before;
  return { result, usage, calls };
}

/**
 * (c) Mixed REST through the shims, as one owner: 80 % GET /api/courses?ownerId=<another owner>
 * (12 courses), 10 % POST /api/course, 10 % DELETE /api/course/:id of courses created for it beforehand.
 */
async function restWorkload(ctx: ExtraContext): Promise<void> {
  ctx.log('bench: rest/mixed → gateway');
  const base = ctx.gateway.base;
  const token = ctx.seed.tokens[0];
  const auth = { authorization: `Bearer ${token}` };
  // disposable courses to delete (one per expected DELETE, with margin)
  const toDelete: string[] = [];
  const want = ctx.smoke ? 30 : Math.max(200, Math.round(ctx.duration * 80));
  for (let i = 0; i < want; i += 10) {
    const created = await Promise.all(
      Array.from({ length: 10 }, async (_, j) => {
        const res = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({
            query: 'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }',
            variables: { i: { name: `Disposable ${i + j}`, info: 'to delete', category: 'disposable', price: 1 } },
          }),
        });
        const body = (await res.json()) as { data?: { createCourse: { id: string } } };
        return body.data?.createCourse.id;
      }),
    );
    for (const id of created) if (id) toDelete.push(id);
  }
  const listOwner = ctx.seed.ownerIds[1];
  let d = 0;
  const { result, usage, calls } = await measured(ctx, ctx.gateway, (between) =>
    load(
      {
        url: `${base}/api/courses`,
        connections: Math.min(ctx.connections, 20),
        durationSec: ctx.duration,
        warmupSec: 0,
        perRequest: (n) => {
          const k = n % 10;
          if (k === 8) {
            return {
              method: 'POST',
              path: '/api/course',
              body: JSON.stringify({ courseName: `REST ${n}`, courseInfo: 'bench', courseCathegory: 'rest', price: 5 }),
              headers: auth,
            };
          }
          if (k === 9 && d < toDelete.length) return { method: 'DELETE', path: `/api/course/${toDelete[d++]}`, body: '', headers: auth };
          return { method: 'GET', path: `/api/courses?ownerId=${encodeURIComponent(listOwner)}`, body: '', headers: auth };
        },
      },
      between,
    ),
  );
  ctx.rows.push({
    workload: 'rest/mixed',
    target: 'gateway',
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    callsPerRequest: result.requests ? Math.round((calls / result.requests) * 100) / 100 : undefined,
    rssMb: usage.rssMb,
    cpuPercent: usage.cpuPercent,
    cpuMsPerRequest: result.requests ? Math.round((usage.cpuMs / result.requests) * 1000) / 1000 : undefined,
    note: `80 % list / 10 % create / 10 % delete (${d} deletes), 20 connections`,
    raw: result,
  });
}

/**
 * (d) graphql-ws fan-out: N subscriptions `courseCreated { id name price }` (one connection each),
 * then `course.created` events published to Redis at a fixed rate; latency = publish → delivery.
 */
async function wsWorkload(ctx: ExtraContext): Promise<void> {
  const n = ctx.subs;
  ctx.log(`bench: ws/fan-out → gateway (${n} subscriptions, ${ctx.eventRate} events/s)`);
  const wsUrl = `${ctx.gateway.base.replace('http', 'ws')}/graphql`;
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  let delivered = 0;
  let errors = 0;
  const clients: Client[] = [];
  let subscribed = 0;
  const ready = new Set<number>();
  let onReady: () => void = () => undefined;
  const allReady = new Promise<void>((r) => (onReady = r));
  // The measuring client shares the 2 cores with the gateway: by default a minimal graphql-transport-ws
  // client over `ws` (connection_init → ack → subscribe, every `next` JSON-parsed) so that the client's
  // own per-message cost is small; `--graphql-ws-client` uses graphql-ws's client (about twice the CPU
  // per message: protocol validation, emitters) as before.
  const light = !process.argv.includes('--graphql-ws-client');
  const openLight = (i: number) => {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    clients.push({ dispose: () => ws.terminate() } as unknown as Client);
    ws.on('open', () => ws.send('{"type":"connection_init","payload":{}}'));
    ws.on('error', () => errors++);
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { type: string; payload?: { data?: { courseCreated?: { id: string } } } };
      if (msg.type === 'next') {
        const id = msg.payload?.data?.courseCreated?.id;
        const t = id ? publishedAt.get(id) : undefined;
        if (t === undefined) return;
        delivered++;
        latencies.push(performance.now() - t);
      } else if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { courseCreated { id name price } }' } }));
        if (!ready.has(i)) {
          ready.add(i);
          if (ready.size === n) onReady();
        }
      } else if (msg.type === 'ping') ws.send('{"type":"pong"}');
      else if (msg.type === 'error') errors++;
    });
    subscribed++;
  };
  const open = (i: number) => {
    if (light) return openLight(i);
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionAckWaitTimeout: 30_000 });
    clients.push(client);
    client.on('connected', () => {
      if (!ready.has(i)) {
        ready.add(i);
        if (ready.size === n) onReady();
      }
    });
    client.subscribe<{ courseCreated: { id: string } }>(
      { query: 'subscription { courseCreated { id name price } }' },
      {
        next: (msg) => {
          const id = msg.data?.courseCreated.id;
          const t = id ? publishedAt.get(id) : undefined;
          if (t === undefined) return;
          delivered++;
          latencies.push(performance.now() - t);
        },
        error: () => errors++,
        complete: () => undefined,
      },
    );
    subscribed++;
  };
  const t0 = performance.now();
  for (let i = 0; i < n; i += 200) {
    for (let j = i; j < Math.min(n, i + 200); j++) open(j);
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.race([allReady, new Promise((r) => setTimeout(r, 60_000))]);
  // the gateway subscribes a stream after connection_ack; give the subscribe messages a moment to land
  await waitUntil(async () => ((await liveSubscriptions(ctx.gateway.base)) ?? 0) >= n, 30_000);
  const connectSec = (performance.now() - t0) / 1000;
  const redis = createRedis(ctx.stack.redis.url, createLogger('bench', { level: 'silent' }));
  const ids = ctx.seed.courseIds;
  const events = Math.max(1, Math.round(ctx.eventRate * ctx.duration));
  const watch = new ProcWatch(ctx.gateway.pid);
  const before = await ctx.counter();
  for (let e = 0; e < events; e++) {
    const id = ids[e % ids.length];
    const meta = ctx.seed.courseMeta[id];
    publishedAt.set(id, performance.now());
    await redis.publish('course.created', JSON.stringify({ courseId: id, ownerId: meta.ownerId, category: meta.category }));
    await new Promise((r) => setTimeout(r, 1000 / ctx.eventRate));
  }
  const expected = n * events;
  await waitUntil(async () => delivered >= expected, 15_000);
  const usage = watch.stop();
  const calls = (await ctx.counter()) - before;
  redis.disconnect();
  await Promise.all(clients.map((c) => c.dispose()));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] * 10) / 10 : 0);
  ctx.rows.push({
    workload: 'ws/fan-out',
    target: 'gateway',
    rps: Math.round((delivered / Math.max(ctx.duration, 1)) * 10) / 10,
    p50: pct(50),
    p99: pct(99),
    errors: errors + (expected - delivered),
    callsPerRequest: Math.round((calls / Math.max(events, 1)) * 100) / 100,
    rssMb: usage.rssMb,
    cpuPercent: usage.cpuPercent,
    note: `${ctx.gatewayWorkers} gateway worker${ctx.gatewayWorkers > 1 ? 's' : ''}, ${subscribed} subscriptions (${light ? 'minimal ws client' : 'graphql-ws client'}, connected in ${connectSec.toFixed(1)} s), ${events} events at ${ctx.eventRate}/s, delivered ${delivered}/${expected}; req/s = deliveries/s, p50/p99 = publish→client latency, calls/req = subgraph calls per event`,
  });
}

/**
 * (e) gRPC BuyCourse straight to the courses replicas (round-robin, as users calls it), 50
 * concurrent callers. Every (student, course) pair is bought twice at once by two callers, so the
 * duplicate check is real: afterwards each pair has exactly one enrollment and exactly one of its
 * two answers said "new purchase".
 */
async function grpcWorkload(ctx: ExtraContext): Promise<void> {
  ctx.log('bench: grpc/buy-course → courses (gRPC)');
  const snap = await ctx.stack.client.list();
  const instances = (snap.services.courses ?? []).filter((i) => i.grpcUrl).map((i) => ({ id: i.id, grpcUrl: i.grpcUrl }));
  if (!instances.length) throw new Error('no courses instance advertises a gRPC address');
  const client = createPurchaseServiceClient({ instances: () => instances, deadlineMs: 5000 });
  // enough pairs that the calls never run out within the duration (5,000 calls/s × 8 s = 20,000 pairs)
  const students = ctx.smoke ? 20 : 1000;
  const tokens = Array.from({ length: students }, (_, i) => ({ id: `id-benchstu${i}`, token: ctx.stack.jwt.sign({ id: `id-benchstu${i}`, username: `benchstu${i}`, roles: ['STUDENT'] }) }));
  const ids = ctx.seed.courseIds;
  const pairs = students * ids.length;
  const callers = 50;
  let next = 0; // call index: pair = floor(next / 2)
  const fresh = new Map<number, number>();
  const latencies: number[] = [];
  let errors = 0;
  let calls = 0;
  const watch = new ProcWatch(ctx.replicas.find((r) => r.name.startsWith('courses'))!.pid);
  const t0 = performance.now();
  const deadline = t0 + ctx.duration * 1000;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline && next < pairs * 2) {
        const pair = Math.floor(next++ / 2);
        const stu = tokens[pair % students];
        const courseId = ids[Math.floor(pair / students)];
        const s = performance.now();
        try {
          const res = await client.unary('BuyCourse', { userId: stu.id, courseId, idempotencyKey: '' }, { metadata: callMetadata({ token: stu.token, requestId: `buy-${pair}`, service: { name: 'bench', secret: ctx.stack.serviceToken } }), idempotent: true });
          if (!res.alreadyOwned) fresh.set(pair, (fresh.get(pair) ?? 0) + 1);
          calls++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const usage = watch.stop();
  client.close();
  const boughtPairs = Math.floor(next / 2);
  const duplicateAnswers = [...fresh.values()].filter((v) => v > 1).length;
  const db = new Database(join(ctx.stack.dir, 'courses.db'), { readonly: true });
  const dupRows = (db.prepare('SELECT COUNT(*) AS c FROM (SELECT user_id, course_id FROM enrollments GROUP BY user_id, course_id HAVING COUNT(*) > 1)').get() as { c: number }).c;
  const enrolled = (db.prepare("SELECT COUNT(*) AS c FROM enrollments WHERE user_id LIKE 'id-benchstu%'").get() as { c: number }).c;
  db.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] * 100) / 100;
  ctx.rows.push({
    workload: 'grpc/buy-course',
    target: 'courses (gRPC)',
    rps: Math.round((fresh.size / seconds) * 10) / 10,
    p50: pct(50),
    p99: pct(99),
    errors,
    rssMb: usage.rssMb,
    cpuPercent: usage.cpuPercent,
    note: `${callers} callers, ${calls} calls (${Math.round(calls / seconds)}/s) for ${boughtPairs} pairs each bought twice at once; req/s = purchases/s; duplicates: ${duplicateAnswers} pairs answered "new" twice, ${dupRows} duplicate rows; enrollments ${enrolled} (= pairs ${fresh.size})`,
  });
}

/**
 * `gateway_graphql_ws_subscriptions` summed over the workers (one scrape has every worker's series, each
 * labelled `worker="n"`; a single process has no label).
 */
function liveSubscriptions(base: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = httpGet(`${base}/metrics`, { agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const counts = [...text.matchAll(/^gateway_graphql_ws_subscriptions(?:\{[^}]*\})? (\d+)/gm)].map((m) => Number(m[1]));
        resolve(res.statusCode === 200 && counts.length ? counts.reduce((a, b) => a + b, 0) : undefined);
      });
      res.on('error', () => resolve(undefined));
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
