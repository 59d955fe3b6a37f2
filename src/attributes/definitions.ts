import {
  ATTRIBUTE_CODE_PATTERN,
  ATTRIBUTE_DATA_TYPES,
  ATTRIBUTE_RECORD_TYPES,
  type AttributeDataType,
  type AttributeRecordType,
} from '../../schema/attributes.ts';
import type { DatasetMeta, LevelName, MaskRule, Share } from '../../schema/catalogue.ts';
import type { Queryable } from '../db/index.ts';
import { GovError } from '../errors.ts';
import { layerById } from '../registries/spatial/layer-catalogue.ts';

/**
 * Attribute definitions (schema/attributes.ts): read, define (a new version per change), retire. Every
 * write is one transaction under a lock on the attribute's code, so two stewards cannot both write version
 * N+1. Nothing is deleted: a retired attribute keeps its versions and its values' history.
 */

export interface AttributeDefinition {
  id: number;
  registry: 'population' | 'legal-entity' | 'spatial';
  recordType: AttributeRecordType;
  layerId: string | null;
  code: string;
  version: number;
  name: string;
  description: string;
  dataType: AttributeDataType;
  minValue: string | null;
  maxValue: string | null;
  pattern: string | null;
  codeValues: string[] | null;
  ownerDept: string;
  updateFrequency: DatasetMeta['updateFrequency'];
  level: LevelName;
  share: Share;
  mask: MaskRule;
  status: 'active' | 'retired';
  definedBy: string;
  definedAt: string;
  retiredBy: string | null;
  retiredAt: string | null;
  retireReason: string | null;
  supersededAt: string | null;
}

export const REGISTRY_OF: Readonly<Record<AttributeRecordType, AttributeDefinition['registry']>> = {
  person: 'population',
  entity: 'legal-entity',
  feature: 'spatial',
};

const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** SQL select list of a definition row aliased `d`. */
export const DEFINITION_COLUMNS = `d.id::int8 AS id, d.registry, d.record_type AS "recordType", d.layer_id AS "layerId",
  d.code, d.version, d.name, d.description, d.data_type AS "dataType", d.min_value AS "minValue",
  d.max_value AS "maxValue", d.pattern, d.code_values AS "codeValues", d.owner_dept AS "ownerDept",
  d.update_frequency AS "updateFrequency", d.level, d.share, d.mask, d.status, d.defined_by AS "definedBy",
  ${ts('d.defined_at')} AS "definedAt", d.retired_by AS "retiredBy", ${ts('d.retired_at')} AS "retiredAt",
  d.retire_reason AS "retireReason", ${ts('d.superseded_at')} AS "supersededAt"`;

function normalise(d: AttributeDefinition): AttributeDefinition {
  return { ...d, id: Number(d.id), version: Number(d.version) };
}

/** The current version of every attribute (active and retired), or of one record type. */
export async function currentDefinitions(
  db: Queryable,
  recordType?: AttributeRecordType,
): Promise<AttributeDefinition[]> {
  const found = await db.query<AttributeDefinition>(
    `SELECT ${DEFINITION_COLUMNS} FROM attribute_definitions d
      WHERE d.superseded_at IS NULL AND ($1::text IS NULL OR d.record_type = $1)
      ORDER BY d.record_type, d.code`,
    [recordType ?? null],
  );
  return found.map(normalise);
}

/** Every version of an attribute, oldest first. */
export async function definitionVersions(
  db: Queryable,
  recordType: AttributeRecordType,
  code: string,
): Promise<AttributeDefinition[]> {
  const found = await db.query<AttributeDefinition>(
    `SELECT ${DEFINITION_COLUMNS} FROM attribute_definitions d
      WHERE d.record_type = $1 AND d.code = $2 ORDER BY d.version`,
    [recordType, code],
  );
  return found.map(normalise);
}

// ---------------------------------------------------------------------------------------------------------
// Errors

export const attributeErrors = {
  unknown: (code: string, recordType: string, argument = 'code') =>
    new GovError(
      'ATTRIBUTE_UNKNOWN',
      `Argument '${argument}' ('${code}') is not an attribute of ${recordType} records`,
      { argument, attribute: code },
    ),
  retired: (code: string, argument = 'code') =>
    new GovError('ATTRIBUTE_RETIRED', `Attribute '${code}' (argument '${argument}') is retired`, {
      argument,
      attribute: code,
    }),
  invalidValue: (code: string, argument: string, reason: string) =>
    new GovError(
      'INVALID_ATTRIBUTE_VALUE',
      `Value of attribute '${code}' (argument '${argument}') ${reason}`,
      {
        argument,
        attribute: code,
      },
    ),
  invalidDefinition: (field: string, reason: string) =>
    new GovError('INVALID_ATTRIBUTE_DEFINITION', `Attribute definition field '${field}' ${reason}`, {
      field,
    }),
};

// ---------------------------------------------------------------------------------------------------------
// Define and retire

export interface DefineAttributeInput {
  recordType: AttributeRecordType;
  layerId?: string | null | undefined;
  code: string;
  name: string;
  description: string;
  dataType: AttributeDataType;
  minValue?: string | number | null | undefined;
  maxValue?: string | number | null | undefined;
  pattern?: string | null | undefined;
  codeValues?: readonly string[] | null | undefined;
  ownerDept: string;
  updateFrequency: DatasetMeta['updateFrequency'];
  level: LevelName;
  share: Share;
  mask: MaskRule;
}

const FREQUENCIES = ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'static'];
const LEVEL_NAMES = ['public', 'internal', 'restricted', 'sensitive'];
const SHARES = ['unconditional', 'conditional', 'none'];
/** Mask rules that make sense for a data type (a masked integer or boolean is not a thing: 'redact'). */
const MASKS_FOR: Record<AttributeDataType, readonly MaskRule[]> = {
  text: ['none', 'redact', 'name', 'phone', 'idNumber', 'address'],
  code: ['none', 'redact'],
  integer: ['none', 'redact'],
  decimal: ['none', 'redact'],
  date: ['none', 'redact', 'date'],
  boolean: ['none', 'redact'],
  geometry: ['none', 'point'],
};

function bound(input: DefineAttributeInput, field: 'minValue' | 'maxValue'): string | null {
  const raw = input[field];
  if (raw === null || raw === undefined || raw === '') return null;
  const text = String(raw).trim();
  switch (input.dataType) {
    case 'integer':
      if (!/^[+-]?\d{1,18}$/.test(text)) throw attributeErrors.invalidDefinition(field, 'must be an integer');
      return String(BigInt(text));
    case 'decimal':
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text))
        throw attributeErrors.invalidDefinition(field, 'must be a decimal number');
      return text;
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`)))
        throw attributeErrors.invalidDefinition(field, 'must be a date YYYY-MM-DD');
      return text;
    case 'text':
      if (!/^\d{1,6}$/.test(text))
        throw attributeErrors.invalidDefinition(field, 'of a text attribute is a length (characters)');
      return text;
    default:
      throw attributeErrors.invalidDefinition(field, `does not apply to ${input.dataType} attributes`);
  }
}

/** Checks a definition input and returns the row it would write (without id, version, provenance). */
async function checkedInput(db: Queryable, input: DefineAttributeInput) {
  if (!ATTRIBUTE_RECORD_TYPES.includes(input.recordType))
    throw attributeErrors.invalidDefinition(
      'recordType',
      `must be one of ${ATTRIBUTE_RECORD_TYPES.join(', ')}`,
    );
  if (!ATTRIBUTE_CODE_PATTERN.test(input.code))
    throw attributeErrors.invalidDefinition(
      'code',
      `('${input.code}') must match ${ATTRIBUTE_CODE_PATTERN.source}`,
    );
  if (!ATTRIBUTE_DATA_TYPES.includes(input.dataType))
    throw attributeErrors.invalidDefinition('dataType', `must be one of ${ATTRIBUTE_DATA_TYPES.join(', ')}`);
  if (!input.name?.trim() || input.name.length > 200)
    throw attributeErrors.invalidDefinition('name', 'must have 1 to 200 characters');
  if (!input.description?.trim() || input.description.length > 2000)
    throw attributeErrors.invalidDefinition('description', 'must have 1 to 2000 characters');
  if (!FREQUENCIES.includes(input.updateFrequency))
    throw attributeErrors.invalidDefinition('updateFrequency', `must be one of ${FREQUENCIES.join(', ')}`);
  if (!LEVEL_NAMES.includes(input.level))
    throw attributeErrors.invalidDefinition('level', `must be one of ${LEVEL_NAMES.join(', ')}`);
  if (!SHARES.includes(input.share))
    throw attributeErrors.invalidDefinition('share', `must be one of ${SHARES.join(', ')}`);
  if (!MASKS_FOR[input.dataType].includes(input.mask))
    throw attributeErrors.invalidDefinition(
      'mask',
      `('${input.mask}') does not apply to ${input.dataType} values (one of ${MASKS_FOR[input.dataType].join(', ')})`,
    );
  if (input.level === 'public' && input.mask !== 'none')
    throw attributeErrors.invalidDefinition('mask', 'must be none for a public attribute');
  let layerId: string | null = null;
  if (input.recordType === 'feature') {
    if (!input.layerId || !layerById(input.layerId))
      throw attributeErrors.invalidDefinition('layerId', `('${input.layerId ?? ''}') must name a layer`);
    layerId = input.layerId;
  } else if (input.layerId) {
    throw attributeErrors.invalidDefinition('layerId', 'applies to feature attributes only');
  }
  const minValue = bound(input, 'minValue');
  const maxValue = bound(input, 'maxValue');
  let pattern: string | null = null;
  if (input.pattern) {
    if (input.dataType !== 'text' && input.dataType !== 'code')
      throw attributeErrors.invalidDefinition('pattern', 'applies to text and code attributes only');
    try {
      await db.query(`SELECT '' ~ $1::text AS ok`, [input.pattern]);
    } catch (error) {
      throw attributeErrors.invalidDefinition(
        'pattern',
        `is not a valid regular expression: ${(error as Error).message}`,
      );
    }
    pattern = input.pattern;
  }
  let codeValues: string[] | null = null;
  if (input.dataType === 'code') {
    const values = [...new Set((input.codeValues ?? []).map((v) => String(v).trim()).filter(Boolean))];
    if (values.length === 0)
      throw attributeErrors.invalidDefinition('codeValues', 'must list the allowed codes');
    codeValues = values;
  } else if (input.codeValues?.length) {
    throw attributeErrors.invalidDefinition('codeValues', 'applies to code attributes only');
  }
  const [dept] = await db.query<{ code: string }>('SELECT code FROM departments WHERE code = $1', [
    input.ownerDept,
  ]);
  if (!dept)
    throw attributeErrors.invalidDefinition('ownerDept', `('${input.ownerDept}') is not a department`);
  return {
    registry: REGISTRY_OF[input.recordType],
    recordType: input.recordType,
    layerId,
    code: input.code,
    name: input.name.trim(),
    description: input.description.trim(),
    dataType: input.dataType,
    minValue,
    maxValue,
    pattern,
    codeValues,
    ownerDept: input.ownerDept,
    updateFrequency: input.updateFrequency,
    level: input.level,
    share: input.share,
    mask: input.mask,
  };
}

type Checked = Awaited<ReturnType<typeof checkedInput>>;

const SAME_FIELDS = [
  'layerId',
  'name',
  'description',
  'dataType',
  'minValue',
  'maxValue',
  'pattern',
  'ownerDept',
  'updateFrequency',
  'level',
  'share',
  'mask',
] as const;

function sameDefinition(current: AttributeDefinition, next: Checked): boolean {
  return (
    SAME_FIELDS.every((k) => (current[k] ?? null) === (next[k] ?? null)) &&
    JSON.stringify(current.codeValues ?? null) === JSON.stringify(next.codeValues ?? null)
  );
}

async function lockCode(
  tx: Queryable,
  recordType: string,
  code: string,
): Promise<AttributeDefinition | undefined> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('govbase.attribute:' || $1 || ':' || $2))`, [
    recordType,
    code,
  ]);
  const [current] = await tx.query<AttributeDefinition>(
    `SELECT ${DEFINITION_COLUMNS} FROM attribute_definitions d
      WHERE d.record_type = $1 AND d.code = $2 AND d.superseded_at IS NULL`,
    [recordType, code],
  );
  return current ? normalise(current) : undefined;
}

async function insertVersion(
  tx: Queryable,
  row: Checked,
  version: number,
  definedBy: string,
  retired: { by: string; reason: string } | null,
): Promise<AttributeDefinition> {
  const [inserted] = await tx.query<AttributeDefinition>(
    `WITH d AS (
       INSERT INTO attribute_definitions (registry, record_type, layer_id, code, version, name, description,
              data_type, min_value, max_value, pattern, code_values, owner_dept, update_frequency, level, share,
              mask, status, defined_by, retired_by, retired_at, retire_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text[], $13, $14, $15, $16, $17, $18, $19,
               $20, CASE WHEN $20::text IS NULL THEN NULL ELSE now() END, $21)
       RETURNING *)
     SELECT ${DEFINITION_COLUMNS} FROM d`,
    [
      row.registry,
      row.recordType,
      row.layerId,
      row.code,
      version,
      row.name,
      row.description,
      row.dataType,
      row.minValue,
      row.maxValue,
      row.pattern,
      row.codeValues,
      row.ownerDept,
      row.updateFrequency,
      row.level,
      row.share,
      row.mask,
      retired ? 'retired' : 'active',
      definedBy,
      retired?.by ?? null,
      retired?.reason ?? null,
    ],
  );
  return normalise(inserted!);
}

export interface DefineResult {
  definition: AttributeDefinition;
  /** created (version 1), changed (a new version), unchanged (the current version says the same). */
  outcome: 'created' | 'changed' | 'unchanged';
}

/** Defines an attribute, or writes its next version when something changed. */
export async function defineAttribute(
  db: Queryable & { transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> },
  input: DefineAttributeInput,
  definedBy: string,
): Promise<DefineResult> {
  const row = await checkedInput(db, input);
  return db.transaction(async (tx) => {
    const current = await lockCode(tx, row.recordType, row.code);
    if (!current) return { definition: await insertVersion(tx, row, 1, definedBy, null), outcome: 'created' };
    if (current.status === 'retired') throw attributeErrors.retired(row.code);
    if (current.dataType !== row.dataType)
      throw attributeErrors.invalidDefinition(
        'dataType',
        `cannot change from ${current.dataType} to ${row.dataType}: stored values are typed (define a new code)`,
      );
    if (sameDefinition(current, row)) return { definition: current, outcome: 'unchanged' };
    await tx.query('UPDATE attribute_definitions SET superseded_at = now() WHERE id = $1', [current.id]);
    return {
      definition: await insertVersion(tx, row, current.version + 1, definedBy, null),
      outcome: 'changed',
    };
  });
}

/** Retires an attribute: a last version with status retired; values and versions stay readable. */
export async function retireAttribute(
  db: Queryable & { transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> },
  recordType: AttributeRecordType,
  code: string,
  retiredBy: string,
  reason: string,
): Promise<AttributeDefinition> {
  const why = reason.trim();
  if (why.length < 2 || why.length > 500)
    throw attributeErrors.invalidDefinition('reason', 'must have 2 to 500 characters');
  return db.transaction(async (tx) => {
    const current = await lockCode(tx, recordType, code);
    if (!current) throw attributeErrors.unknown(code, recordType);
    if (current.status === 'retired') throw attributeErrors.retired(code);
    await tx.query('UPDATE attribute_definitions SET superseded_at = now() WHERE id = $1', [current.id]);
    return insertVersion(tx, current, current.version + 1, retiredBy, { by: retiredBy, reason: why });
  });
}
