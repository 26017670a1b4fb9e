import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { AppError } from '@dream/common';
import { analyzeCost, type CostLimits } from './cost';

export interface QueryLimits extends CostLimits {
  maxDepth: number;
  maxAliases: number;
}

/** Why `operation` is too costly or too big for the limits, or null (HTTP and graphql-ws alike). */
export function costProblem(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  limits: CostLimits,
): string | null {
  const r = analyzeCost(schema, doc, operation, variables, limits);
  return 'problem' in r ? r.problem : null;
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
        async didResolveOperation({ document, operation, request, schema }) {
          const problem = check(document);
          if (problem) throw new AppError('BAD_USER_INPUT', problem);
          // after depth and aliases (cheap, cached per document): the cost depends on the variables
          const tooCostly = operation && costProblem(schema, document, operation, request.variables, limits);
          if (tooCostly) throw queryTooComplex(tooCostly);
        },
      };
    },
  };
}

/** A refusal by cost or size: HTTP 400 with extensions.code QUERY_TOO_COMPLEX, before any subgraph is called. */
export const queryTooComplex = (message: string) => new AppError('QUERY_TOO_COMPLEX', message);

/** The limits from the gateway's configuration (one place for /graphql and graphql-ws). */
export function queryLimitsOf(config: {
  MAX_QUERY_DEPTH: number;
  MAX_ALIASES: number;
  MAX_QUERY_COST: number;
  MAX_FIELDS: number;
  MAX_SELECTIONS_PER_SET: number;
  LIST_ASSUMED_SIZE: number;
}): QueryLimits {
  return {
    maxDepth: config.MAX_QUERY_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxCost: config.MAX_QUERY_COST,
    maxFields: config.MAX_FIELDS,
    maxSelectionsPerSet: config.MAX_SELECTIONS_PER_SET,
    assumedListSize: config.LIST_ASSUMED_SIZE,
  };
}
