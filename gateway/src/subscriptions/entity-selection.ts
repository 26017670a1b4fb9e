import {
  Kind,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';

/** The variable name the id of the event's entity travels in (cannot clash: `__` is reserved). */
export const ENTITY_ID_VAR = '__subscriptionEntityId';
/** Response key of the query's root field. */
export const ENTITY_KEY = '__subscriptionEntity';

export interface EntityQuery {
  /** `query($__subscriptionEntityId: ID!, …) { __subscriptionEntity: <rootField>(id: …) { <selection> } }` */
  query: string;
  /** The subscription's variables that the selection uses (to pass along with the entity id). */
  variableNames: string[];
}

/**
 * Turns the client's subscription field (`courseCreated { name owner { username } }`) into a query
 * for the one entity an event names, through `rootField(id:)` (`course`, `lesson`…), with the same
 * selection, so each event is resolved through the federated query path like any other query
 * (entities, @requires, other subgraphs). Fragments and variables the selection uses come along; the
 * rest of the document is dropped (unused ones fail validation).
 */
export function entityQueryFor(document: DocumentNode, operation: OperationDefinitionNode, field: FieldNode, rootField: string): EntityQuery {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const usedFragments = new Map<string, FragmentDefinitionNode>();
  const usedVars = new Set<string>();
  const walk = (node: SelectionSetNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(s) {
        const name = s.name.value;
        const def = fragments.get(name);
        if (def && !usedFragments.has(name)) {
          usedFragments.set(name, def);
          walk(def);
        }
      },
      Variable(v) {
        usedVars.add(v.name.value);
      },
    });
  if (field.selectionSet) walk(field.selectionSet);
  for (const d of field.directives ?? []) visit(d, { Variable: (v) => void usedVars.add(v.name.value) });

  const variableDefinitions: VariableDefinitionNode[] = [
    {
      kind: Kind.VARIABLE_DEFINITION,
      variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: ENTITY_ID_VAR } },
      type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
    },
    ...(operation.variableDefinitions ?? []).filter((v) => usedVars.has(v.variable.name.value)),
  ];
  const doc: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as OperationDefinitionNode['operation'],
        name: { kind: Kind.NAME, value: 'SubscriptionEntity' },
        variableDefinitions,
        directives: [],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: [
            {
              kind: Kind.FIELD,
              alias: { kind: Kind.NAME, value: ENTITY_KEY },
              name: { kind: Kind.NAME, value: rootField },
              arguments: [
                {
                  kind: Kind.ARGUMENT,
                  name: { kind: Kind.NAME, value: 'id' },
                  value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: ENTITY_ID_VAR } },
                },
              ],
              directives: field.directives,
              selectionSet: field.selectionSet,
            },
          ],
        },
      },
      ...usedFragments.values(),
    ],
  };
  return { query: print(doc), variableNames: [...usedVars] };
}
