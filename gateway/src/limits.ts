import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { AppError } from '@dream/common';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
}

interface Measure {
  depth: number;
  aliases: number;
}

/**
 * Depth and alias count of a document. Fragments are followed (validation has already refused
 * cycles); introspection subtrees (`__schema`, `__type`) do not count towards depth, so Sandbox's
 * introspection query is never refused.
 */
export function measureDocument(doc: DocumentNode): Measure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let aliases = 0;
  for (const d of doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) aliases += countAliases(d.selectionSet);
  }
  // A fragment's depth does not depend on where it is spread: computed once. Without this, fragments that
  // each spread the next one twice made the walk exponential (2^30 visits from a 1.5 KB query, which
  // validation accepts), freezing the gateway's event loop.
  const fragmentDepth = new Map<string, number>();
  const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const d = 1 + (sel.selectionSet ? depthOf(sel.selectionSet, visiting) : 0);
        if (d > max) max = d;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, depthOf(sel.selectionSet, visiting));
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (!frag || visiting.has(name)) continue;
        let d = fragmentDepth.get(name);
        if (d === undefined) {
          visiting.add(name);
          d = depthOf(frag.selectionSet, visiting);
          visiting.delete(name);
          fragmentDepth.set(name, d);
        }
        max = Math.max(max, d);
      }
    }
    return max;
  };
  let depth = 0;
  for (const d of doc.definitions) if (d.kind === Kind.OPERATION_DEFINITION) depth = Math.max(depth, depthOf(d.selectionSet, new Set()));
  return { depth, aliases };
}

function countAliases(set: SelectionSetNode): number {
  let n = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD && sel.alias) n++;
    if (sel.kind !== Kind.FRAGMENT_SPREAD && sel.selectionSet) n += countAliases(sel.selectionSet);
  }
  return n;
}

/**
 * Refuses over-deep or over-aliased operations with 400 BAD_USER_INPUT before anything is sent to
 * a subgraph. The verdict is cached per parsed document: Apollo hands back the same DocumentNode
 * for a repeated query string, so the hot path pays one WeakMap lookup.
 */
/** Why `doc` breaks the limits, or null (also used for graphql-ws subscriptions, which bypass Apollo). */
export function limitProblem(doc: DocumentNode, limits: QueryLimits): string | null {
  const m = measureDocument(doc);
  return m.depth > limits.maxDepth
    ? `Query is too deep: depth ${m.depth} exceeds the limit of ${limits.maxDepth}.`
    : m.aliases > limits.maxAliases
      ? `Query uses too many aliases: ${m.aliases} exceeds the limit of ${limits.maxAliases}.`
      : null;
}

export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  const verdicts = new WeakMap<DocumentNode, string | null>();
  const check = (doc: DocumentNode): string | null => {
    let v = verdicts.get(doc);
    if (v !== undefined) return v;
    v = limitProblem(doc, limits);
    verdicts.set(doc, v);
    return v;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document }) {
          const problem = check(document);
          if (problem) throw new AppError('BAD_USER_INPUT', problem);
        },
      };
    },
  };
}
