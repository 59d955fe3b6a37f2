import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { AuditLog } from '../access/audit.ts';
import { Authenticator, type JwtSettings } from '../access/authenticate.ts';
import type { Principal } from '../access/principal.ts';
import { RequestAccess } from '../access/request-access.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/index.ts';
import { GovError } from '../errors.ts';
import { useAccessAudit } from './audit-plugin.ts';
import { type GatewayContext, Loaders } from './context.ts';
import { DEFAULT_LIMITS, type QueryLimits, queryLimitsRule } from './limits.ts';
import { buildSchema } from './schema.ts';

export interface GatewayOptions {
  db: Database;
  config: Config;
  jwt?: JwtSettings;
  limits?: Partial<QueryLimits>;
  /** Append an audit record per request (the default). Off only in benchmarks that measure its cost. */
  audit?: boolean;
  /** Benchmarks only: every request runs as this principal, bypassing authentication. */
  fixedPrincipal?: Principal;
  /** Endpoint families beside /graphql. */
  routes?: Route[];
}

/**
 * An HTTP endpoint family mounted beside /graphql (OGC API, tiles, map, open data). It gets the shared
 * services and answers fetch-style, so tests call it in-process like the GraphQL endpoint.
 */
export interface Route {
  /** Path prefix, e.g. '/ogc'. */
  prefix: string;
  handle(request: Request, services: GatewayServices): Promise<Response>;
}

export interface GatewayServices {
  db: Database;
  config: Config;
  authenticator: Authenticator;
  audit: AuditLog | null;
  /** The principal of a request (authentication errors are thrown as GovError UNAUTHENTICATED). */
  principalOf(request: Request): Promise<Principal>;
}

export interface Gateway extends GatewayServices {
  yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>;
  /** Node http handler for every route. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** In-process fetch, for tests: no port needed. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

function useQueryLimits(limits: QueryLimits, production: boolean): Plugin<GatewayContext> {
  return {
    onValidate({ addValidationRule, context }) {
      const params = (context as { params?: { variables?: Record<string, unknown> } }).params;
      addValidationRule(queryLimitsRule(limits, () => params?.variables ?? {}));
      if (production) addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

export function createGateway(options: GatewayOptions): Gateway {
  const { db, config } = options;
  const production = config.mode === 'production';
  const authenticator = new Authenticator(db, options.jwt ?? {});
  const audit = options.audit === false ? null : new AuditLog(db);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    graphiql: !production,
    landingPage: false,
    logging: production ? 'warn' : 'info',
    maskedErrors: {
      // Typed errors (ours, and GraphQL's own parse and validation errors) pass; anything else is masked.
      maskError(error, message) {
        const original = (error as { originalError?: unknown }).originalError;
        if (original instanceof GovError) return error as Error;
        if (error instanceof GraphQLError && !original) return error;
        console.error('internal error:', original ?? error);
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    context: async ({ request }) => {
      const principal = options.fixedPrincipal ?? (await authenticator.authenticate(request.headers));
      return { db, config, access: new RequestAccess(principal), loaders: new Loaders() };
    },
    plugins: [useQueryLimits(limits, production), useAccessAudit(audit)],
  });

  async function ready(): Promise<boolean> {
    try {
      await db.query('SELECT 1 FROM divisions LIMIT 1');
      return true;
    } catch {
      return false;
    }
  }

  const services: GatewayServices = {
    db,
    config,
    authenticator,
    audit,
    principalOf: async (request) =>
      options.fixedPrincipal ?? (await authenticator.authenticate(request.headers)),
  };
  const routes = options.routes ?? [];

  async function route(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === '/health') return Response.json({ status: 'ok' });
    if (path === '/ready') {
      const ok = await ready();
      return Response.json({ ready: ok }, { status: ok ? 200 : 503 });
    }
    const mounted = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
    if (mounted) {
      try {
        return await mounted.handle(request, services);
      } catch (error) {
        if (error instanceof GovError) {
          return Response.json(
            { code: error.code, description: error.message },
            { status: error.status, headers: { 'content-type': 'application/problem+json' } },
          );
        }
        console.error('internal error:', error);
        return Response.json(
          { code: 'INTERNAL_SERVER_ERROR', description: 'Unexpected error.' },
          { status: 500 },
        );
      }
    }
    return yoga.fetch(request);
  }

  const adapter = createServerAdapter(route);

  return {
    ...services,
    yoga,
    handle: (req, res) => void adapter(req, res),
    fetch: async (url, init) => route(new Request(url, init)),
  };
}
