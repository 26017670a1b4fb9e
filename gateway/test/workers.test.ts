import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { waitFor } from '@dream/common/testing';
import WebSocket from 'ws';
import { childPids, useStack, type ChildService } from './helpers';
import { Inbox } from './client/ws-clients';

jest.setTimeout(120_000);

/** One HTTP exchange on a connection of its own: the cluster hands every new connection to the next worker. */
function fresh(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `gateway_graphql_ws_subscriptions{worker="n"}` by worker, from one scrape (any worker answers with every worker's series). */
async function subscriptionsByWorker(base: string): Promise<Map<string, number>> {
  const { status, text } = await fresh(base, 'GET', '/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${status}: ${text}`);
  const seen = new Map<string, number>();
  for (const m of text.matchAll(/^gateway_graphql_ws_subscriptions\{[^}]*worker="(\d+)"[^}]*\} (\d+)/gm)) seen.set(m[1], Number(m[2]));
  return seen;
}

/** POST /graphql answers counted per worker (`gateway_http_requests_total{route="/graphql"}`), from one scrape. */
async function graphqlServedByWorker(base: string): Promise<Map<string, number>> {
  const { text } = await fresh(base, 'GET', '/metrics');
  const served = new Map<string, number>();
  for (const m of text.matchAll(/^gateway_http_requests_total\{([^}]*)\} (\d+)/gm)) {
    const worker = /worker="(\d+)"/.exec(m[1])?.[1];
    if (worker && m[1].includes('route="/graphql"')) served.set(worker, (served.get(worker) ?? 0) + Number(m[2]));
  }
  return served;
}

/** A minimal graphql-transport-ws client: connection_init (with `?ticket=` or a token) → ack → subscribe to courseCreated. */
function subscribeCourseCreated(base: string, opts: { ticket?: string; jwt?: string } = {}) {
  const inbox = new Inbox<{ id: string; name: string }>();
  const url = `${base.replace(/^http/, 'ws')}/graphql${opts.ticket ? `?ticket=${opts.ticket}` : ''}`;
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const acked = new Promise<void>((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: opts.jwt ? { jwt: opts.jwt } : {} })));
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`closed ${code} before connection_ack`)));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; payload?: { data?: { courseCreated: { id: string; name: string } } } };
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { courseCreated { id name } }' } }));
        resolve();
      } else if (msg.type === 'next' && msg.payload?.data) inbox.push(msg.payload.data.courseCreated);
      else if (msg.type === 'error' || (msg.type === 'next' && !msg.payload?.data)) inbox.fail(new Error(`subscription failed: ${String(raw)}`));
    });
  });
  return { inbox, acked, close: () => ws.terminate() };
}

describe('GATEWAY_WORKERS=2: several gateway processes on one port under a supervisor', () => {
  const stack = useStack();
  let gw: ChildService;
  const owner = () => stack.token(['OWNER', 'STUDENT'], 'workers-owner');
  const createCourse = async (name: string) => {
    const body = JSON.stringify({ courseName: name, courseInfo: `about ${name}`, courseCathegory: 'code', price: 10 });
    const r = await fresh(gw.base, 'POST', '/api/course', { jwt: owner(), 'content-type': 'application/json' }, body);
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  };

  beforeAll(async () => {
    await stack.addCourses();
    await stack.addUsers();
    // three node processes compile the gateway's TypeScript at start: give a busy machine time for it
    gw = await stack.spawnGateway({ GATEWAY_WORKERS: '2', LOG_LEVEL: 'warn' }, { timeoutMs: 120_000 });
    await waitFor(() => childPids(gw.pid).length === 2, { what: 'two workers' });
    // /ready answered from one worker; the other may still be compiling: wait until a scrape has both
    await waitFor(async () => (await subscriptionsByWorker(gw.base).catch(() => new Map())).size === 2, { what: 'both workers answering', timeoutMs: 120_000 });
  });

  it('a scrape on any connection shows the series of every worker (the supervisor gathers them)', async () => {
    for (let i = 0; i < 4; i++) {
      const { status, text } = await fresh(gw.base, 'GET', '/metrics');
      expect(status).toBe(200);
      const workers = new Set([...text.matchAll(/^process_cpu_seconds_total\{[^}]*worker="(\d+)"/gm)].map((m) => m[1]));
      expect([...workers].sort()).toEqual(['1', '2']);
    }
  });

  it('every worker has its own Redis subscriber: one published event reaches the subscriptions of both workers once', async () => {
    const subs: Array<ReturnType<typeof subscribeCourseCreated>> = [];
    try {
      // subscriptions alternate workers by connection: open two at a time until each worker holds one
      await waitFor(
        async () => {
          if (subs.length < 8) {
            const pair = [subscribeCourseCreated(gw.base, { jwt: stack.token(['STUDENT']) }), subscribeCourseCreated(gw.base, { jwt: stack.token(['STUDENT']) })];
            subs.push(...pair);
            await Promise.all(pair.map((s) => s.acked));
          }
          const seen = await subscriptionsByWorker(gw.base);
          return seen.size === 2 && [...seen.values()].every((n) => n >= 1);
        },
        { what: 'a live subscription on each of the two workers', timeoutMs: 30_000 },
      );
      await createCourse('fan-out-1');
      await Promise.all(subs.map((s) => s.inbox.take((c) => c.name === 'fan-out-1', 15_000, 'the first event'))).catch((err: Error) => {
        throw new Error(`${err.message}\ngateway log:\n${readFileSync(gw.logFile, 'utf8').slice(-3000)}`);
      });
      // a second event after the first: per worker, events arrive in order, so a duplicate of the first would be here by now
      await createCourse('fan-out-2');
      await Promise.all(subs.map((s) => s.inbox.take((c) => c.name === 'fan-out-2', 15_000, 'the second event')));
      for (const s of subs) expect(s.inbox.values.map((c) => c.name)).toEqual(['fan-out-1', 'fan-out-2']);
    } finally {
      for (const s of subs) s.close();
    }
  });

  it('a WebSocket ticket issued by one worker is redeemed by whichever worker takes the upgrade (tickets live in Redis)', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await fresh(gw.base, 'POST', '/api/ws-ticket', { jwt: owner() });
      expect(r.status).toBe(201);
      const s = subscribeCourseCreated(gw.base, { ticket: (JSON.parse(r.text) as { ticket: string }).ticket });
      await s.acked;
      s.close();
    }
  });

  it('a worker that dies is replaced by a new one while the port keeps answering GraphQL (the replacement takes connections once it has a supergraph)', async () => {
    const [victim, survivor] = childPids(gw.pid);
    // a request the victim holds when it is killed dies with it; what must hold is that every connection after it is answered
    process.kill(victim, 'SIGKILL');
    await waitFor(() => !alive(victim), { what: 'the killed worker reaped' });
    let answered = 0;
    let failed = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const r = await fresh(gw.base, 'POST', '/graphql', { 'content-type': 'application/json' }, '{"query":"{ __typename }"}').catch(() => ({ status: 0, text: '' }));
        if (r.status === 200 && r.text.includes('"Query"')) answered++;
        else failed++;
      }
    })();
    try {
      await waitFor(() => childPids(gw.pid).length === 2, { what: 'a replacement worker', timeoutMs: 30_000 });
      const workers = childPids(gw.pid);
      expect(workers).toContain(survivor);
      expect(workers).not.toContain(victim);
      // the replacement serves too: its slot's /graphql count restarts from 0 with it, so a count on every
      // slot means the replacement took connections while the poll ran; then poll on for as many again
      await waitFor(async () => {
        const served = await graphqlServedByWorker(gw.base);
        return served.size === 2 && [...served.values()].every((n) => n > 0);
      }, {
        // the replacement compiles the gateway before it listens: tens of seconds on a busy machine
        what: 'both worker slots answering GraphQL',
        timeoutMs: 120_000,
      });
      const seen = answered + failed;
      await waitFor(() => answered + failed >= 2 * seen, { what: 'more polls after the replacement served', timeoutMs: 60_000 });
    } finally {
      polling = false;
      await poll;
    }
    expect(failed).toBe(0);
    expect(answered).toBeGreaterThan(0);
  });

  it('SIGTERM stops the supervisor and every worker, and the supervisor exits 0', async () => {
    const workers = childPids(gw.pid);
    expect(workers).toHaveLength(2);
    // SIGTERM ourselves and wait for the exit (the harness's stop() would SIGKILL a slow drain after 5 s)
    const exited = new Promise<number | null>((resolve) => gw.proc.once('exit', (code) => resolve(code)));
    gw.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workers) expect(alive(pid)).toBe(false);
  });
});
