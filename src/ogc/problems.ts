import { type ErrorCode, errors, GovError } from '../errors.ts';

/**
 * Errors of the OGC and tile endpoints. Most are the shared GovErrors (stable codes, HTTP status); the few
 * statuses that only exist on these HTTP endpoints (406, 405) are OgcProblems. Both become the JSON body
 * `{ code, description }` that OGC API – Features asks for.
 */
export class OgcProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OgcProblem';
  }
}

export const problems = {
  notAcceptable: (offered: readonly string[]) =>
    new OgcProblem(
      406,
      'NOT_ACCEPTABLE',
      `None of the requested formats is available here; this resource is offered as ${offered.join(', ')} (f=json or f=html)`,
    ),
  methodNotAllowed: (method: string) =>
    new OgcProblem(
      405,
      'METHOD_NOT_ALLOWED',
      `Method ${method} is not allowed; these endpoints are read-only (GET)`,
    ),
  /** 400 naming the parameter: `Argument 'limit' must be …`. */
  badParameter: (parameter: string, reason: string) => errors.invalidArgument(parameter, reason),
  unknownParameter: (parameter: string, allowed: readonly string[]) =>
    errors.invalidArgument(parameter, `is not a parameter of this resource (allowed: ${allowed.join(', ')})`),
  collectionNotFound: (id: string) => errors.notFound(`Collection '${id}'`),
  featureNotFound: (collection: string, id: string) =>
    errors.notFound(`Feature '${id}' in collection '${collection}'`),
  notFound: (path: string) => errors.notFound(`Resource '${path}'`),
};

export interface ProblemBody {
  code: string;
  description: string;
}

/** Turns anything thrown by a handler into the problem response; unexpected errors are masked. */
export function problemResponse(error: unknown): Response {
  let status = 500;
  let body: ProblemBody = { code: 'INTERNAL_SERVER_ERROR', description: 'Unexpected error.' };
  if (error instanceof GovError) {
    status = error.status;
    body = { code: error.code as ErrorCode, description: error.message };
  } else if (error instanceof OgcProblem) {
    status = error.status;
    body = { code: error.code, description: error.message };
  } else {
    console.error('internal error:', error);
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });
}
