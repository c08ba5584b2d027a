import {
  Kind,
  TypeInfo,
  getOperationAST,
  print,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import { BadUserInputError } from '../../platform/errors.ts';
import type { Identity } from '../../platform/auth/identity.ts';

/** The subscription root field the gateway serves. */
export const ROOT_FIELD = 'notificationAdded';

/**
 * Fields whose value depends on who reads (not only on what the reader may see): a
 * selection with one of them is resolved per reader, not per permission scope.
 */
const PER_READER_FIELDS = new Set(['Notification.readAt']);

// Our own variables and aliases; `_sse` keeps them apart from the subscriber's names.
const ID_VARIABLE = '_sseNotificationId';
const AFTER_VARIABLE = '_sseAfter';
export const FEED_ALIAS = '_sseFeed';
export const NODE_ID_ALIAS = '_sseId';
export const NODE_CURSOR_ALIAS = '_sseCursor';

/** How one subscription's selection is resolved through the federated graph. */
export interface DelegationPlan {
  /** The subscription's response key for notificationAdded (its alias, if any). */
  responseKey: string;
  /** `query($_sseNotificationId: ID!, …) { <responseKey>: notification(id: …) { <selection> } }`. */
  liveQuery: string;
  /** The caller's own feed after a cursor with the same selection (Last-Event-ID replay). */
  replayQuery: string;
  /** The subscriber's variables the selection uses. */
  variables: Record<string, unknown>;
  /** Selection and variables: subscribers with the same key and scope share one delegated query per event. */
  key: string;
  /** The selection reaches a per-reader field (readAt): scope includes the reader. */
  perReader: boolean;
}

/** Where in a subscription document the selection is; BAD_USER_INPUT for what the gateway does not serve. */
export function planSubscription(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variableValues: Record<string, unknown> | null | undefined): DelegationPlan {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'subscription') throw new BadUserInputError('Only subscriptions are served on /graphql/stream; send queries and mutations to /graphql');
  const [field, ...others] = operation.selectionSet.selections;
  if (others.length > 0 || field?.kind !== Kind.FIELD || field.name.value !== ROOT_FIELD) {
    throw new BadUserInputError(`Select ${ROOT_FIELD} directly (one root field, no fragments at the root)`);
  }
  if (field.directives?.length) throw new BadUserInputError(`Directives on ${ROOT_FIELD} itself are not supported; put them inside its selection`);
  if (!field.selectionSet) throw new BadUserInputError(`${ROOT_FIELD} needs a selection`);
  const responseKey = field.alias?.value ?? field.name.value;

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const usedFragments = new Map<string, FragmentDefinitionNode>();
  const usedVariables = new Set<string>();
  const walk = (node: SelectionSetNode) =>
    visit(node, {
      Variable: (v) => void usedVariables.add(v.name.value),
      FragmentSpread: (s) => {
        const name = s.name.value;
        const fragment = fragments.get(name);
        if (fragment && !usedFragments.has(name)) {
          usedFragments.set(name, fragment);
          walk(fragment.selectionSet);
        }
      },
    });
  walk(field.selectionSet);
  const definitions = (operation.variableDefinitions ?? []).filter((d) => usedVariables.has(d.variable.name.value));
  const variables: Record<string, unknown> = {};
  for (const d of definitions) {
    const name = d.variable.name.value;
    if (variableValues && name in variableValues) variables[name] = variableValues[name];
  }
  const fragmentList = [...usedFragments.values()].sort((a, b) => a.name.value.localeCompare(b.name.value));

  const liveField: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: responseKey },
    name: { kind: Kind.NAME, value: 'notification' },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'id' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: ID_VARIABLE } } }],
    selectionSet: field.selectionSet,
  };
  const live = operationOf('NotificationAdded', [variable(ID_VARIABLE, 'ID', true), ...definitions], [liveField], fragmentList);

  const replayField: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: FEED_ALIAS },
    name: { kind: Kind.NAME, value: 'notificationFeed' },
    arguments: [
      { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'after' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: AFTER_VARIABLE } } },
      { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'first' }, value: { kind: Kind.INT, value: '100' } },
    ],
    selectionSet: selections([
      plainField('endCursor'),
      plainField('hasMore'),
      {
        ...plainField('nodes'),
        selectionSet: selections([plainField('id', NODE_ID_ALIAS), plainField('cursor', NODE_CURSOR_ALIAS), ...field.selectionSet.selections]),
      },
    ]),
  };
  const replay = operationOf('NotificationReplay', [variable(AFTER_VARIABLE, 'String', false), ...definitions], [replayField], fragmentList);

  const liveQuery = print(live);
  return {
    responseKey,
    liveQuery,
    replayQuery: print(replay),
    variables,
    key: `${liveQuery}\n${stableJson(variables)}`,
    perReader: readsPerReaderField(schema, live),
  };
}

/** The variables of a live delegated query for one notification. */
export function liveVariables(plan: DelegationPlan, notificationId: string): Record<string, unknown> {
  return { ...plan.variables, [ID_VARIABLE]: notificationId };
}

/** The variables of a replay page after `after`. */
export function replayVariables(plan: DelegationPlan, after: string | null): Record<string, unknown> {
  return { ...plan.variables, [AFTER_VARIABLE]: after };
}

/**
 * What the subgraphs' answer to a delegated query depends on for this reader: who they
 * are as far as visibility goes (kind, role, company, profile), plus the reader itself
 * when the selection has per-reader fields or the notification reached them by name.
 */
export function permissionScope(identity: Identity, includeUser: boolean): string {
  const base = `${identity.kind}|${identity.role}|${identity.companyId ?? ''}|${identity.profileId ?? ''}`;
  return includeUser ? `${base}|${identity.userId}` : base;
}

/** The audience entries an identity answers to (see the notifications contract). */
export function audienceEntries(identity: Identity): string[] {
  const entries = [`user:${identity.userId}`];
  if (identity.role === 'ADMIN') entries.push('admins');
  if (identity.role === 'MANAGER' && identity.companyId) entries.push(`managers:${identity.companyId}`);
  if (identity.kind === 'profile' && identity.profileId) entries.push(`profile:${identity.profileId}`);
  return entries;
}

function readsPerReaderField(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && PER_READER_FIELDS.has(`${parent.name}.${node.name.value}`)) found = true;
      },
    }),
  );
  return found;
}

function operationOf(name: string, variableDefinitions: VariableDefinitionNode[], fields: FieldNode[], fragments: FragmentDefinitionNode[]): DocumentNode {
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: 'query' as OperationDefinitionNode['operation'],
    name: { kind: Kind.NAME, value: name },
    variableDefinitions,
    directives: [],
    selectionSet: selections(fields),
  };
  return { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
}

function variable(name: string, type: string, required: boolean): VariableDefinitionNode {
  const named = { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: type } } as const;
  return {
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
    type: required ? { kind: Kind.NON_NULL_TYPE, type: named } : named,
  };
}

function plainField(name: string, alias?: string): FieldNode {
  return { kind: Kind.FIELD, name: { kind: Kind.NAME, value: name }, ...(alias ? { alias: { kind: Kind.NAME, value: alias } } : {}) };
}

function selections(list: readonly SelectionSetNode['selections'][number][]): SelectionSetNode {
  return { kind: Kind.SELECTION_SET, selections: list };
}

/** JSON with object keys sorted, so equal variables give equal keys. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
