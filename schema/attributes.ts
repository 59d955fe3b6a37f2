import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { geometry } from '../src/db/geometry-column.ts';
import { dataset, type FieldEntry, f } from './catalogue.ts';

/**
 * Fields on demand (custom attributes): a data steward adds a data item to persons, entities or the
 * features of a layer as governed data, without a release.
 *
 * A definition carries everything a column carries in the field catalogue (level, sharing class, mask rule,
 * owner, update frequency) plus its data type and validation. Definitions are versioned: every change
 * (a new definition, a changed validation or classification, a retirement) appends a row with the next
 * version and marks the previous one superseded; nothing is deleted. The access layer builds a FieldEntry
 * from the current version (src/attributes/access.ts) and decides each value with the same policy function
 * as a built-in field.
 *
 * Values are typed (one column per data type, so filters are index probes, not casts of an untyped blob),
 * carry provenance (source department, batch) and validity: the current value has `valid_to` null, earlier
 * ones are kept. Every write appends to the shared change log (trigger in the migration), as for the
 * registry tables.
 */

export const ATTRIBUTE_RECORD_TYPES = ['person', 'entity', 'feature'] as const;
export type AttributeRecordType = (typeof ATTRIBUTE_RECORD_TYPES)[number];
export const ATTRIBUTE_REGISTRIES = ['population', 'legal-entity', 'spatial'] as const;
export const ATTRIBUTE_DATA_TYPES = [
  'text',
  'integer',
  'decimal',
  'date',
  'boolean',
  'code',
  'geometry',
] as const;
export type AttributeDataType = (typeof ATTRIBUTE_DATA_TYPES)[number];
export const ATTRIBUTE_STATUSES = ['active', 'retired'] as const;
export const ATTRIBUTE_CODE_PATTERN = /^[a-z][a-z0-9_]{1,62}$/;

export const attributeDefinitions = pgTable(
  'attribute_definitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    registry: text('registry', { enum: ATTRIBUTE_REGISTRIES }).notNull(),
    recordType: text('record_type', { enum: ATTRIBUTE_RECORD_TYPES }).notNull(),
    /** Features: the layer whose features carry the attribute. */
    layerId: text('layer_id'),
    code: text('code').notNull(),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    dataType: text('data_type', { enum: ATTRIBUTE_DATA_TYPES }).notNull(),
    /** Inclusive bounds: numbers for integer/decimal, ISO dates for date, lengths for text. */
    minValue: text('min_value'),
    maxValue: text('max_value'),
    /** A regular expression (POSIX, as PostgreSQL's `~`) a text or code value must match whole. */
    pattern: text('pattern'),
    /** The allowed values of a code attribute. */
    codeValues: text('code_values').array(),
    ownerDept: text('owner_dept').notNull(),
    updateFrequency: text('update_frequency', {
      enum: ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'static'],
    }).notNull(),
    level: text('level', { enum: ['public', 'internal', 'restricted', 'sensitive'] }).notNull(),
    share: text('share', { enum: ['unconditional', 'conditional', 'none'] }).notNull(),
    mask: text('mask', {
      enum: ['none', 'idNumber', 'phone', 'name', 'address', 'point', 'date', 'redact'],
    }).notNull(),
    status: text('status', { enum: ATTRIBUTE_STATUSES }).notNull().default('active'),
    definedBy: text('defined_by').notNull(),
    definedAt: timestamp('defined_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set on the version that retired the attribute. */
    retiredBy: text('retired_by'),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
    retireReason: text('retire_reason'),
    /** When a later version replaced this one; null on the current version. */
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('attribute_definitions_version_key').on(t.recordType, t.code, t.version),
    uniqueIndex('attribute_definitions_current_key')
      .on(t.recordType, t.code)
      .where(sql`superseded_at IS NULL`),
  ],
);

export const attributeValues = pgTable(
  'attribute_values',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The definition version the value was validated against. */
    definitionId: bigint('definition_id', { mode: 'number' })
      .notNull()
      .references(() => attributeDefinitions.id),
    recordType: text('record_type', { enum: ATTRIBUTE_RECORD_TYPES }).notNull(),
    code: text('code').notNull(),
    /** persons.id, entities.id or features.id. */
    recordId: bigint('record_id', { mode: 'number' }).notNull(),
    valueText: text('value_text'),
    valueInt: bigint('value_int', { mode: 'number' }),
    valueNum: numeric('value_num'),
    valueDate: date('value_date'),
    valueBool: boolean('value_bool'),
    valueGeom: geometry('value_geom', 'Geometry'),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
    /** When the value was replaced or removed; null while current. Values are closed, never deleted. */
    validTo: timestamp('valid_to', { withTimezone: true }),
    sourceDept: text('source_dept').notNull(),
    sourceBatch: text('source_batch'),
    /** Who wrote it: an import batch's principal, a correction's principal. */
    recordedBy: text('recorded_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('attribute_values_current_key')
      .on(t.recordType, t.code, t.recordId)
      .where(sql`valid_to IS NULL`),
    index('attribute_values_record_idx').on(t.recordType, t.recordId).where(sql`valid_to IS NULL`),
    index('attribute_values_history_idx').on(t.recordType, t.code, t.recordId, t.validFrom),
    index('attribute_values_int_idx')
      .on(t.recordType, t.code, t.valueInt)
      .where(sql`valid_to IS NULL AND value_int IS NOT NULL`),
    index('attribute_values_num_idx')
      .on(t.recordType, t.code, t.valueNum)
      .where(sql`valid_to IS NULL AND value_num IS NOT NULL`),
    index('attribute_values_date_idx')
      .on(t.recordType, t.code, t.valueDate)
      .where(sql`valid_to IS NULL AND value_date IS NOT NULL`),
    index('attribute_values_text_idx')
      .on(t.recordType, t.code, t.valueText)
      .where(sql`valid_to IS NULL AND value_text IS NOT NULL`),
    index('attribute_values_bool_idx')
      .on(t.recordType, t.code, t.valueBool)
      .where(sql`valid_to IS NULL AND value_bool IS NOT NULL`),
    index('attribute_values_geom_gix')
      .using('gist', t.valueGeom)
      .where(sql`valid_to IS NULL AND value_geom IS NOT NULL`),
  ],
);

const governance = { registry: 'governance', owner: 'PLATFORM' } as const;

/**
 * The raw values table holds values of every attribute, some sensitive: its value and key columns are
 * classified at the highest level. Consumers never read it directly: they read `attributes` on a record,
 * where each value is decided by its own definition's classification.
 */
const anyValue = (description: string): FieldEntry => ({
  level: 'sensitive',
  share: 'conditional',
  mask: 'none',
  description,
});

export const attributeDefinitionsDataset = dataset(
  attributeDefinitions,
  {
    ...governance,
    id: 'governance.attribute_definitions',
    name: '扩展数据项定义 Attribute definitions',
    description:
      'Data items added to persons, entities and features on demand: type, validation, owner and classification, versioned',
    updateFrequency: 'realtime',
  },
  {
    id: f.internal('Definition version id'),
    registry: f.internal('population, legal-entity or spatial'),
    recordType: f.internal('person, entity or feature'),
    layerId: f.internal('Features: the layer carrying the attribute'),
    code: f.internal('Attribute code (unique per record type)'),
    version: f.internal('Version of the definition'),
    name: f.internal('Attribute name'),
    description: f.internal('What the attribute means'),
    dataType: f.internal('text, integer, decimal, date, boolean, code or geometry'),
    minValue: f.internal('Inclusive lower bound (number, date, or text length)'),
    maxValue: f.internal('Inclusive upper bound (number, date, or text length)'),
    pattern: f.internal('Regular expression a text or code value must match'),
    codeValues: f.internal('Allowed values of a code attribute'),
    ownerDept: f.internal('Department that is the authoritative source'),
    updateFrequency: f.internal('How often the values are updated'),
    level: f.internal('Classification of the values (public … sensitive)'),
    share: f.internal('Sharing class of the values'),
    mask: f.internal('Mask rule of the values'),
    status: f.internal('active or retired'),
    definedBy: f.internal('Principal that wrote this version'),
    definedAt: f.internal('When this version was written'),
    retiredBy: f.internal('Principal that retired the attribute'),
    retiredAt: f.internal('When the attribute was retired'),
    retireReason: f.internal('Why the attribute was retired'),
    supersededAt: f.internal('When a later version replaced this one'),
  },
);

export const attributeValuesDataset = dataset(
  attributeValues,
  {
    ...governance,
    id: 'governance.attribute_values',
    name: '扩展数据项取值 Attribute values',
    description:
      'Typed values of the attributes of persons, entities and features, with provenance and history',
    updateFrequency: 'realtime',
  },
  {
    id: f.internal('Value id'),
    definitionId: f.internal('Definition version the value was validated against'),
    recordType: f.internal('person, entity or feature'),
    code: f.internal('Attribute code'),
    recordId: anyValue('The record carrying the value (internal id)'),
    valueText: anyValue('Text or code value (as sensitive as the most sensitive attribute)'),
    valueInt: anyValue('Integer value'),
    valueNum: anyValue('Decimal value'),
    valueDate: anyValue('Date value'),
    valueBool: anyValue('Boolean value'),
    valueGeom: anyValue('Geometry value (CGCS2000)'),
    validFrom: f.internal('Current from'),
    validTo: f.internal('Replaced or removed at (closed, never deleted)'),
    sourceDept: f.meta('Department that supplied the value'),
    sourceBatch: f.meta('Import batch that wrote the value'),
    recordedBy: f.meta('Principal that wrote the value'),
    updatedAt: f.meta('When the row was written'),
  },
);
