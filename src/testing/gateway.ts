import { installDemoAccess } from '../access/demo.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/index.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway/server.ts';
import { mapRoute } from '../map/route.ts';
import { ogcRoute, tilesRoute } from '../ogc/index.ts';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  extensions?: Record<string, unknown>;
}

/** A gateway over a test database, with the demo principals installed; requests go in-process. */
export async function testGateway(db: Database, options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  await installDemoAccess(db);
  return createGateway({
    db,
    config: { ...loadConfig({}), mode: 'test' },
    routes: [ogcRoute(), tilesRoute(), mapRoute()],
    ...options,
  });
}

export async function gql<T = Record<string, any>>(
  gateway: Gateway,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T> & { status: number }> {
  const response = await gateway.fetch('http://govbase.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as GraphQLResponse<T>) };
}

/** Headers for a demo API key, with an optional declared purpose. */
export function asKey(key: string, purpose?: string): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...(purpose ? { 'x-purpose': purpose } : {}) };
}
