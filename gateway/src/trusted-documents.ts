import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppError, type GraphQLHttpParams, type Logger } from '@dream/common';

/**
 * `off`: the manifest is not used (hash-only requests go to Apollo's automatic persisted queries).
 * `allow` (default): any operation is accepted, and the web app's operations also by hash alone.
 * `required`: only documents in the manifest run, sent by hash or in full (over HTTP and graphql-ws).
 */
export type TrustedDocumentsMode = 'off' | 'allow' | 'required';
export const TRUSTED_DOCUMENTS_MODES = ['off', 'allow', 'required'] as const;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const HASH = /^[0-9a-f]{64}$/;

export const UNTRUSTED_MESSAGE =
  'This gateway runs only the web app’s own operations (TRUSTED_DOCUMENTS=required): this document is not one of them.';

/** The hash a request names: APQ's extensions.persistedQuery.sha256Hash or a `documentId` ("sha256:<hex>" or "<hex>"). */
function hashOf(documentId: unknown, extensions: unknown): string | undefined {
  if (typeof documentId === 'string') return documentId.replace(/^sha256:/, '').toLowerCase();
  const pq = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return typeof pq?.sha256Hash === 'string' ? pq.sha256Hash.toLowerCase() : undefined;
}

/** Reads a `hash → document` manifest written by the web build; every entry's hash is checked. */
export function readManifest(file: string): Map<string, string> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected an object of hash → document`);
  const docs = new Map<string, string>();
  for (const [hash, doc] of Object.entries(parsed)) {
    if (typeof doc !== 'string' || !HASH.test(hash) || sha256(doc) !== hash) throw new Error(`${file}: entry ${hash.slice(0, 16)}… is not the sha256 of its document`);
    docs.set(hash, doc);
  }
  return docs;
}

export class TrustedDocuments {
  constructor(
    readonly mode: TrustedDocumentsMode,
    private readonly docs: ReadonlyMap<string, string>,
  ) {}

  /**
   * Loads the manifest for `mode`. `required` fails closed: without a readable manifest the gateway
   * does not start. `allow` without one only warns (everything still runs, by full text).
   */
  static load(mode: TrustedDocumentsMode, file: string, logger: Logger): TrustedDocuments {
    if (mode === 'off') return new TrustedDocuments(mode, new Map());
    try {
      const docs = readManifest(file);
      logger.info({ mode, file, documents: docs.size }, 'trusted documents loaded');
      return new TrustedDocuments(mode, docs);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} does not exist (build the web app: npm run build -w web)` : (err as Error).message;
      if (mode === 'required') throw new Error(`TRUSTED_DOCUMENTS=required but the manifest cannot be used: ${reason}`);
      logger.warn({ file, reason }, 'no trusted-documents manifest: operations are accepted by full text only');
      return new TrustedDocuments(mode, new Map());
    }
  }

  get size(): number {
    return this.docs.size;
  }

  /** Fills in or checks the document of one operation; throws the AppError the client gets. */
  private resolve(query: unknown, hash: string | undefined): string | undefined {
    if (typeof query === 'string' && query.length > 0) {
      if (this.mode === 'required' && !this.docs.has(sha256(query))) throw new AppError('FORBIDDEN', UNTRUSTED_MESSAGE);
      return query;
    }
    if (hash === undefined) {
      if (this.mode === 'required') throw new AppError('BAD_USER_INPUT', 'Send an operation: a trusted document’s hash (extensions.persistedQuery.sha256Hash or documentId).');
      return undefined;
    }
    const doc = this.docs.get(hash);
    if (doc === undefined && this.mode === 'required') throw new AppError('NOT_FOUND', `No trusted document has the hash ${hash.slice(0, 64)}.`);
    return doc;
  }

  /** The `prepare` hook of handleGraphQLHttp for /graphql (POST bodies and GET query strings). */
  prepareHttp = (params: GraphQLHttpParams): GraphQLHttpParams => {
    if (this.mode === 'off') return params;
    if (params.method === 'POST') {
      const body = params.body;
      if (Array.isArray(body) && this.mode === 'required') throw new AppError('BAD_USER_INPUT', 'Batched operations are not accepted: send one operation per request.');
      if (!body || typeof body !== 'object' || Array.isArray(body)) return params; // Apollo answers 400 for it
      const b = body as Record<string, unknown>;
      const query = this.resolve(b.query, hashOf(b.documentId, b.extensions));
      if (query === undefined || query === b.query) return params;
      const { documentId: _documentId, ...rest } = b;
      return { ...params, body: { ...rest, query } };
    }
    if (params.method !== 'GET') return params;
    const search = new URLSearchParams(params.search);
    if (!search.has('query') && !search.has('extensions') && !search.has('documentId')) return params; // the Sandbox landing page
    let extensions: unknown;
    try {
      extensions = JSON.parse(search.get('extensions') ?? 'null');
    } catch {
      throw new AppError('BAD_USER_INPUT', 'The extensions parameter is not valid JSON.');
    }
    const query = this.resolve(search.get('query'), hashOf(search.get('documentId') ?? undefined, extensions));
    if (query === undefined || query === search.get('query')) return params;
    search.set('query', query);
    search.delete('documentId');
    return { ...params, search: `?${search}` };
  };

  /** graphql-ws subscribe: undefined when the operation may run, else the error to answer it with. */
  checkSubscribe(query: string): AppError | undefined {
    if (this.mode !== 'required' || this.docs.has(sha256(query))) return undefined;
    return new AppError('FORBIDDEN', UNTRUSTED_MESSAGE);
  }
}
