/** Who is asking: a department's application (API key), a person (JWT), or nobody (public). */

export interface Department {
  code: string;
  name: string;
  kind: string;
  adminLevel: 'national' | 'province' | 'city' | 'county';
  jurisdictionCode: string | null;
}

export interface Grant {
  maxLevel: number;
  purposes: ReadonlySet<string>;
  canWrite: boolean;
}

/**
 * The rows a principal may see: division codes from `lo` to `hi` (the jurisdiction's code prefix padded
 * with 0s and 9s). Codes are digit strings, so the range holds under any collation. null = national.
 */
export interface JurisdictionScope {
  code: string;
  prefix: string;
  lo: string;
  hi: string;
}

export interface Principal {
  /** 'public', 'key:<prefix>', 'jwt:<sub>' or 'system:<name>': written to the audit log. */
  id: string;
  kind: 'public' | 'application' | 'user' | 'system';
  department: Department | null;
  roles: ReadonlySet<string>;
  grants: ReadonlyMap<string, Grant>;
  /** The purpose declared for this request (X-Purpose), if any. */
  purpose: string | null;
  /** Purposes this principal may declare at all (JWT claim); null = no restriction beyond grants. */
  declarablePurposes: ReadonlySet<string> | null;
  scope: JurisdictionScope | null;
  /** A person's own citizen ID number (JWT claim `idn`): whose data subject rights this principal holds. */
  subjectIdNumber?: string;
}

export function scopeFromPrefix(code: string, prefix: string): JurisdictionScope {
  return { code, prefix, lo: prefix, hi: prefix + '9'.repeat(12 - prefix.length) };
}

export const PUBLIC_PRINCIPAL: Principal = {
  id: 'public',
  kind: 'public',
  department: null,
  roles: new Set(),
  grants: new Map(),
  purpose: null,
  declarablePurposes: null,
  scope: null,
};

/**
 * True when the principal's jurisdiction covers the division code (national departments cover all; the
 * public and a person without a department — a citizen's own token — cover none).
 */
export function inScope(principal: Principal, divisionCode: string | null | undefined): boolean {
  const scope = principal.scope;
  if (!scope) return principal.kind !== 'public' && principal.department !== null;
  return !!divisionCode && divisionCode >= scope.lo && divisionCode <= scope.hi;
}
