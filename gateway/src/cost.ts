import {
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface CostLimits {
  /** Most estimated resolved fields an operation may cost. */
  maxCost: number;
  /** Most fields an operation selects once fragments are expanded. */
  maxFields: number;
  /** Most selections in one selection set. */
  maxSelectionsPerSet: number;
  /** What a list without a size argument is assumed to return. */
  assumedListSize: number;
}

/** The arguments a list field's size is read from (the first one present). */
const SIZE_ARGS = ['first', 'last', 'limit', 'size'];
/**
 * Introspection is not costed by list sizes (the schema is small and fixed), but its lists can be
 * nested through `type { fields { type { fields … } } }` into an answer that grows exponentially.
 * Sandbox's own query nests three levels (types → fields → args): more is refused.
 */
const MAX_INTROSPECTION_LIST_NESTING = 3;

export interface CostReport {
  cost: number;
  fields: number;
}

class Refused extends Error {}

/**
 * A static estimate of what an operation will make the gateway and subgraphs resolve, computed from
 * the document, the schema and the variables before anything is fetched: every field costs 1, and a
 * list field multiplies what it selects by its `first`/`limit` argument (or the assumed size). Fragments
 * are costed once per name (a fragment spread many times is multiplied, not re-walked), so the walk is
 * linear in the document. Returns why the operation is refused, or the report.
 */
export function analyzeCost(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  limits: CostLimits,
): { problem: string } | CostReport {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, CostReport>();
  const vars = variables ?? {};
  const defaults = new Map<string, unknown>();
  for (const v of operation.variableDefinitions ?? []) {
    if (v.defaultValue && v.defaultValue.kind === Kind.INT) defaults.set(v.variable.name.value, Number(v.defaultValue.value));
  }

  const sizeOf = (field: GraphQLField<unknown, unknown>, node: FieldNode): number => {
    for (const name of SIZE_ARGS) {
      const arg = node.arguments?.find((a) => a.name.value === name);
      const def = field.args.find((a) => a.name === name);
      if (!arg && !def) continue;
      let v: unknown;
      if (arg?.value.kind === Kind.VARIABLE) v = vars[arg.value.name.value] ?? defaults.get(arg.value.name.value);
      else if (arg && def) v = valueFromAST(arg.value, def.type, vars);
      if (v === undefined || v === null) v = def?.defaultValue;
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.ceil(v);
    }
    return limits.assumedListSize;
  };

    // `introspectionLists`: undefined outside introspection, else how many lists enclose this selection
  const walk = (set: SelectionSetNode, type: GraphQLCompositeType, introspectionLists: number | undefined): CostReport => {
    if (set.selections.length > limits.maxSelectionsPerSet) {
      throw new Refused(`A selection set has ${set.selections.length} selections; the limit is ${limits.maxSelectionsPerSet}.`);
    }
    let cost = 0;
    let fields = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        fields++;
        cost++;
        const name = sel.name.value;
        if (name === '__typename' || !sel.selectionSet) continue;
        const def = fieldOf(schema, type, name);
        if (!def) continue; // validation already refused unknown fields
        const inner = getNamedType(def.type);
        if (!isCompositeType(inner)) continue;
        const list = isListType(getNullableType(def.type));
        if (introspectionLists !== undefined || name === '__schema' || name === '__type') {
          const nesting = (introspectionLists ?? 0) + (list ? 1 : 0);
          if (nesting > MAX_INTROSPECTION_LIST_NESTING) throw new Refused('Introspection lists nest too deeply.');
          const sub = walk(sel.selectionSet, inner, nesting);
          cost += sub.cost;
          fields += sub.fields;
          continue;
        }
        const sub = walk(sel.selectionSet, inner, undefined);
        cost += (list ? sizeOf(def, sel) : 1) * sub.cost;
        fields += sub.fields;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType | undefined) : type;
        const sub = walk(sel.selectionSet, t ?? type, introspectionLists);
        cost += sub.cost;
        fields += sub.fields;
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (!frag) continue;
        const key = `${name}\u0000${introspectionLists ?? ''}`;
        let sub = memo.get(key);
        if (!sub) {
          // a cycle was refused by validation; the placeholder stops a walk of an unvalidated document
          memo.set(key, { cost: 0, fields: 0 });
          const t = schema.getType(frag.typeCondition.name.value) as GraphQLCompositeType | undefined;
          sub = walk(frag.selectionSet, t ?? type, introspectionLists);
          memo.set(key, sub);
        }
        cost += sub.cost;
        fields += sub.fields;
      }
      if (fields > limits.maxFields) throw new Refused(`The operation selects more than ${limits.maxFields} fields.`);
      if (cost > limits.maxCost) throw new Refused(`The operation is too expensive: its estimated cost exceeds the limit of ${limits.maxCost}.`);
    }
    return { cost, fields };
  };

  const root =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return { cost: 0, fields: 0 };
  try {
    return walk(operation.selectionSet, root, undefined);
  } catch (e) {
    if (e instanceof Refused) return { problem: e.message };
    throw e;
  }
}

function fieldOf(schema: GraphQLSchema, type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === '__schema') return SchemaMetaFieldDef;
  if (name === '__type') return TypeMetaFieldDef;
  if ('getFields' in type) return type.getFields()[name];
  return undefined; // a union: only __typename and fragments
}
