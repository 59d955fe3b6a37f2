import { randomBytes, timingSafeEqual } from 'node:crypto';
import { importSPKI, type JWTPayload, jwtVerify } from 'jose';
import { parseIdNumber } from '../codes/index.ts';
import type { Queryable } from '../db/index.ts';
import { errors } from '../errors.ts';
import {
  type Department,
  type Grant,
  type Principal,
  PUBLIC_PRINCIPAL,
  scopeFromPrefix,
} from './principal.ts';
import { sm3Hex } from './sm3.ts';

export const API_KEY_PREFIX = 'gbk_';

export interface JwtSettings {
  /** HS256 shared secret (GOVBASE_JWT_SECRET). */
  secret?: string;
  /** PEM SPKI public key (GOVBASE_JWT_PUBLIC_KEY) for RS256 / ES256 / EdDSA. */
  publicKeyPem?: string;
  /** Expected issuer (GOVBASE_JWT_ISSUER). */
  issuer?: string;
}

/** A new API key: the secret is shown once; only its SM3 hash and its prefix are stored. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = `${API_KEY_PREFIX}${randomBytes(6).toString('hex')}`;
  const key = `${prefix}_${randomBytes(24).toString('base64url')}`;
  return { key, prefix, hash: sm3Hex(key) };
}

/**
 * The public prefix of a key: `gbk_<id>`, up to the second underscore. The secret after it is base64url and
 * may itself contain underscores, so the prefix is never found by the last one.
 */
export function apiKeyPrefix(token: string): string {
  const cut = token.indexOf('_', API_KEY_PREFIX.length);
  return cut > 0 ? token.slice(0, cut) : token;
}

interface CachedPrincipal {
  principal: Principal;
  expires: number;
}

/**
 * Turns a request's credentials into a principal. A missing credential is the public principal; a bad
 * one is an error, never a silent downgrade. Principals are cached briefly (GOVBASE_AUTH_CACHE_MS) so a
 * by-ID lookup does not pay for three extra statements; a revocation takes effect within that time.
 */
export class Authenticator {
  private readonly cache = new Map<string, CachedPrincipal>();

  constructor(
    private readonly db: Queryable,
    private readonly jwt: JwtSettings = {},
    private readonly cacheMs = 30_000,
  ) {}

  async authenticate(headers: Headers): Promise<Principal> {
    const purpose = headers.get('x-purpose')?.trim() || null;
    const authorization = headers.get('authorization');
    const apiKeyHeader = headers.get('x-api-key');
    let token: string | null = apiKeyHeader?.trim() || null;
    if (!token && authorization) {
      const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
      if (!match) throw errors.unauthenticated('Authorization header must be "Bearer <token>"');
      token = match[1]!.trim();
    }
    if (!token) return purpose ? { ...PUBLIC_PRINCIPAL, purpose } : PUBLIC_PRINCIPAL;
    const base = await this.cached(token);
    return { ...base, purpose };
  }

  /** Forget cached principals (after a grant or key change made in this process). */
  invalidate(): void {
    this.cache.clear();
  }

  private async cached(token: string): Promise<Principal> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.expires > now) return hit.principal;
    const principal = token.startsWith(API_KEY_PREFIX)
      ? await this.fromApiKey(token)
      : await this.fromJwt(token);
    const expiresAt =
      principal.kind === 'user' ? Math.min(now + this.cacheMs, now + 60_000) : now + this.cacheMs;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal, expires: expiresAt });
    return principal;
  }

  private async fromApiKey(token: string): Promise<Principal> {
    const prefix = apiKeyPrefix(token);
    const [row] = await this.db.query<{
      key_hash: string;
      department_code: string;
      roles: string[];
      expired: boolean;
      revoked: boolean;
    }>(
      `SELECT key_hash, department_code, roles, (expires_at IS NOT NULL AND expires_at <= now()) AS expired,
              revoked_at IS NOT NULL AS revoked
         FROM api_keys WHERE prefix = $1`,
      [prefix],
    );
    const presented = Buffer.from(sm3Hex(token), 'hex');
    if (!row || !timingSafeEqual(presented, Buffer.from(row.key_hash, 'hex'))) {
      throw errors.unauthenticated('unknown API key');
    }
    if (row.revoked) throw errors.unauthenticated(`API key ${prefix} has been revoked`);
    if (row.expired) throw errors.unauthenticated(`API key ${prefix} has expired`);
    return this.forDepartment(`key:${prefix}`, 'application', row.department_code, row.roles, null);
  }

  private async fromJwt(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      payload = await this.verifyJwt(token);
    } catch (error) {
      throw errors.unauthenticated(`invalid token (${(error as Error).message})`);
    }
    const dept = payload.dept;
    let subjectIdNumber: string | undefined;
    if (payload.idn !== undefined) {
      const parsed = typeof payload.idn === 'string' ? parseIdNumber(payload.idn) : null;
      if (!parsed?.ok) throw errors.unauthenticated('token claim idn is not a valid citizen ID number');
      subjectIdNumber = parsed.value.idNumber;
    }
    if (!payload.sub || (typeof dept !== 'string' && !subjectIdNumber))
      throw errors.unauthenticated('token lacks the sub and dept claims');
    const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
    const purposes = Array.isArray(payload.purposes) ? new Set(payload.purposes.map(String)) : null;
    const id = `jwt:${payload.sub}`;
    if (typeof dept !== 'string') {
      // A person speaking for themself (a citizen portal token): no department, so no grants and no
      // jurisdiction; what they may read is decided by their identity (the access report), not by grants.
      return { ...PUBLIC_PRINCIPAL, id, kind: 'user', roles: new Set(roles), subjectIdNumber };
    }
    const principal = await this.forDepartment(id, 'user', dept, roles, purposes);
    return subjectIdNumber ? { ...principal, subjectIdNumber } : principal;
  }

  private async verifyJwt(token: string): Promise<JWTPayload> {
    const options = this.jwt.issuer ? { issuer: this.jwt.issuer } : {};
    if (this.jwt.secret) {
      try {
        return (await jwtVerify(token, new TextEncoder().encode(this.jwt.secret), options)).payload;
      } catch (error) {
        if (!this.jwt.publicKeyPem) throw error;
      }
    }
    if (this.jwt.publicKeyPem) {
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
        alg?: string;
      };
      const key = await importSPKI(this.jwt.publicKeyPem, header.alg ?? 'RS256');
      return (await jwtVerify(token, key, options)).payload;
    }
    throw new Error('no JWT verification key is configured');
  }

  private async forDepartment(
    id: string,
    kind: Principal['kind'],
    departmentCode: string,
    roles: string[],
    declarablePurposes: ReadonlySet<string> | null,
  ): Promise<Principal> {
    const rows = await this.db.query<{
      code: string;
      name: string;
      kind: string;
      admin_level: Department['adminLevel'];
      jurisdiction_code: string | null;
      prefix: string | null;
      dataset: string | null;
      max_level: number | null;
      purposes: string[] | null;
      can_write: boolean | null;
    }>(
      `SELECT d.code, d.name, d.kind, d.admin_level, d.jurisdiction_code, v.prefix,
              g.dataset, g.max_level, g.purposes, g.can_write
         FROM departments d
         LEFT JOIN divisions v ON v.code = d.jurisdiction_code
         LEFT JOIN grants g ON g.department_code = d.code AND g.valid_from <= now()
                           AND (g.valid_to IS NULL OR g.valid_to > now())
        WHERE d.code = $1`,
      [departmentCode],
    );
    const first = rows[0];
    if (!first) throw errors.unauthenticated(`department '${departmentCode}' is not registered`);
    if (first.jurisdiction_code && !first.prefix) {
      throw errors.unauthenticated(`department '${departmentCode}' has an unknown jurisdiction`);
    }
    const grants = new Map<string, Grant>();
    for (const row of rows) {
      if (!row.dataset || row.max_level === null) continue;
      // Several grants on one dataset combine: the highest level, the union of purposes.
      const previous = grants.get(row.dataset);
      const purposes = new Set([...(previous?.purposes ?? []), ...(row.purposes ?? [])]);
      const allowedPurposes = declarablePurposes
        ? new Set([...purposes].filter((p) => declarablePurposes.has(p)))
        : purposes;
      grants.set(row.dataset, {
        maxLevel: Math.max(previous?.maxLevel ?? 0, row.max_level),
        purposes: allowedPurposes,
        canWrite: (previous?.canWrite ?? false) || !!row.can_write,
      });
    }
    return {
      id,
      kind,
      department: {
        code: first.code,
        name: first.name,
        kind: first.kind,
        adminLevel: first.admin_level,
        jurisdictionCode: first.jurisdiction_code,
      },
      roles: new Set(roles),
      grants,
      purpose: null,
      declarablePurposes,
      scope:
        first.jurisdiction_code && first.prefix
          ? scopeFromPrefix(first.jurisdiction_code, first.prefix)
          : null,
    };
  }
}
