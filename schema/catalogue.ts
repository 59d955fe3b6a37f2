import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * The field catalogue: every column of every table declares, once, how it is classified and shared.
 * The GraphQL layer, masking, the audit log, the data-resource catalogue and exports all read these
 * entries; nothing else decides who may see a value.
 *
 * Levels follow the national data classification practice (GB/T 43697-2024 and the personal
 * information protection law), narrowed to what a base registry needs:
 *  1 public      公开      — may be opened to anyone
 *  2 internal    内部      — government use by any department with a grant on the dataset
 *  3 restricted  受限      — personal information, trade secrets
 *  4 sensitive   敏感      — sensitive personal information (ID numbers, phones, precise location)
 */
export const LEVELS = { public: 1, internal: 2, restricted: 3, sensitive: 4 } as const;
export type LevelName = keyof typeof LEVELS;
export type Level = (typeof LEVELS)[LevelName];

/** Sharing class of the government data-sharing rules: 无条件共享 / 有条件共享 / 不予共享. */
export type Share = 'unconditional' | 'conditional' | 'none';

/** How a value is reduced when a caller may see only its shape (see src/access/masking.ts). */
export type MaskRule =
  | 'none' // cannot be masked: the caller sees it in clear or not at all
  | 'idNumber' // 110101********1234
  | 'phone' // 138****5678
  | 'name' // 张**
  | 'address' // cut to the county
  | 'point' // snapped to a 0.01° grid (≈1 km)
  | 'date' // year only
  | 'redact'; // a fixed '***'

/**
 * Kinds of values kept encrypted at rest. Each names how a value is normalised for its blind index, and
 * columns of one kind share the blind-index domain, so they join on it (a legal representative's ID
 * number on persons' ID numbers).
 */
export type AtRestKind = 'citizenId' | 'phone' | 'address';

/**
 * Stored encrypted (SM4-CBC + HMAC-SM3, src/crypto/at-rest.ts), with a `<column>_bidx` blind index beside
 * it: a keyed HMAC-SM3 of the normalised value, for exact-match lookups and for telling whether a value
 * really changed (ciphertexts differ on every write). SQL sees neither the value nor its shape, so a blank
 * value is stored as NULL.
 */
export interface AtRest {
  encrypt: true;
  kind: AtRestKind;
}

export interface FieldEntry {
  level: LevelName;
  share: Share;
  mask: MaskRule;
  description: string;
  /** Sensitive personal information under PIPL art. 28: subjects recorded in the audit. */
  sensitivePersonal?: boolean;
  /**
   * Encrypted at rest. Declared per field rather than derived from `sensitivePersonal`: geometry (residence
   * points) stays a geometry for the spatial queries and is protected by masking, while a precise address
   * that is only 'restricted' (the hukou address) is still encrypted. A test holds every sensitive text
   * field to it.
   */
  atRest?: AtRest;
  /** May appear in open-data exports (only ever for public fields). */
  open?: boolean;
  /**
   * The line of business (department kind, e.g. public_security) that is the authoritative source of the
   * field: an import or correction from another kind of department may not change a value it holds
   * (rejectLowerAuthority in src/ingest/import/merge.ts). Declared with `authoritative(...)` next to the dataset.
   */
  authority?: string;
}

export type RegistryName = 'population' | 'legal-entity' | 'spatial' | 'governance';

export interface DatasetMeta {
  /** Stable id used by grants, the audit log and the catalogue, e.g. 'population.persons'. */
  id: string;
  name: string;
  description: string;
  registry: RegistryName;
  /** The department code responsible for the data (the authoritative source). */
  owner: string;
  updateFrequency: 'realtime' | 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly' | 'static';
}

type ColumnsOf<T extends PgTable> = T['_']['columns'];

/** A column entry for each column of the table: a missing entry is a compile error. */
export type FieldCatalogue<T extends PgTable> = { [K in keyof ColumnsOf<T>]: FieldEntry };

export interface Dataset<T extends PgTable = PgTable, D extends string = string> extends DatasetMeta {
  table: T;
  fields: FieldCatalogue<T>;
  /** Values derived from columns (age from birth date, …), classified like columns. */
  derived: Record<D, FieldEntry>;
}

export function dataset<T extends PgTable, D extends string = never>(
  table: T,
  meta: DatasetMeta,
  fields: FieldCatalogue<T>,
  derived: Record<D, FieldEntry> = {} as Record<D, FieldEntry>,
): Dataset<T, D> {
  return { ...meta, table, fields, derived };
}

/**
 * The field entries with `authority` set on the named fields: the conflict policy between sources, declared
 * once next to the catalogue, e.g. `authoritative(personFields, 'public_security', ['name', 'idNumber'])`.
 */
export function authoritative<F extends Record<string, FieldEntry>>(
  fields: F,
  departmentKind: string,
  names: readonly (keyof F & string)[],
): F {
  const out: Record<string, FieldEntry> = { ...fields };
  for (const name of names) out[name] = { ...fields[name]!, authority: departmentKind };
  return out as F;
}

/** Short-hands for the common combinations, so the catalogues read as tables. */
export const f = {
  publicOpen: (description: string): FieldEntry => ({
    level: 'public',
    share: 'unconditional',
    mask: 'none',
    description,
    open: true,
  }),
  internal: (description: string): FieldEntry => ({
    level: 'internal',
    share: 'unconditional',
    mask: 'none',
    description,
  }),
  restricted: (description: string, mask: MaskRule = 'none', share: Share = 'unconditional'): FieldEntry => ({
    level: 'restricted',
    share,
    mask,
    description,
  }),
  sensitive: (description: string, mask: MaskRule, share: Share = 'conditional'): FieldEntry => ({
    level: 'sensitive',
    share,
    mask,
    description,
    sensitivePersonal: true,
  }),
  /** Platform bookkeeping (source, timestamps): internal, shared without conditions. */
  meta: (description: string): FieldEntry => ({
    level: 'internal',
    share: 'unconditional',
    mask: 'none',
    description,
  }),
  /** The same entry, stored encrypted at rest with a blind index of the given kind. */
  encrypted: (entry: FieldEntry, kind: AtRestKind): FieldEntry => ({
    ...entry,
    atRest: { encrypt: true, kind },
  }),
  /** The blind-index column beside an encrypted one: keyed HMAC-SM3, never served. */
  blindIndex: (of: string): FieldEntry => ({
    level: 'sensitive',
    share: 'none',
    mask: 'none',
    description: `Blind index of ${of} (keyed HMAC-SM3 of the normalised value): exact-match lookups`,
  }),
  /** Not shared outside the platform (credentials, audit internals). */
  closed: (description: string): FieldEntry => ({
    level: 'sensitive',
    share: 'none',
    mask: 'none',
    description,
  }),
};
