import type { IncomingMessage, ServerResponse } from 'node:http';
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
}

export interface Gateway {
  yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>;
  authenticator: Authenticator;
  audit: AuditLog | null;
  /** Node http handler: /health, /ready and /graphql. */
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

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/ready') {
      void ready().then((ok) =>
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ready: ok })),
      );
      return;
    }
    void yoga(req, res);
  }

  return {
    yoga,
    authenticator,
    audit,
    handle,
    fetch: async (url, init) => yoga.fetch(url as unknown as URL, init ?? {}),
  };
}
