import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  type GraphQLNamedType,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type SelectionNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';

/** Limits checked before execution; a query over any of them is rejected with QUERY_TOO_COMPLEX. */
export interface QueryLimits {
  /** Deepest selection nesting. @default 14 */
  maxDepth: number;
  /** Aliased fields in one document. @default 30 */
  maxAliases: number;
  /** Estimated cost: each field costs 1 × the page sizes of the lists around it. @default 250000 */
  maxCost: number;
  /** Page size assumed for a list without `first`. @default 20 */
  defaultListSize: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 14,
  maxAliases: 30,
  maxCost: 250_000,
  defaultListSize: 20,
};

function tooComplex(message: string): GraphQLError {
  return new GraphQLError(`Query rejected before execution: ${message}`, {
    extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
  });
}

function intArgument(field: FieldNode, name: string, variables: Record<string, unknown>): number | undefined {
  const arg = field.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  const value: ValueNode = arg.value;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' ? v : undefined;
  }
  return undefined;
}

/**
 * One validation rule for depth, aliases and cost. Fragments are expanded as they are met, so a query
 * cannot hide its size in them; fragment cycles are already rejected by the standard rules.
 */
export function queryLimitsRule(limits: QueryLimits, variables: () => Record<string, unknown>) {
  return (context: ValidationContext): ASTVisitor => {
    const document = context.getDocument();
    const fragments = new Map(
      document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    );
    let aliases = 0;
    let reported = false;
    const report = (error: GraphQLError) => {
      if (!reported) context.reportError(error);
      reported = true;
    };

    const schema = context.getSchema();

    // `pageSize` is the `first` of the nearest connection above: the next list below it has that many items.
    const walk = (
      selections: readonly SelectionNode[],
      parent: GraphQLNamedType | undefined,
      depth: number,
      multiplier: number,
      pageSize: number | undefined,
      seen: Set<string>,
    ): number => {
      if (depth > limits.maxDepth) {
        report(tooComplex(`depth exceeds ${limits.maxDepth}`));
        return 0;
      }
      let cost = 0;
      for (const selection of selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.alias) aliases++;
          cost += multiplier;
          if (!selection.selectionSet) continue;
          const definition =
            parent && (isObjectType(parent) || isInterfaceType(parent))
              ? parent.getFields()[selection.name.value]
              : undefined;
          const returns = definition ? getNullableType(definition.type) : undefined;
          const first = intArgument(selection, 'first', variables()) ?? pageSize;
          const isList = returns !== undefined && isListType(returns);
          const size = isList ? (first ?? limits.defaultListSize) : 1;
          cost += walk(
            selection.selectionSet.selections,
            definition ? getNamedType(definition.type) : undefined,
            depth + 1,
            multiplier * Math.max(1, size),
            isList ? undefined : first,
            seen,
          );
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const typed = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          cost += walk(selection.selectionSet.selections, typed ?? parent, depth, multiplier, pageSize, seen);
        } else {
          const fragment = fragments.get(selection.name.value);
          if (fragment && !seen.has(fragment.name.value)) {
            const typed = schema.getType(fragment.typeCondition.name.value) ?? parent;
            cost += walk(
              fragment.selectionSet.selections,
              typed,
              depth,
              multiplier,
              pageSize,
              new Set([...seen, fragment.name.value]),
            );
          }
        }
      }
      return cost;
    };

    return {
      OperationDefinition(node) {
        const root =
          node.operation === 'query'
            ? schema.getQueryType()
            : node.operation === 'mutation'
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        const cost = walk(node.selectionSet.selections, root ?? undefined, 1, 1, undefined, new Set());
        if (aliases > limits.maxAliases)
          report(tooComplex(`${aliases} aliases, the maximum is ${limits.maxAliases}`));
        if (cost > limits.maxCost) report(tooComplex(`estimated cost ${cost} exceeds ${limits.maxCost}`));
      },
    };
  };
}
