import { Kind, parse, type ConstDirectiveNode, type FieldDefinitionNode, type TypeNode } from 'graphql';

/**
 * `@cacheControl(maxAge, scope)` hints of one subgraph, read from its SDL (the gateway already fetches
 * every subgraph's SDL to compose). The semantics are Apollo Server's: a field's hint wins over its
 * return type's; a root field, or a field returning an object, without either is not cacheable
 * (maxAge 0); a leaf field without a hint does not restrict its parent.
 */
export type CacheScope = 'PUBLIC' | 'PRIVATE';

export interface CacheHint {
  maxAge?: number;
  scope?: CacheScope;
}

export interface FieldInfo {
  hint?: CacheHint;
  /** The named return type (lists and non-null unwrapped). */
  type: string;
  list: boolean;
}

export interface TypeInfo {
  hint?: CacheHint;
  /** The single key field of an entity keyed by one field (`@key(fields: "id")`): its events name it. */
  keyField?: string;
  fields: Map<string, FieldInfo>;
}

export type SubgraphHints = Map<string, TypeInfo>;

function hintOf(directives: readonly ConstDirectiveNode[] | undefined): CacheHint | undefined {
  const d = directives?.find((x) => x.name.value === 'cacheControl');
  if (!d) return undefined;
  const hint: CacheHint = {};
  for (const arg of d.arguments ?? []) {
    if (arg.name.value === 'maxAge' && arg.value.kind === Kind.INT) hint.maxAge = Math.max(0, Number(arg.value.value));
    if (arg.name.value === 'scope' && arg.value.kind === Kind.ENUM && (arg.value.value === 'PUBLIC' || arg.value.value === 'PRIVATE')) hint.scope = arg.value.value;
  }
  return hint;
}

function keyFieldOf(directives: readonly ConstDirectiveNode[] | undefined): string | undefined {
  for (const d of directives ?? []) {
    if (d.name.value !== 'key') continue;
    const fields = d.arguments?.find((a) => a.name.value === 'fields')?.value;
    if (fields?.kind === Kind.STRING && /^\s*\w+\s*$/.test(fields.value)) return fields.value.trim();
  }
  return undefined;
}

function unwrap(t: TypeNode): { type: string; list: boolean } {
  let list = false;
  let cur = t;
  while (cur.kind !== Kind.NAMED_TYPE) {
    if (cur.kind === Kind.LIST_TYPE) list = true;
    cur = cur.type;
  }
  return { type: cur.name.value, list };
}

/** The hints, key fields and field types of one subgraph SDL; throws when it does not parse. */
export function hintsOf(sdl: string): SubgraphHints {
  const types: SubgraphHints = new Map();
  for (const def of parse(sdl).definitions) {
    if (
      def.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      def.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      def.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      def.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    const name = def.name.value;
    const info = types.get(name) ?? { fields: new Map<string, FieldInfo>() };
    info.hint ??= hintOf(def.directives);
    info.keyField ??= keyFieldOf(def.directives);
    for (const f of (def.fields ?? []) as readonly FieldDefinitionNode[]) info.fields.set(f.name.value, { hint: hintOf(f.directives), ...unwrap(f.type) });
    types.set(name, info);
  }
  return types;
}
