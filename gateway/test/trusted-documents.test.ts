import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { readManifest } from '../src/trusted-documents';
import { useStack, waitForPool } from './helpers';
import { gqlWsClient, subscribe } from './client/ws-clients';

jest.setTimeout(90000);

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const TRUSTED_QUERY = 'query Cats {\n  categories\n}';
const TRUSTED_SUB = 'subscription Created {\n  courseDeleted {\n    id\n  }\n}';
const OTHER_QUERY = '{ categories __typename }';

/** POST /graphql with an arbitrary JSON body (the shapes clients really send). */
async function post(gw: Gateway, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const byHash = (hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
const codeOf = (r: { body: any }) => r.body.errors?.[0]?.extensions?.code ?? r.body.errors?.[0]?.message;

describe('trusted documents (TRUSTED_DOCUMENTS=off|allow|required)', () => {
  const stack = useStack();
  const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
  const manifest = join(dir, 'trusted-documents.json');
  const gws: Record<string, Gateway> = {};

  beforeAll(async () => {
    writeFileSync(manifest, JSON.stringify({ [sha256(TRUSTED_QUERY)]: TRUSTED_QUERY, [sha256(TRUSTED_SUB)]: TRUSTED_SUB }));
    await stack.addCourses();
    await stack.addUsers();
    for (const mode of ['off', 'allow', 'required']) {
      const gw = await stack.gateway({ TRUSTED_DOCUMENTS: mode, TRUSTED_DOCUMENTS_MANIFEST: manifest });
      await gw.ready();
      await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
      await waitForPool(gw, 'courses', 1);
      gws[mode] = gw;
    }
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('off: any document runs; a hash alone is not looked up in the manifest (APQ answers PersistedQueryNotFound)', async () => {
    const gw = gws.off;
    expect((await post(gw, { query: OTHER_QUERY })).body.data.categories).toEqual([]);
    expect((await post(gw, { query: TRUSTED_QUERY })).body.data.categories).toEqual([]);
    const r = await post(gw, byHash(sha256(TRUSTED_QUERY)));
    expect(r.body.data).toBeUndefined();
    expect(JSON.stringify(r.body.errors)).toMatch(/PersistedQueryNotFound|PERSISTED_QUERY_NOT_FOUND/);
  });

  test('allow: any document runs, and a manifest document also by its hash alone (APQ extension or documentId)', async () => {
    const gw = gws.allow;
    expect((await post(gw, { query: OTHER_QUERY })).body.data.categories).toEqual([]);
    const r = await post(gw, byHash(sha256(TRUSTED_QUERY)));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: { categories: [] } });
    expect((await post(gw, { documentId: `sha256:${sha256(TRUSTED_QUERY)}` })).body).toEqual({ data: { categories: [] } });
    // GET with the hash in `extensions` (Apollo's CSRF rule wants a preflight-forcing header on GET)
    const q = new URLSearchParams({ extensions: JSON.stringify(byHash(sha256(TRUSTED_QUERY)).extensions) });
    const get = await fetch(`${gw.url}/graphql?${q}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: { categories: [] } });
    // a hash that is not in the manifest falls back to the APQ protocol (the client resends the text)
    const miss = await post(gw, byHash(sha256(OTHER_QUERY)));
    expect(JSON.stringify(miss.body.errors)).toMatch(/PersistedQueryNotFound|PERSISTED_QUERY_NOT_FOUND/);
  });

  test('required: manifest documents run by hash or by text; anything else is refused with a message over HTTP and graphql-ws', async () => {
    const gw = gws.required;
    expect((await post(gw, byHash(sha256(TRUSTED_QUERY)))).body).toEqual({ data: { categories: [] } });
    expect((await post(gw, { query: TRUSTED_QUERY })).body).toEqual({ data: { categories: [] } });

    const other = await post(gw, { query: OTHER_QUERY });
    expect(other.status).toBe(403);
    expect(codeOf(other)).toBe('FORBIDDEN');
    expect(other.body.errors[0].message).toMatch(/web app’s own operations/);
    expect(other.body.data).toBeUndefined();

    const unknown = await post(gw, byHash('0'.repeat(64)));
    expect(unknown.status).toBe(404);
    expect(codeOf(unknown)).toBe('NOT_FOUND');

    const nothing = await post(gw, { variables: {} });
    expect(nothing.status).toBe(400);
    expect(await post(gw, [{ query: TRUSTED_QUERY }])).toMatchObject({ status: 400 });

    // the hash of a trusted document does not smuggle another text through
    const mixed = await post(gw, { query: OTHER_QUERY, ...byHash(sha256(TRUSTED_QUERY)) });
    expect(mixed.status).toBe(403);

    const get = await fetch(`${gw.url}/graphql?${new URLSearchParams({ query: OTHER_QUERY })}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(403);
    // the Sandbox landing page (a GET without an operation) is not an operation: still served
    const landing = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(landing.status).toBe(200);

    const ws = gqlWsClient(stack.d, gw);
    const refused = subscribe(ws, 'subscription { courseDeleted { id message } }');
    await expect(refused.inbox.take(() => true, 5000)).rejects.toThrow(/web app’s own operations.*FORBIDDEN/);
    const allowed = subscribe(ws, TRUSTED_SUB);
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= 1, { what: 'the trusted subscription to be live' });
    allowed.unsubscribe();
  });

  test('required fails closed: no gateway starts without a usable manifest', async () => {
    await expect(stack.gateway({ TRUSTED_DOCUMENTS: 'required', TRUSTED_DOCUMENTS_MANIFEST: join(dir, 'missing.json') })).rejects.toThrow(/does not exist/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ [sha256('x')]: 'y' }));
    expect(() => readManifest(bad)).toThrow(/not the sha256 of its document/);
    await expect(stack.gateway({ TRUSTED_DOCUMENTS: 'required', TRUSTED_DOCUMENTS_MANIFEST: bad })).rejects.toThrow(/cannot be used/);
  });
});
