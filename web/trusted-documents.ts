import { createHash } from 'node:crypto';
import { formatDocument, stringifyDocument, type TypedDocumentNode } from '@urql/core';
import type { Plugin } from 'vite';

/** The file the gateway reads (TRUSTED_DOCUMENTS_MANIFEST), written next to index.html by `vite build`. */
export const MANIFEST_FILE = 'trusted-documents.json';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * hash → document text, exactly as the app sends it. urql adds `__typename` to queries and mutations
 * (formatDocument) before the persisted exchange hashes them, and sends subscriptions as written, so
 * both texts of each document are listed: either is one of the app's own operations.
 */
export function trustedDocuments(docs: Record<string, TypedDocumentNode>): Record<string, string> {
  const manifest: Record<string, string> = {};
  for (const doc of Object.values(docs)) {
    for (const text of [stringifyDocument(formatDocument(doc)), stringifyDocument(doc)]) manifest[sha256(text)] = text;
  }
  return manifest;
}

/** A Vite plugin that emits the manifest into the build output. */
export function trustedDocumentsPlugin(load: () => Promise<Record<string, unknown>>): Plugin {
  return {
    name: 'dream-trusted-documents',
    apply: 'build',
    async generateBundle() {
      const docs = Object.fromEntries(
        Object.entries(await load()).filter((e): e is [string, TypedDocumentNode] => typeof e[1] === 'object' && e[1] !== null && 'definitions' in e[1]),
      );
      const manifest = trustedDocuments(docs);
      this.emitFile({ type: 'asset', fileName: MANIFEST_FILE, source: `${JSON.stringify(manifest, null, 2)}\n` });
    },
  };
}
