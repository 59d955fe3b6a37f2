import { ATTRIBUTE_RECORD_TYPES, type AttributeRecordType } from '../../schema/attributes.ts';
import { applyMask } from '../access/masking.ts';
import type { Geometry } from '../db/geojson.ts';
import { groupByKey } from '../db/index.ts';
import { errors, GovError } from '../errors.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { ImportError } from '../ingest/import/batches.ts';
import { runImport } from '../ingest/import/pipeline.ts';
import { EntityRef } from '../registries/legal-entity/entity-types.ts';
import { PersonRef } from '../registries/population/person-types.ts';
import { FeatureRef } from '../registries/spatial/layer-queries.ts';
import {
  attributeEntry,
  attributePath,
  decideAttribute,
  RECORD_TYPE_NAMES,
  requireAttributeClear,
} from './access.ts';
import {
  type AttributeDefinition,
  attributeErrors,
  type DefineAttributeInput,
  defineAttribute,
  definitionVersions,
  retireAttribute,
} from './definitions.ts';
import { definitionFor, requestDefinitions } from './filter.ts';

/**
 * Attributes (fields on demand) in GraphQL, generic and typed: `attributes(codes:)` and
 * `attributeHistory(code:)` on Person, Entity and Feature, an `attributeFilter` on the persons, entities and
 * features lists, the definitions, and the steward's defineAttribute / retireAttribute. The schema does not
 * change when a steward defines an attribute: every gateway process reads the current definitions per
 * request (one statement), so a definition is live everywhere at once, with no restart and no client schema
 * churn. Each value is decided by its definition's classification (src/attributes/access.ts).
 */

// ---------------------------------------------------------------------------------------------------------
// Values

interface ValueRow {
  recordId: number;
  code: string;
  version: number;
  valueText: string | null;
  valueInt: number | string | null;
  valueNum: string | null;
  valueDate: string | null;
  valueBool: boolean | null;
  geom: string | null;
  validFrom: string;
  validTo: string | null;
  sourceDept: string;
  sourceBatch: string | null;
}

interface AttributeView {
  def: AttributeDefinition;
  row: ValueRow;
  masked: boolean;
}

const ts = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function valuesOf(ctx: GatewayContext, recordType: AttributeRecordType, history: boolean) {
  return ctx.loaders.get<number, ValueRow[]>(`attributes.values.${recordType}.${history}`, async (ids) => {
    const found = await ctx.db.query<ValueRow>(
      `SELECT a.record_id AS "recordId", a.code, d.version, a.value_text AS "valueText",
              a.value_int AS "valueInt", a.value_num::text AS "valueNum", a.value_date::text AS "valueDate",
              a.value_bool AS "valueBool", ST_AsGeoJSON(a.value_geom, 7, 0) AS geom, ${ts('a.valid_from')} AS "validFrom",
              ${ts('a.valid_to')} AS "validTo", a.source_dept AS "sourceDept", a.source_batch AS "sourceBatch"
         FROM attribute_values a JOIN attribute_definitions d ON d.id = a.definition_id
        WHERE a.record_type = $1 AND a.record_id = ANY($2::bigint[]) ${history ? '' : 'AND a.valid_to IS NULL'}
        ORDER BY a.record_id, a.code, a.valid_from, a.id`,
      [recordType, ids.map(Number)],
    );
    return groupByKey(ids.map(Number), found, (r) => Number(r.recordId));
  });
}

/** The clear value of a row as one text, for masking (the mask rules work on text, dates and points). */
function clearText(view: AttributeView): string | null {
  const r = view.row;
  switch (view.def.dataType) {
    case 'integer':
      return r.valueInt === null ? null : String(r.valueInt);
    case 'decimal':
      return r.valueNum;
    case 'date':
      return r.valueDate;
    case 'boolean':
      return r.valueBool === null ? null : String(r.valueBool);
    case 'geometry':
      return r.geom;
    default:
      return r.valueText;
  }
}

const clear = <T>(view: AttributeView, value: T): T | null => (view.masked ? null : value);

const AttributeValueRef = builder.objectRef<AttributeView>('AttributeValue');
AttributeValueRef.implement({
  description:
    'A value of an attribute (a data item added on demand), typed: the field of its data type is set. ' +
    'Decided by the attribute’s own classification: masked values show only `maskedValue` (and a snapped ' +
    'geometry), with no provenance.',
  fields: (t) => ({
    code: t.string({ nullable: false, resolve: (v) => v.def.code }),
    name: t.string({ nullable: false, resolve: (v) => v.def.name }),
    dataType: t.string({
      nullable: false,
      description: 'text, integer, decimal, date, boolean, code or geometry',
      resolve: (v) => v.def.dataType,
    }),
    definitionVersion: t.int({
      nullable: false,
      description: 'Version of the definition the value was validated against',
      resolve: (v) => Number(v.row.version),
    }),
    masked: t.boolean({ nullable: false, resolve: (v) => v.masked }),
    maskedValue: t.string({
      nullable: true,
      description: 'The value masked by the attribute’s mask rule, when this caller sees it masked',
      resolve: (v) => {
        if (!v.masked || v.def.dataType === 'geometry') return null;
        const text = clearText(v);
        return text === null ? null : String(applyMask(v.def.mask, text));
      },
    }),
    text: t.string({
      nullable: true,
      resolve: (v) => (v.def.dataType === 'text' ? clear(v, v.row.valueText) : null),
    }),
    codeValue: t.string({
      nullable: true,
      description: 'A code attribute’s value (one of its code list)',
      resolve: (v) => (v.def.dataType === 'code' ? clear(v, v.row.valueText) : null),
    }),
    integer: t.string({
      nullable: true,
      description: 'An integer attribute’s value (int8, as a decimal string: GraphQL Int is 32-bit)',
      resolve: (v) => (v.row.valueInt === null ? null : clear(v, String(v.row.valueInt))),
    }),
    decimal: t.string({ nullable: true, resolve: (v) => clear(v, v.row.valueNum) }),
    date: t.field({ type: 'Date', nullable: true, resolve: (v) => clear(v, v.row.valueDate) }),
    boolean: t.boolean({ nullable: true, resolve: (v) => clear(v, v.row.valueBool) }),
    geometry: t.field({
      type: 'GeoJSON',
      nullable: true,
      description: 'A geometry attribute’s value (RFC 7946 GeoJSON, CGCS2000); masked: snapped to 0.01°',
      resolve: (v) => {
        if (v.row.geom === null) return null;
        const geom = JSON.parse(v.row.geom) as Geometry;
        return v.masked ? (applyMask(v.def.mask, geom) as Geometry) : geom;
      },
    }),
    current: t.boolean({ nullable: false, resolve: (v) => v.row.validTo === null }),
    validFrom: t.string({ nullable: true, resolve: (v) => clear(v, v.row.validFrom) }),
    validTo: t.string({ nullable: true, resolve: (v) => clear(v, v.row.validTo) }),
    source: t.string({
      nullable: true,
      description: 'Department that supplied the value',
      resolve: (v) => clear(v, v.row.sourceDept),
    }),
    batch: t.string({ nullable: true, resolve: (v) => clear(v, v.row.sourceBatch) }),
  }),
});

/**
 * The values of a record the caller may see. Named codes: each must exist for the record type, and a
 * denied one is an error naming `<Type>.attributes.<code>` (FORBIDDEN_FIELD, PURPOSE_REQUIRED, …), as for
 * a field. No codes: every attribute the record carries that the caller may see (denied ones left out).
 */
async function visibleValues(
  ctx: GatewayContext,
  recordType: AttributeRecordType,
  record: { id: number | string; layerId?: string },
  codes: readonly string[] | null | undefined,
  history: boolean,
): Promise<AttributeView[]> {
  const defs = await requestDefinitions(ctx);
  const wanted = codes ? new Set(codes) : null;
  if (codes) {
    for (const code of codes) {
      const def = defs.get(`${recordType}:${code}`);
      if (!def || (recordType === 'feature' && def.layerId !== record.layerId))
        throw attributeErrors.unknown(code, recordType, 'codes');
      const decision = decideAttribute(ctx.access, def);
      if (decision.kind === 'deny') {
        ctx.access.noteField(attributePath(def), decision);
        throw ctx.access.denial(decision, attributePath(def));
      }
    }
  }
  const id = Number(record.id);
  const rows = await valuesOf(ctx, recordType, history).load(id);
  const out: AttributeView[] = [];
  for (const row of rows) {
    if (wanted && !wanted.has(row.code)) continue;
    const def = defs.get(`${recordType}:${row.code}`);
    // A value whose attribute has no definition has no classification: fail closed.
    if (!def) continue;
    // A retired attribute's values are history: read them by name or through attributeHistory.
    if (!wanted && def.status === 'retired') continue;
    const decision = decideAttribute(ctx.access, def);
    ctx.access.noteField(attributePath(def), decision);
    if (decision.kind === 'deny') continue;
    if (attributeEntry(def).sensitivePersonal) ctx.access.noteSubject(`person:${id}`);
    out.push({ def, row, masked: decision.kind === 'mask' });
  }
  ctx.access.report.rows.AttributeValue = (ctx.access.report.rows.AttributeValue ?? 0) + out.length;
  return out;
}

for (const [ref, recordType] of [
  [PersonRef, 'person'],
  [EntityRef, 'entity'],
  [FeatureRef, 'feature'],
] as const) {
  builder.objectField(ref as typeof PersonRef, 'attributes', (t) =>
    t.field({
      type: [AttributeValueRef],
      nullable: false,
      access: 'link',
      description:
        'Current values of attributes added on demand (all the caller may see, or the named codes); each is ' +
        'decided by its own classification',
      args: { codes: t.arg.stringList() },
      resolve: (record, args, ctx) =>
        visibleValues(
          ctx,
          recordType,
          record as unknown as { id: number; layerId?: string },
          args.codes,
          false,
        ),
    }),
  );
  builder.objectField(ref as typeof PersonRef, 'attributeHistory', (t) =>
    t.field({
      type: [AttributeValueRef],
      nullable: false,
      access: 'link',
      description:
        'Every value an attribute has had on this record, oldest first (also after it was retired)',
      args: { code: t.arg.string({ required: true }) },
      resolve: (record, args, ctx) =>
        visibleValues(
          ctx,
          recordType,
          record as unknown as { id: number; layerId?: string },
          [args.code],
          true,
        ),
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Definitions and their management

const AttributeDefinitionRef = builder.objectRef<AttributeDefinition>('AttributeDefinition');
AttributeDefinitionRef.implement({
  description:
    'A data item added on demand to persons, entities or a layer’s features: type, validation, owner and ' +
    'classification (its field-catalogue entry), versioned',
  fields: (t) => ({
    code: t.exposeString('code', { nullable: false }),
    version: t.exposeInt('version', { nullable: false }),
    recordType: t.exposeString('recordType', { nullable: false }),
    registry: t.exposeString('registry', { nullable: false }),
    layerId: t.exposeString('layerId', { nullable: true }),
    name: t.exposeString('name', { nullable: false }),
    description: t.exposeString('description', { nullable: false }),
    dataType: t.exposeString('dataType', { nullable: false }),
    minValue: t.exposeString('minValue', { nullable: true }),
    maxValue: t.exposeString('maxValue', { nullable: true }),
    pattern: t.exposeString('pattern', { nullable: true }),
    codeValues: t.exposeStringList('codeValues', { nullable: true }),
    ownerDept: t.exposeString('ownerDept', { nullable: false }),
    updateFrequency: t.exposeString('updateFrequency', { nullable: false }),
    level: t.exposeString('level', { nullable: false }),
    share: t.exposeString('share', { nullable: false }),
    mask: t.exposeString('mask', { nullable: false }),
    status: t.exposeString('status', { nullable: false }),
    definedBy: t.exposeString('definedBy', { nullable: false }),
    definedAt: t.exposeString('definedAt', { nullable: false }),
    retiredAt: t.exposeString('retiredAt', { nullable: true }),
    retireReason: t.exposeString('retireReason', { nullable: true }),
    readable: t.boolean({
      nullable: false,
      description: 'Whether this caller may read the values in clear (and filter on them)',
      resolve: (d, _a, ctx) => decideAttribute(ctx.access, d).kind === 'allow',
    }),
    path: t.string({ nullable: false, resolve: (d) => attributePath(d) }),
  }),
});

const RecordTypeEnum = builder.enumType('AttributeRecordType', {
  values: {
    PERSON: { value: 'person' },
    ENTITY: { value: 'entity' },
    FEATURE: { value: 'feature' },
  } as const,
});

builder.queryField('attributeDefinitions', (t) =>
  t.field({
    type: [AttributeDefinitionRef],
    nullable: false,
    description: 'The current version of every attribute (public metadata, like the data-resource catalogue)',
    args: {
      recordType: t.arg({ type: RecordTypeEnum }),
      includeRetired: t.arg.boolean({ defaultValue: false }),
    },
    resolve: async (_root, args, ctx) =>
      [...(await requestDefinitions(ctx)).values()].filter(
        (d) =>
          (!args.recordType || d.recordType === args.recordType) &&
          (args.includeRetired || d.status === 'active'),
      ),
  }),
);

builder.queryField('attributeDefinitionVersions', (t) =>
  t.field({
    type: [AttributeDefinitionRef],
    nullable: false,
    description: 'Every version of an attribute’s definition, oldest first',
    args: {
      recordType: t.arg({ type: RecordTypeEnum, required: true }),
      code: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => definitionVersions(ctx.db, args.recordType, args.code),
  }),
);

function requireSteward(ctx: GatewayContext, what: string): void {
  if (!ctx.access.principal.roles.has('steward'))
    throw new GovError('FORBIDDEN', `${what} is for data stewards only`);
}

const DefineAttributeInputRef = builder.inputType('DefineAttributeInput', {
  fields: (t) => ({
    recordType: t.field({ type: RecordTypeEnum, required: true }),
    layerId: t.string({ description: 'Features: the layer' }),
    code: t.string({ required: true }),
    name: t.string({ required: true }),
    description: t.string({ required: true }),
    dataType: t.string({
      required: true,
      description: 'text, integer, decimal, date, boolean, code or geometry',
    }),
    minValue: t.string(),
    maxValue: t.string(),
    pattern: t.string(),
    codeValues: t.stringList(),
    ownerDept: t.string({ required: true }),
    updateFrequency: t.string({ required: true }),
    level: t.string({ required: true }),
    share: t.string({ required: true }),
    mask: t.string({ required: true }),
  }),
});

const DefineAttributeResultRef = builder.objectRef<{ definition: AttributeDefinition; outcome: string }>(
  'DefineAttributeResult',
);
DefineAttributeResultRef.implement({
  fields: (t) => ({
    definition: t.field({ type: AttributeDefinitionRef, nullable: false, resolve: (r) => r.definition }),
    outcome: t.exposeString('outcome', { nullable: false, description: 'created, changed or unchanged' }),
  }),
});

builder.mutationField('defineAttribute', (t) =>
  t.field({
    type: DefineAttributeResultRef,
    nullable: false,
    description:
      'Stewards: define an attribute, or write its next version (a changed validation, classification, …). ' +
      'Live at once in every gateway: no restart, no schema change',
    args: { input: t.arg({ type: DefineAttributeInputRef, required: true }) },
    resolve: (_root, { input }, ctx) => {
      requireSteward(ctx, 'defineAttribute');
      return defineAttribute(ctx.db, input as unknown as DefineAttributeInput, ctx.access.principal.id);
    },
  }),
);

builder.mutationField('retireAttribute', (t) =>
  t.field({
    type: AttributeDefinitionRef,
    nullable: false,
    description: 'Stewards: retire an attribute. Its versions and the history of its values stay readable',
    args: {
      recordType: t.arg({ type: RecordTypeEnum, required: true }),
      code: t.arg.string({ required: true }),
      reason: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => {
      requireSteward(ctx, 'retireAttribute');
      return retireAttribute(ctx.db, args.recordType, args.code, ctx.access.principal.id, args.reason);
    },
  }),
);

export { ATTRIBUTE_RECORD_TYPES, RECORD_TYPE_NAMES };

// ---------------------------------------------------------------------------------------------------------
// Corrections: one value through the import pipeline (the write path of every correction)

interface AttributeCorrection {
  status: 'applied' | 'unchanged' | 'rejected';
  batchId: string;
  rejects: { field: string; reason: string }[];
}

const AttributeCorrectionRejectRef = builder.objectRef<{ field: string; reason: string }>(
  'AttributeCorrectionReject',
);
AttributeCorrectionRejectRef.implement({
  fields: (t) => ({
    field: t.exposeString('field', { nullable: false }),
    reason: t.exposeString('reason', { nullable: false }),
  }),
});

const AttributeCorrectionRef = builder.objectRef<AttributeCorrection>('AttributeCorrection');
AttributeCorrectionRef.implement({
  description: 'The outcome of an attribute correction: a batch of one row through the import pipeline',
  fields: (t) => ({
    status: t.exposeString('status', { nullable: false, description: 'applied, unchanged or rejected' }),
    batchId: t.exposeString('batchId', { nullable: false }),
    rejects: t.field({ type: [AttributeCorrectionRejectRef], nullable: false, resolve: (r) => r.rejects }),
  }),
});

builder.mutationField('correctAttribute', (t) =>
  t.field({
    type: AttributeCorrectionRef,
    nullable: false,
    description:
      'Sets the value of an attribute on one record (a person by ID number, an entity by USCC, a feature by id ' +
      'or key) through the import pipeline: validated against the definition, only by its owner department ' +
      '(or one of its kind) within its jurisdiction, the previous value kept in history, lineage and change log written',
    args: {
      recordType: t.arg({ type: RecordTypeEnum, required: true }),
      recordKey: t.arg.string({ required: true }),
      code: t.arg.string({ required: true }),
      value: t.arg.string({
        description: 'The value as text (GeoJSON for geometry); null removes the current value',
      }),
      reason: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const department = ctx.access.principal.department;
      if (!department) throw new GovError('FORBIDDEN', 'correctAttribute needs a department principal');
      if (!args.reason.trim()) throw errors.invalidArgument('reason', 'must say why the value is corrected');
      const def = await definitionFor(ctx, args.recordType, args.code, 'code');
      if (def.status === 'retired') throw attributeErrors.retired(def.code);
      // Writing a value reveals and changes it: the caller must be allowed to read it in clear.
      requireAttributeClear(ctx.access, def, 'code');
      try {
        const report = await runImport(ctx.db, {
          registry: 'attributes',
          input: {
            kind: 'records',
            name: 'correction',
            records: [
              {
                record_type: def.recordType,
                record_key: args.recordKey,
                code: def.code,
                value: args.value ?? '',
              },
            ],
          },
          sourceDept: department.code,
          submittedBy: ctx.access.principal.id,
          note: args.reason,
          rejectsPath: null,
        });
        const status: AttributeCorrection['status'] =
          report.rejected > 0 ? 'rejected' : report.inserted + report.changed > 0 ? 'applied' : 'unchanged';
        return {
          status,
          batchId: report.batchId,
          rejects: report.rejects.map((r) => ({ field: r.field, reason: r.reason })),
        };
      } catch (error) {
        if (error instanceof ImportError) throw errors.invalidArgument('value', error.message);
        throw error;
      }
    },
  }),
);
