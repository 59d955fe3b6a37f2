import { DATASETS } from '../../schema/datasets.ts';
import { PURPOSES } from '../../src/access/demo.ts';
import type { Principal } from '../../src/access/principal.ts';
import type { Database } from '../../src/db/index.ts';
import type { Gateway } from '../../src/gateway/server.ts';

export interface BenchContext {
  db: Database;
  /** The gateway as deployed: authentication, access decisions, audit. */
  gateway: Gateway;
  /** The same gateway with a principal allowed everything and no audit: the cost baseline. */
  gatewayOpen: Gateway;
  persons: number;
  quick: boolean;
  post(
    gateway: Gateway,
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string>,
  ): Promise<unknown>;
}

/** A principal whose every decision is ALLOW, with no jurisdiction: access work is reduced to nothing. */
export function allowAllPrincipal(): Principal {
  const purposes = new Set<string>(PURPOSES.map((p) => p.code));
  return {
    id: 'system:bench',
    kind: 'system',
    department: {
      code: 'PLATFORM',
      name: 'bench',
      kind: 'platform',
      adminLevel: 'national',
      jurisdictionCode: null,
    },
    roles: new Set(['steward']),
    grants: new Map(DATASETS.map((d) => [d.id, { maxLevel: 4, purposes, canWrite: true }])),
    purpose: 'data_governance',
    declarablePurposes: null,
    scope: null,
  };
}

export async function post(
  gateway: Gateway,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<unknown> {
  const response = await gateway.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`bench query failed: ${body.errors[0]!.message}`);
  return body;
}
