import { GraphQLError } from 'graphql';

/**
 * Every error a client may see: a stable code in `extensions.code`, an HTTP status for non-GraphQL
 * endpoints, and a message that names the offending input. Anything else is masked by the gateway as
 * INTERNAL_SERVER_ERROR.
 */
export const ERROR_CODES = {
  INVALID_ID_NUMBER: 400,
  INVALID_DIVISION_CODE: 400,
  INVALID_USCC: 400,
  INVALID_GEOMETRY: 400,
  INVALID_ARGUMENT: 400,
  INVALID_CURSOR: 400,
  PAGE_SIZE_TOO_LARGE: 400,
  QUERY_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN_FIELD: 403,
  FORBIDDEN_DATASET: 403,
  FORBIDDEN_FILTER: 403,
  FORBIDDEN: 403,
  PURPOSE_REQUIRED: 403,
  PURPOSE_NOT_APPROVED: 403,
  OUT_OF_JURISDICTION: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  AUDIT_UNAVAILABLE: 503,
  ATTRIBUTE_UNKNOWN: 400,
  ATTRIBUTE_RETIRED: 400,
  INVALID_ATTRIBUTE_VALUE: 400,
  INVALID_ATTRIBUTE_DEFINITION: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GovError extends GraphQLError {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details, http: { status: ERROR_CODES[code] } } });
    this.code = code;
    this.status = ERROR_CODES[code];
    this.name = 'GovError';
  }
}

export const errors = {
  invalidIdNumber: (argument: string, reason: string) =>
    new GovError('INVALID_ID_NUMBER', `Argument '${argument}' is not a valid citizen ID number: ${reason}`, {
      argument,
    }),
  invalidDivisionCode: (argument: string, value: string, reason: string) =>
    new GovError(
      'INVALID_DIVISION_CODE',
      `Argument '${argument}' ('${value}') is not a known division: ${reason}`,
      {
        argument,
      },
    ),
  invalidUscc: (argument: string, value: string, reason: string) =>
    new GovError(
      'INVALID_USCC',
      `Argument '${argument}' ('${value}') is not a valid unified social credit code: ${reason}`,
      { argument },
    ),
  invalidArgument: (argument: string, reason: string) =>
    new GovError('INVALID_ARGUMENT', `Argument '${argument}' ${reason}`, { argument }),
  invalidCursor: (argument: string) =>
    new GovError('INVALID_CURSOR', `Argument '${argument}' is not a cursor this server issued`, { argument }),
  pageSizeTooLarge: (argument: string, requested: number, max: number) =>
    new GovError(
      'PAGE_SIZE_TOO_LARGE',
      `Argument '${argument}' is ${requested}; the maximum page size is ${max}`,
      {
        argument,
        max,
      },
    ),
  forbiddenField: (path: string, reason: string) =>
    new GovError('FORBIDDEN_FIELD', `Field '${path}' is not readable: ${reason}`, { field: path }),
  forbiddenFilter: (argument: string, field: string) =>
    new GovError(
      'FORBIDDEN_FILTER',
      `Argument '${argument}' filters on '${field}', which this principal may not read in clear`,
      { argument, field },
    ),
  forbiddenDataset: (dataset: string) =>
    new GovError('FORBIDDEN_DATASET', `No grant to read dataset '${dataset}'`, { dataset }),
  purposeRequired: (path: string) =>
    new GovError(
      'PURPOSE_REQUIRED',
      `Field '${path}' is conditional data: declare a purpose (X-Purpose header)`,
      {
        field: path,
      },
    ),
  purposeNotApproved: (path: string, purpose: string) =>
    new GovError('PURPOSE_NOT_APPROVED', `Field '${path}' may not be read for purpose '${purpose}'`, {
      field: path,
      purpose,
    }),
  outOfJurisdiction: (what: string) =>
    new GovError('OUT_OF_JURISDICTION', `${what} lies outside this department's jurisdiction`),
  notFound: (what: string) => new GovError('NOT_FOUND', `${what} was not found`),
  unauthenticated: (reason: string) => new GovError('UNAUTHENTICATED', `Credentials rejected: ${reason}`),
  queryTooComplex: (reason: string) =>
    new GovError('QUERY_TOO_COMPLEX', `Query rejected before execution: ${reason}`),
  auditUnavailable: () =>
    new GovError(
      'AUDIT_UNAVAILABLE',
      'The access could not be audited, so no data is returned; try again later',
    ),
};
