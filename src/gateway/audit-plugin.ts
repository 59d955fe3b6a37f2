import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { GraphQLError, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuditLog } from '../access/audit.ts';
import { sm3Hex } from '../access/sm3.ts';
import { errors } from '../errors.ts';
import type { GatewayContext } from './context.ts';

function operationName(args: ExecutionArgs): string | null {
  if (args.operationName) return args.operationName;
  const operation = args.document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return operation && operation.kind === Kind.OPERATION_DEFINITION ? (operation.name?.value ?? null) : null;
}

/**
 * Every GraphQL execution appends an audit record before its result leaves the server; when the record
 * cannot be written, the data is withheld and the client gets AUDIT_UNAVAILABLE.
 */
export function useAccessAudit(audit: AuditLog | null): Plugin<GatewayContext> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (!audit) return;
      setExecuteFn(async (executionArgs: ExecutionArgs) => {
        const result = (await executeFn(executionArgs)) as ExecutionResult;
        const context = executionArgs.contextValue as GatewayContext;
        const { principal, report } = context.access;
        // A request whose every top-level field came back null returned nothing: that is an error, not partial.
        const returnedSomething =
          !!result.data && Object.values(result.data).some((value) => value !== null && value !== undefined);
        const outcome = !result.errors?.length ? 'ok' : returnedSomething ? 'partial' : 'error';
        try {
          await audit.append({
            principal: principal.id,
            departmentCode: principal.department?.code ?? null,
            purpose: principal.purpose,
            channel: 'graphql',
            operation: operationName(executionArgs),
            documentHash: sm3Hex(executionArgs.document.loc?.source.body ?? ''),
            fields: report.fields,
            rowCounts: report.rows,
            subjects: [...report.subjects].sort(),
            outcome,
          });
        } catch (error) {
          console.error('audit write failed; response withheld', (error as Error).message);
          return { errors: [errors.auditUnavailable()] } satisfies ExecutionResult;
        }
        return result;
      });
      void args;
    },
  };
}

export function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof GraphQLError;
}
