import { userInfo } from 'node:os';
import { LEVELS, type LevelName } from '../../schema/catalogue.ts';
import { datasetById } from '../../schema/datasets.ts';
import { parseDivisionCode } from '../codes/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { newApiKey } from './authenticate.ts';

/**
 * Administration of who may read what: departments, purposes, API keys and grants. Every operation
 * validates all of its input before it writes, and writes with a single statement inside a transaction,
 * so a rejected command leaves nothing behind. `scripts/access.ts` is a thin command line over this
 * module; tests call it directly.
 *
 * A running gateway caches principals for GOVBASE_AUTH_CACHE_MS (30 s): a change made here takes
 * effect there within that time.
 */

/** A rejected command: bad input or a state that forbids it. The command line exits with code 2. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

export const ADMIN_LEVELS = ['national', 'province', 'city', 'county'] as const;
export type AdminLevel = (typeof ADMIN_LEVELS)[number];

const DEPARTMENT_CODE = /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$/;
const SNAKE_CODE = /^[a-z][a-z0-9_]*$/;
const KEY_PREFIX = /^gbk_[A-Za-z0-9]+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

// ---------------------------------------------------------------------------------------------------
// Validation helpers

function requireText(value: string | undefined, option: string, max = 200): string {
  const text = value?.trim() ?? '';
  if (!text) throw new AdminError(`--${option} is required`);
  if (text.length > max) throw new AdminError(`--${option} is longer than ${max} characters`);
  return text;
}

function requirePattern(value: string | undefined, option: string, pattern: RegExp, shape: string): string {
  const text = requireText(value, option, 64);
  if (!pattern.test(text)) throw new AdminError(`--${option} '${text}' is not valid: expected ${shape}`);
  return text;
}

/** A list option ('a,b'): trimmed, empty entries dropped, duplicates removed, each checked. */
export function parseList(
  value: string | undefined,
  option: string,
  pattern: RegExp,
  shape: string,
): string[] {
  if (value === undefined) return [];
  const items = [
    ...new Set(
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  for (const item of items) {
    if (!pattern.test(item)) throw new AdminError(`--${option}: '${item}' is not valid: expected ${shape}`);
  }
  return items;
}

/**
 * A date option: valid through the end of that day, Beijing time (UTC+8). Returns the instant it ends,
 * which must lie in the future.
 */
export function parseEndDate(value: string, option: string, now = new Date()): Date {
  const text = value.trim();
  const day = new Date(`${text}T00:00:00Z`);
  if (!ISO_DATE.test(text) || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== text) {
    throw new AdminError(`--${option} '${text}' is not a calendar date YYYY-MM-DD`);
  }
  const end = new Date(day.getTime() + 24 * 3600_000 - 8 * 3600_000);
  if (end <= now) throw new AdminError(`--${option} ${text} is already past`);
  return end;
}

function uniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

async function departmentExists(db: Queryable, code: string): Promise<boolean> {
  const [row] = await db.query<{ code: string }>('SELECT code FROM departments WHERE code = $1', [code]);
  return !!row;
}

async function requireDepartment(db: Queryable, value: string | undefined): Promise<string> {
  const code = requirePattern(value, 'department', DEPARTMENT_CODE, 'a code such as CA-110105');
  if (!(await departmentExists(db, code))) {
    throw new AdminError(`department '${code}' is not registered (see: departments list)`);
  }
  return code;
}

// ---------------------------------------------------------------------------------------------------
// Departments

export interface DepartmentInput {
  code?: string;
  name?: string;
  kind?: string;
  level?: string;
  jurisdiction?: string;
}

export interface DepartmentRow {
  code: string;
  name: string;
  kind: string;
  adminLevel: AdminLevel;
  jurisdictionCode: string | null;
  jurisdictionName: string | null;
  grants: number;
  keys: number;
}

/**
 * Registers a department. National departments have no jurisdiction; the others serve one current
 * division of their own level (a county department a county, …), which the divisions registry must know.
 */
export async function addDepartment(db: Database, input: DepartmentInput): Promise<DepartmentRow> {
  const code = requirePattern(input.code, 'code', DEPARTMENT_CODE, 'capitals, digits and dashes (CA-110105)');
  const name = requireText(input.name, 'name');
  const kind = requirePattern(
    input.kind,
    'kind',
    SNAKE_CODE,
    'a snake_case line of business (civil_affairs)',
  );
  const level = requireText(input.level, 'level') as AdminLevel;
  if (!ADMIN_LEVELS.includes(level)) {
    throw new AdminError(`--level '${level}' is not one of ${ADMIN_LEVELS.join(', ')}`);
  }
  const jurisdictionRaw = input.jurisdiction?.trim() || null;
  let jurisdiction: string | null = null;
  if (level === 'national') {
    if (jurisdictionRaw) throw new AdminError('--jurisdiction must be omitted for a national department');
  } else {
    if (!jurisdictionRaw) throw new AdminError(`--jurisdiction is required for a ${level} department`);
    const parsed = parseDivisionCode(jurisdictionRaw);
    if (!parsed.ok)
      throw new AdminError(`--jurisdiction '${jurisdictionRaw}' is not valid: ${parsed.message}`);
    jurisdiction = parsed.value.code;
  }
  return db.transaction(async (tx) => {
    if (jurisdiction) {
      const [division] = await tx.query<{ level: string; name: string; valid_to: string | null }>(
        'SELECT level, name, valid_to FROM divisions WHERE code = $1',
        [jurisdiction],
      );
      if (!division) {
        const [{ n } = { n: 0 }] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM divisions');
        throw new AdminError(
          n === 0
            ? `--jurisdiction ${jurisdiction}: the divisions registry is empty; start the service once to load the reference data`
            : `--jurisdiction ${jurisdiction} is not a division in the registry`,
        );
      }
      if (division.valid_to !== null) {
        throw new AdminError(
          `--jurisdiction ${jurisdiction} (${division.name}) was abolished on ${division.valid_to}`,
        );
      }
      if (division.level !== level) {
        throw new AdminError(
          `--jurisdiction ${jurisdiction} (${division.name}) is a ${division.level}, not a ${level}`,
        );
      }
    }
    if (await departmentExists(tx, code)) throw new AdminError(`department '${code}' already exists`);
    try {
      await tx.query(
        `INSERT INTO departments (code, name, kind, admin_level, jurisdiction_code, source_dept, source_batch)
         VALUES ($1, $2, $3, $4, $5, 'PLATFORM', 'access-cli')`,
        [code, name, kind, level, jurisdiction],
      );
    } catch (error) {
      if (uniqueViolation(error)) throw new AdminError(`department '${code}' already exists`);
      throw error;
    }
    const [row] = await listDepartmentsIn(tx, code);
    return row!;
  });
}

async function listDepartmentsIn(db: Queryable, code?: string): Promise<DepartmentRow[]> {
  return db.query<DepartmentRow>(
    `SELECT d.code, d.name, d.kind, d.admin_level AS "adminLevel", d.jurisdiction_code AS "jurisdictionCode",
            v.name AS "jurisdictionName",
            (SELECT count(*)::int FROM grants g WHERE g.department_code = d.code
                AND (g.valid_to IS NULL OR g.valid_to > now())) AS grants,
            (SELECT count(*)::int FROM api_keys k WHERE k.department_code = d.code AND k.revoked_at IS NULL
                AND (k.expires_at IS NULL OR k.expires_at > now())) AS keys
       FROM departments d LEFT JOIN divisions v ON v.code = d.jurisdiction_code
      ${code ? 'WHERE d.code = $1' : ''}
      ORDER BY d.code`,
    code ? [code] : [],
  );
}

export function listDepartments(db: Queryable): Promise<DepartmentRow[]> {
  return listDepartmentsIn(db);
}

// ---------------------------------------------------------------------------------------------------
// Purposes

export interface PurposeInput {
  code?: string;
  name?: string;
  legalBasis?: string;
}

export interface PurposeRow {
  code: string;
  name: string;
  legalBasis: string;
}

export async function addPurpose(db: Database, input: PurposeInput): Promise<PurposeRow> {
  const code = requirePattern(input.code, 'code', SNAKE_CODE, 'a snake_case code (social_assistance)');
  const name = requireText(input.name, 'name');
  const legalBasis = requireText(input.legalBasis, 'legal-basis', 500);
  return db.transaction(async (tx) => {
    const [existing] = await tx.query('SELECT 1 FROM purposes WHERE code = $1', [code]);
    if (existing) throw new AdminError(`purpose '${code}' already exists`);
    try {
      await tx.query('INSERT INTO purposes (code, name, legal_basis) VALUES ($1, $2, $3)', [
        code,
        name,
        legalBasis,
      ]);
    } catch (error) {
      if (uniqueViolation(error)) throw new AdminError(`purpose '${code}' already exists`);
      throw error;
    }
    return { code, name, legalBasis };
  });
}

export function listPurposes(db: Queryable): Promise<PurposeRow[]> {
  return db.query<PurposeRow>('SELECT code, name, legal_basis AS "legalBasis" FROM purposes ORDER BY code');
}

// ---------------------------------------------------------------------------------------------------
// API keys

export interface KeyInput {
  department?: string;
  application?: string;
  roles?: string;
  expires?: string;
}

export interface KeyRow {
  prefix: string;
  departmentCode: string;
  application: string;
  roles: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

/** Creates a key: the secret is returned once and never stored; the table keeps its prefix and SM3 hash. */
export async function createKey(
  db: Database,
  input: KeyInput,
  now = new Date(),
): Promise<{ key: string; row: KeyRow }> {
  const application = requireText(input.application, 'application', 100);
  const roles = parseList(input.roles, 'roles', SNAKE_CODE, 'snake_case role names (steward)');
  const expires = input.expires === undefined ? null : parseEndDate(input.expires, 'expires', now);
  return db.transaction(async (tx) => {
    const department = await requireDepartment(tx, input.department);
    const { key, prefix, hash } = newApiKey();
    await tx.query(
      `INSERT INTO api_keys (prefix, key_hash, department_code, application, roles, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [prefix, hash, department, application, roles, expires?.toISOString() ?? null],
    );
    const [row] = await listKeysIn(tx, prefix);
    return { key, row: row! };
  });
}

async function listKeysIn(db: Queryable, prefix?: string): Promise<KeyRow[]> {
  return db.query<KeyRow>(
    `SELECT prefix, department_code AS "departmentCode", application, roles,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
            to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "expiresAt",
            to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "revokedAt",
            CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                 WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired'
                 ELSE 'active' END AS status
       FROM api_keys ${prefix ? 'WHERE prefix = $1' : ''}
      ORDER BY department_code, created_at, prefix`,
    prefix ? [prefix] : [],
  );
}

/** Every key, without its hash. */
export function listKeys(db: Queryable): Promise<KeyRow[]> {
  return listKeysIn(db);
}

export async function revokeKey(db: Database, input: { prefix?: string }): Promise<KeyRow> {
  const raw = requireText(input.prefix, 'prefix', 64);
  if ((raw.match(/_/g) ?? []).length > 1) {
    throw new AdminError('--prefix: pass the key prefix (gbk_…), never the secret key itself');
  }
  const prefix = requirePattern(raw, 'prefix', KEY_PREFIX, 'a key prefix such as gbk_0123456789ab');
  return db.transaction(async (tx) => {
    const [row] = await listKeysIn(tx, prefix);
    if (!row) throw new AdminError(`no API key has the prefix '${prefix}' (see: keys list)`);
    if (row.revokedAt) throw new AdminError(`API key ${prefix} was already revoked at ${row.revokedAt}`);
    await tx.query('UPDATE api_keys SET revoked_at = now() WHERE prefix = $1 AND revoked_at IS NULL', [
      prefix,
    ]);
    const [after] = await listKeysIn(tx, prefix);
    return after!;
  });
}

// ---------------------------------------------------------------------------------------------------
// Grants

export interface GrantInput {
  department?: string;
  dataset?: string;
  level?: string;
  purposes?: string;
  write?: boolean;
  until?: string;
  grantedBy?: string;
}

export interface GrantRow {
  id: number;
  departmentCode: string;
  dataset: string;
  level: LevelName;
  purposes: string[];
  canWrite: boolean;
  validFrom: string;
  validTo: string | null;
  grantedBy: string;
  status: 'active' | 'ended' | 'future';
}

const LEVEL_NAMES = Object.keys(LEVELS) as LevelName[];

function levelName(level: number): LevelName {
  return LEVEL_NAMES.find((name) => LEVELS[name] === level) ?? 'public';
}

function defaultGrantor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * Grants a department read access to a dataset up to a level, conditional data for the listed purposes.
 * Returns the grant and notes about what it will and will not open.
 */
export async function addGrant(
  db: Database,
  input: GrantInput,
  now = new Date(),
): Promise<{ grant: GrantRow; notes: string[] }> {
  const datasetId = requireText(input.dataset, 'dataset', 100);
  const dataset = datasetById(datasetId);
  if (!dataset)
    throw new AdminError(`--dataset '${datasetId}' is not a dataset (see: datasets in schema/datasets.ts)`);
  const level = requireText(input.level, 'level') as LevelName;
  if (!LEVEL_NAMES.includes(level)) {
    throw new AdminError(`--level '${level}' is not one of ${LEVEL_NAMES.join(', ')}`);
  }
  const purposes = parseList(input.purposes, 'purposes', SNAKE_CODE, 'snake_case purpose codes');
  const until = input.until === undefined ? null : parseEndDate(input.until, 'until', now);
  const grantedBy = input.grantedBy?.trim() || defaultGrantor();

  const entries = Object.entries({ ...dataset.fields, ...dataset.derived });
  const notes: string[] = [];
  const closed = entries.filter(([, e]) => e.share === 'none').map(([k]) => k);
  if (closed.length > 0) {
    notes.push(
      `${closed.length} field(s) of ${dataset.id} are not shared (share 'none') and stay closed to all but ${dataset.owner}`,
    );
  }
  const conditional = entries
    .filter(([, e]) => e.share === 'conditional' && LEVELS[e.level] <= LEVELS[level])
    .map(([k]) => k);
  if (conditional.length > 0 && purposes.length === 0) {
    notes.push(
      `conditional field(s) ${conditional.join(', ')} need an approved purpose, and none was given: they stay closed`,
    );
  }
  if (level === 'public') {
    notes.push("a 'public' grant reads no field beyond what everyone may read");
  }

  return db.transaction(async (tx) => {
    const department = await requireDepartment(tx, input.department);
    if (purposes.length > 0) {
      const known = await tx.query<{ code: string }>(
        'SELECT code FROM purposes WHERE code = ANY($1::text[])',
        [purposes],
      );
      const knownSet = new Set(known.map((p) => p.code));
      const unknown = purposes.filter((p) => !knownSet.has(p));
      if (unknown.length > 0) {
        throw new AdminError(`--purposes: ${unknown.join(', ')} not registered (see: purposes list)`);
      }
    }
    const existing = await tx.query<{ id: number }>(
      `SELECT id FROM grants WHERE department_code = $1 AND dataset = $2 AND (valid_to IS NULL OR valid_to > now())
        ORDER BY id`,
      [department, dataset.id],
    );
    if (existing.length > 0) {
      notes.push(
        `${department} already holds grant(s) #${existing.map((g) => g.id).join(', #')} on ${dataset.id}: grants combine (highest level, union of purposes)`,
      );
    }
    const [inserted] = await tx.query<{ id: number }>(
      `INSERT INTO grants (department_code, dataset, max_level, purposes, can_write, valid_to, granted_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        department,
        dataset.id,
        LEVELS[level],
        purposes,
        input.write ?? false,
        until?.toISOString() ?? null,
        grantedBy,
      ],
    );
    const [grant] = await listGrantsIn(tx, { id: Number(inserted!.id) });
    return { grant: grant!, notes };
  });
}

async function listGrantsIn(
  db: Queryable,
  filter: { department?: string; id?: number },
): Promise<GrantRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.department !== undefined) {
    params.push(filter.department);
    where.push(`department_code = $${params.length}`);
  }
  if (filter.id !== undefined) {
    params.push(filter.id);
    where.push(`id = $${params.length}`);
  }
  const found = await db.query<Omit<GrantRow, 'level'> & { maxLevel: number }>(
    `SELECT id, department_code AS "departmentCode", dataset, max_level AS "maxLevel", purposes,
            can_write AS "canWrite",
            to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "validFrom",
            to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "validTo",
            granted_by AS "grantedBy",
            CASE WHEN valid_to IS NOT NULL AND valid_to <= now() THEN 'ended'
                 WHEN valid_from > now() THEN 'future' ELSE 'active' END AS status
       FROM grants ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY department_code, dataset, id`,
    params,
  );
  return found.map(({ maxLevel, ...g }) => ({ ...g, id: Number(g.id), level: levelName(maxLevel) }));
}

export async function listGrants(db: Queryable, filter: { department?: string } = {}): Promise<GrantRow[]> {
  if (filter.department !== undefined) {
    const code = requirePattern(filter.department, 'department', DEPARTMENT_CODE, 'a code such as CA-110105');
    if (!(await departmentExists(db, code))) {
      throw new AdminError(`department '${code}' is not registered (see: departments list)`);
    }
    return listGrantsIn(db, { department: code });
  }
  return listGrantsIn(db, {});
}

/** Ends a grant now. The row stays, so what a department could read, and when, remains on record. */
export async function revokeGrant(db: Database, input: { id?: string | number }): Promise<GrantRow> {
  const raw = String(input.id ?? '').trim();
  if (!/^[1-9]\d{0,15}$/.test(raw))
    throw new AdminError(`--id '${raw}' is not a grant id (a positive integer)`);
  const id = Number(raw);
  return db.transaction(async (tx) => {
    const [grant] = await listGrantsIn(tx, { id });
    if (!grant) throw new AdminError(`no grant has the id ${id} (see: grants list)`);
    if (grant.status === 'ended') throw new AdminError(`grant ${id} already ended at ${grant.validTo}`);
    await tx.query('UPDATE grants SET valid_to = now() WHERE id = $1', [id]);
    const [after] = await listGrantsIn(tx, { id });
    return after!;
  });
}
