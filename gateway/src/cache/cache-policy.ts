import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { SubgraphHints } from './cache-hints';

/** Where entities sit inside a cached value, so the entry can be tagged with them (`Course:42`). */
export interface TagPath {
  /** Response keys from the value to the entity objects (lists are walked through). */
  path: string[];
  type: string;
  /** Response key of the entity's key field in its selection. */
  idKey: string;
}

/** How long one cached value lives, who may see it, and what invalidates it. */
export interface Policy {
  maxAgeMs: number;
  private: boolean;
  tags: TagPath[];
  /** Tags naming whole collections (`list:Course` for a root field returning a list of courses). */
  fixedTags: string[];
}

/** A root-field fetch is cached whole; an `_entities` fetch per representation, by the entity's type. */
export type FetchPlan = { kind: 'root'; policy: Policy } | { kind: 'entities'; byType: Map<string, Policy> };

interface Acc {
  maxAge?: number;
  private: boolean;
  tags: TagPath[];
}

class Uncacheable extends Error {}

function restrict(acc: Acc, maxAge: number | undefined, isPrivate: boolean): void {
  if (maxAge !== undefined) acc.maxAge = acc.maxAge === undefined ? maxAge : Math.min(acc.maxAge, maxAge);
  if (acc.maxAge === 0) throw new Uncacheable();
  if (isPrivate) acc.private = true;
}

function walk(
  hints: SubgraphHints,
  parent: string,
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  path: string[],
  acc: Acc,
  root: boolean,
  onRootField?: (responseKey: string, type: string, list: boolean) => void,
): void {
  for (const sel of set.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT) {
      walk(hints, sel.typeCondition?.name.value ?? parent, sel.selectionSet, fragments, path, acc, root, onRootField);
      continue;
    }
    if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const frag = fragments.get(sel.name.value);
      if (!frag) throw new Uncacheable();
      walk(hints, frag.typeCondition.name.value, frag.selectionSet, fragments, path, acc, root, onRootField);
      continue;
    }
    const name = sel.name.value;
    if (name === '__typename') continue;
    const field = hints.get(parent)?.fields.get(name);
    if (!field) throw new Uncacheable();
    const type = hints.get(field.type);
    const composite = !!sel.selectionSet;
    const maxAge = field.hint?.maxAge ?? (composite || root ? (type?.hint?.maxAge ?? 0) : undefined);
    restrict(acc, maxAge, field.hint?.scope === 'PRIVATE' || (field.hint?.scope === undefined && type?.hint?.scope === 'PRIVATE'));
    const key = sel.alias?.value ?? name;
    onRootField?.(key, field.type, field.list);
    if (!sel.selectionSet) continue;
    const inner = [...path, key];
    if (type?.keyField) {
      const idSel = sel.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === type.keyField);
      if (idSel?.kind === Kind.FIELD) acc.tags.push({ path: inner, type: field.type, idKey: idSel.alias?.value ?? idSel.name.value });
    }
    walk(hints, field.type, sel.selectionSet, fragments, inner, acc, false);
  }
}

function policyOf(acc: Acc, fixedTags: string[] = []): Policy | undefined {
  if (!acc.maxAge) return undefined; // no hint at all, or 0: not cacheable
  return { maxAgeMs: acc.maxAge * 1000, private: acc.private, tags: acc.tags, fixedTags };
}

/**
 * What may be cached of one subgraph operation, from the subgraph's hints; undefined when nothing
 * may (a mutation, an unknown field, a field or type without a hint where one is needed).
 */
export function planFetch(hints: SubgraphHints, query: string): FetchPlan | undefined {
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch {
    return undefined;
  }
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length !== 1 || ops[0].operation !== 'query') return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const top = ops[0].selectionSet.selections;
  const entities = top.length === 1 && top[0].kind === Kind.FIELD && top[0].name.value === '_entities' ? top[0] : undefined;
  try {
    if (!entities) {
      const acc: Acc = { private: false, tags: [] };
      const lists = new Set<string>();
      walk(hints, 'Query', ops[0].selectionSet, fragments, [], acc, true, (_key, type, list) => {
        if (list) lists.add(`list:${type}`);
      });
      const policy = policyOf(acc, [...lists]);
      return policy && { kind: 'root', policy };
    }
    const byType = new Map<string, Policy>();
    for (const sel of entities.selectionSet?.selections ?? []) {
      if (sel.kind !== Kind.INLINE_FRAGMENT || !sel.typeCondition) continue;
      const typeName = sel.typeCondition.name.value;
      const typeHint = hints.get(typeName)?.hint;
      const acc: Acc = { maxAge: typeHint?.maxAge, private: typeHint?.scope === 'PRIVATE', tags: [] };
      try {
        walk(hints, typeName, sel.selectionSet, fragments, [], acc, false);
      } catch (err) {
        if (err instanceof Uncacheable) continue;
        throw err;
      }
      const policy = policyOf(acc);
      if (policy) byType.set(typeName, policy);
    }
    return byType.size ? { kind: 'entities', byType } : undefined;
  } catch (err) {
    if (err instanceof Uncacheable) return undefined;
    throw err;
  }
}

/** Tags of the entities found at `tags` paths in a cached value. */
export function tagsIn(value: unknown, tags: TagPath[], out: Set<string>): void {
  for (const t of tags) collect(value, t.path, 0, t, out);
}

function collect(value: unknown, path: string[], i: number, t: TagPath, out: Set<string>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collect(v, path, i, t, out);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (i === path.length) {
    const id = obj[t.idKey];
    if (typeof id === 'string' || typeof id === 'number') out.add(`${t.type}:${id}`);
    return;
  }
  collect(obj[path[i]], path, i + 1, t, out);
}
