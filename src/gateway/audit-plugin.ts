import type { ExecutionArgs, ExecutionResult, FieldNode, OperationDefinitionNode } from 'graphql';
import { GraphQLError, getArgumentValues, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuditEntry, AuditLog } from '../access/audit.ts';
import type { AccessReport } from '../access/request-access.ts';
import { sm3Hex } from '../access/sm3.ts';
import { errors } from '../errors.ts';
import type { GatewayContext } from './context.ts';

function operationOf(args: ExecutionArgs): OperationDefinitionNode | undefined {
  const operations = args.document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return args.operationName ? operations.find((o) => o.name?.value === args.operationName) : operations[0];
}

function operationName(args: ExecutionArgs): string | null {
  return args.operationName ?? operationOf(args)?.name?.value ?? null;
}

/** The outcome of one result: a result whose every top-level field is null returned nothing (an error). */
function outcomeOf(result: ExecutionResult): AuditEntry['outcome'] {
  if (!result.errors?.length) return 'ok';
  const returnedSomething =
    !!result.data && Object.values(result.data).some((value) => value !== null && value !== undefined);
  return returnedSomething ? 'partial' : 'error';
}

function entryOf(
  args: ExecutionArgs,
  report: AccessReport,
  outcome: AuditEntry['outcome'],
): Omit<AuditEntry, 'arguments'> {
  const { principal } = (args.contextValue as GatewayContext).access;
  return {
    principal: principal.id,
    departmentCode: principal.department?.code ?? null,
    purpose: principal.purpose,
    channel: 'graphql',
    operation: operationName(args),
    documentHash: sm3Hex(args.document.loc?.source.body ?? ''),
    fields: report.fields,
    rowCounts: report.rows,
    subjects: [...report.subjects].sort(),
    outcome,
  };
}

/**
 * The arguments of a subscription's root field, as the resolver sees them (variables applied, defaults
 * filled). A subscription has exactly one root field; anything unexpected is recorded as raw variables.
 */
function subscriptionArguments(args: ExecutionArgs): Record<string, unknown> {
  const operation = operationOf(args);
  const root = operation?.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
  const field = root && args.schema.getSubscriptionType()?.getFields()[root.name.value];
  if (!root || !field) return { variables: args.variableValues ?? {} };
  try {
    return { field: root.name.value, ...getArgumentValues(field, root, args.variableValues ?? {}) };
  } catch {
    return { field: root.name.value, variables: args.variableValues ?? {} };
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

const unavailable = (): ExecutionResult => ({ errors: [errors.auditUnavailable()] });

/**
 * A subscription's stream with an audit record per delivered event, written before the event leaves. When
 * a record cannot be written the event is replaced by AUDIT_UNAVAILABLE and the stream ends. `return`
 * reaches the source at once (an SSE client that goes away must not wait for the next change).
 */
function auditedStream(
  source: AsyncIterable<ExecutionResult>,
  audit: (event: ExecutionResult) => Promise<boolean>,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let closed = false;
  const close = async (): Promise<IteratorResult<ExecutionResult>> => {
    closed = true;
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (closed) return { done: true, value: undefined };
      const next = await iterator.next();
      if (next.done) return next;
      if (await audit(next.value)) return next;
      await close();
      return { done: false, value: unavailable() };
    },
    return: close,
    async throw(error?: unknown) {
      await close();
      throw error;
    },
  };
}

/**
 * Every GraphQL execution appends an audit record before its result leaves the server; when the record
 * cannot be written, the data is withheld and the client gets AUDIT_UNAVAILABLE. A subscription is audited
 * when it is set up (principal, purpose, the root field's arguments, accepted or refused) and then once per
 * delivered event (what that event read), each record written before the event is sent.
 */
export function useAccessAudit(audit: AuditLog | null): Plugin<GatewayContext> {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      if (!audit) return;
      setExecuteFn(async (executionArgs: ExecutionArgs) => {
        // Announce the request so a batch being formed may wait briefly for its record (group commit).
        const slot = audit.slot();
        let result: ExecutionResult;
        try {
          result = (await executeFn(executionArgs)) as ExecutionResult;
        } catch (error) {
          slot.release();
          throw error;
        }
        const { report } = (executionArgs.contextValue as GatewayContext).access;
        try {
          await slot.append(entryOf(executionArgs, report, outcomeOf(result)));
        } catch (error) {
          console.error('audit write failed; response withheld', (error as Error).message);
          return unavailable();
        }
        return result;
      });
    },

    onSubscribe({ subscribeFn, setSubscribeFn }) {
      if (!audit) return;
      setSubscribeFn(async (subscriptionArgs: ExecutionArgs) => {
        const access = (subscriptionArgs.contextValue as GatewayContext).access;
        const setUp = (outcome: AuditEntry['outcome']) =>
          audit.append({
            ...entryOf(subscriptionArgs, access.takeReport(), outcome),
            arguments: subscriptionArguments(subscriptionArgs),
          });
        let result: Awaited<ReturnType<typeof subscribeFn>>;
        try {
          result = await subscribeFn(subscriptionArgs);
        } catch (error) {
          await setUp('error').catch(() => undefined);
          throw error;
        }
        if (!isAsyncIterable(result)) {
          // Refused at set-up (no grant, out of jurisdiction, bad cursor): recorded as such.
          try {
            await setUp('error');
          } catch (error) {
            console.error('audit write failed; response withheld', (error as Error).message);
            return unavailable();
          }
          return result;
        }
        let subscription: number;
        try {
          subscription = await setUp('ok');
        } catch (error) {
          console.error('audit write failed; subscription refused', (error as Error).message);
          await (result as AsyncIterableIterator<ExecutionResult>).return?.();
          return unavailable();
        }
        let event = 0;
        return auditedStream(result, async (value) => {
          event += 1;
          try {
            await audit.append({
              ...entryOf(subscriptionArgs, access.takeReport(), outcomeOf(value)),
              arguments: { subscription, event },
            });
            return true;
          } catch (error) {
            console.error('audit write failed; event withheld, subscription ended', (error as Error).message);
            return false;
          }
        });
      });
    },
  };
}

export function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof GraphQLError;
}
