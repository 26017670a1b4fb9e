import { gql, type GqlResult } from '@dream/testenv';

/** What one client request of a scenario ended with. */
export interface Outcome {
  i: number;
  kind: string;
  ok: boolean;
  status: number;
  ms: number;
  code?: string;
  message?: string;
  /** The write's identity (course name, purchase key) to look it up in the database afterwards. */
  key?: string;
  data?: Record<string, any> | null;
}

export interface LoadOptions {
  /** Fixed number of requests (the load is bounded, never open-ended). */
  total: number;
  concurrency: number;
  /** Pause between two requests of one worker, so the load spans the fault (steady, not a burst). */
  gapMs?: number;
  send: (i: number) => Promise<Outcome>;
  /** Faults injected once `after` requests have completed; awaited before the load resolves. */
  at?: Array<{ after: number; run: () => Promise<unknown> }>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a bounded, steady load with faults injected mid-way; resolves with every outcome. */
export async function boundedLoad(opts: LoadOptions): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const triggers = [...(opts.at ?? [])].sort((a, b) => a.after - b.after);
  const fired: Array<Promise<unknown>> = [];
  let next = 0;
  const worker = async () => {
    while (next < opts.total) {
      const i = next++;
      outcomes.push(await opts.send(i));
      while (triggers.length && outcomes.length >= triggers[0].after) fired.push(triggers.shift()!.run());
      if (opts.gapMs) await pause(opts.gapMs);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  for (const t of triggers) fired.push(t.run());
  await Promise.all(fired);
  return outcomes.sort((a, b) => a.i - b.i);
}

/** One GraphQL request through the gateway, timed; transport errors become failed outcomes. */
export async function gqlOutcome(
  gw: { url: string },
  i: number,
  kind: string,
  query: string,
  opts: { variables?: Record<string, unknown>; token?: string; key?: string } = {},
): Promise<Outcome> {
  const started = Date.now();
  let r: GqlResult;
  try {
    r = await gql(gw, query, { variables: opts.variables, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} });
  } catch (err) {
    return { i, kind, ok: false, status: 0, ms: Date.now() - started, message: (err as Error).message, key: opts.key };
  }
  const err = r.body.errors?.[0];
  return {
    i,
    kind,
    ok: r.status === 200 && !err,
    status: r.status,
    ms: Date.now() - started,
    code: err?.extensions?.code,
    message: err?.message,
    key: opts.key,
    data: r.body.data,
  };
}

export const failures = (outcomes: Outcome[], kind?: string) => outcomes.filter((o) => !o.ok && (!kind || o.kind === kind));
export const summary = (outcomes: Outcome[]) =>
  failures(outcomes)
    .slice(0, 5)
    .map((o) => `${o.kind}#${o.i} ${o.status} ${o.code ?? ''} ${o.message ?? ''}`)
    .join('; ');
