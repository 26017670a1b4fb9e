import { waitFor } from '@dream/common/testing';
import { Stack, gql, waitForPool, type ChildService } from '@dream/testenv';
import type { Gateway } from '../gateway/src/server';
import { STALE_HEADER } from '../gateway/src/cache/stale-marker';
import { signup } from '../gateway/test/client/api';
import { boundedLoad, failures, summary, type Outcome } from './load';
import { measured, newRow } from './report';

jest.setTimeout(180_000);

const CATALOGUE = 'query Catalogue { courses(category: "fallback", first: 20) { id name owner { username } } }';
const READ = 'query Read($id: ID!) { course(id: $id) { id name price owner { username } } }';
const WRITE = 'mutation Write($input: CreateCourseInput!) { createCourse(input: $input) { id } }';

/** One read with what the fallback adds: whether it was marked stale (extension and header agree). */
interface Read extends Outcome {
  stale: boolean;
}

async function read(gw: Gateway, i: number, query: string, variables?: Record<string, unknown>): Promise<Read> {
  const started = Date.now();
  try {
    const r = await gql(gw, query, { variables });
    const err = r.body.errors?.[0];
    const ext = (r.body as { extensions?: { cacheStale?: { subgraphs?: string[] } } }).extensions?.cacheStale;
    const header = r.headers.get(STALE_HEADER);
    const marked = !!ext?.subgraphs?.includes('courses');
    if (marked !== (header?.includes('courses') ?? false)) throw new Error(`stale extension ${JSON.stringify(ext)} and header ${header} disagree`);
    return {
      i,
      kind: 'read',
      ok: r.status === 200 && !err,
      status: r.status,
      ms: Date.now() - started,
      code: err?.extensions?.code,
      message: err?.message,
      data: r.body.data,
      stale: marked,
    };
  } catch (err) {
    return {
      i,
      kind: 'read',
      ok: false,
      status: 0,
      ms: Date.now() - started,
      message: (err as Error).message,
      stale: false,
    };
  }
}

/**
 * The entity cache as the breaker's fallback: with every courses replica SIGKILLed, catalogue reads
 * the cache holds keep answering (200, marked stale); what it never held answers SERVICE_UNAVAILABLE.
 * ENTITY_CACHE_MAX_AGE_SECONDS=0 sends every read upstream while courses can answer, so each answer
 * during the outage is the fallback's, not an ordinary hit.
 */
describe('entity cache fallback while every courses replica is down', () => {
  const stack = new Stack({ discoveryTtlSeconds: 2 });
  let gw: Gateway;
  const courses: ChildService[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    await stack.start();
    // one at a time: three processes compiling at once on a loaded machine outlast the health wait
    await stack.spawnSubgraph('users');
    const c1 = await stack.spawnSubgraph('courses');
    const c2 = await stack.spawnSubgraph('courses');
    courses.push(c1, c2);
    gw = await stack.gateway({
      ENTITY_CACHE: 'true',
      ENTITY_CACHE_MAX_AGE_SECONDS: '0',
      ENTITY_CACHE_STALE_SECONDS: '600',
      ACCESS_LOG: 'false',
    });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, {
      what: 'both subgraphs composed',
    });
    await waitForPool(gw, 'courses', 2);
    await waitForPool(gw, 'users', 1);
    await gw.entityCache!.ready();
    const owner = await signup(gw, ['OWNER']);
    for (let i = 0; i < 10; i++) {
      const r = await gql(gw, WRITE, {
        token: owner.jwt,
        variables: {
          input: { name: `fb-${i}`, info: 'x', category: 'fallback', price: 3 },
        },
      });
      if (r.body.errors) throw new Error(`seeding failed: ${r.body.errors[0].message}`);
      ids.push(r.body.data!.createCourse.id as string);
    }
  });
  afterAll(() => stack.stop());

  it('the catalogue stays readable (served stale, marked) through the outage; an uncached read is refused; a replica back ends the marking', async () => {
    // warm: what the catalogue shows, once
    expect((await read(gw, 0, CATALOGUE)).ok).toBe(true);
    for (const id of ids) expect((await read(gw, 0, READ, { id })).ok).toBe(true);

    const row = newRow('every courses replica SIGKILLed: catalogue from the entity cache');
    let killedAt = 0;
    await measured(row, async () => {
      const out = (await boundedLoad({
        total: 200,
        concurrency: 4,
        gapMs: 5,
        send: (i) => (i % 5 === 0 ? read(gw, i, CATALOGUE) : read(gw, i, READ, { id: ids[i % ids.length] })),
        at: [
          {
            after: 40,
            run: async () => {
              killedAt = Date.now();
              await Promise.all(courses.map((c) => c.kill()));
            },
          },
        ],
      })) as Read[];
      row.requests = out.length;
      row.failed = failures(out).length;
      row.note = `${out.filter((o) => o.stale).length} answered from expired entries, marked stale; recovered = a restarted replica answers unmarked`;
      expect(killedAt).toBeGreaterThan(0);
      expect(summary(out)).toBe('');
      // once both are gone every read is the fallback's (the last quarter is well after the kill)
      expect(out.slice(-50).every((o) => o.stale)).toBe(true);
      const catalogue = out.filter((o) => o.i % 5 === 0).at(-1)!;
      expect(catalogue.data!.courses.map((c: { name: string }) => c.name).sort()).toEqual(ids.map((_, i) => `fb-${i}`).sort());

      // the pool is empty once the leases expire; still answered from the cache
      await waitForPool(gw, 'courses', 0, 15_000);
      expect((await read(gw, 0, READ, { id: ids[0] })).stale).toBe(true);
      // never cached: nothing to fall back on
      const unknown = await read(gw, 0, READ, { id: 'never-read' });
      expect(unknown.ok).toBe(false);
      expect(unknown.code).toBe('SERVICE_UNAVAILABLE');

      // back: an in-process replica on the same database (it starts in a second, where a new process
      // on a loaded machine can take longer than the spawn's health wait)
      const restartedAt = Date.now();
      await stack.addCourses();
      await waitFor(
        async () => {
          const r = await read(gw, 0, READ, { id: ids[0] });
          return r.ok && !r.stale;
        },
        {
          what: 'reads answered by courses again, unmarked',
          timeoutMs: 30_000,
        },
      );
      row.recoveryMs = Date.now() - restartedAt;
    });
  });
});
