import type { Dataset } from '../../../../schema/catalogue.ts';
import { featuresDataset } from '../../../../schema/geospatial.ts';
import { type LayerProperty, layerById } from '../../../registries/spatial/layer-catalogue.ts';
import { divisionExists, duplicateKeys, sqlText } from '../checks.ts';
import { date, divisionCode, geometry, jsonObject, text } from '../fields.ts';
import { accepted, type MergeContext, mergeFragments, type RegistrySpec } from '../spec.ts';

/**
 * Features of the thematic layers (GeoJSON or NDJSON of features): keyed by layer and the key the source
 * gives the feature (its GeoJSON id, or a `feature_key` property), kept in feature_keys. The properties
 * must follow the layer's schema (src/registries/spatial/layer-catalogue.ts), the geometry the layer's
 * type, be valid (ST_IsValid) and lie in EPSG:4490 / 4326. The county is derived from the geometry when
 * the delivery names none.
 */

/** GeoJSON types a layer of each geometry type accepts (a Polygon is stored as a one-part MultiPolygon). */
const ACCEPTS: Record<string, readonly string[]> = {
  Point: ['Point'],
  LineString: ['LineString'],
  Polygon: ['Polygon'],
  MultiPolygon: ['Polygon', 'MultiPolygon'],
  MultiLineString: ['LineString', 'MultiLineString'],
  Geometry: ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'],
};
const ALL_TYPES = ACCEPTS.Geometry!;

const WKT_TYPE: Record<string, string> = {
  POINT: 'Point',
  MULTIPOINT: 'MultiPoint',
  LINESTRING: 'LineString',
  MULTILINESTRING: 'MultiLineString',
  POLYGON: 'Polygon',
  MULTIPOLYGON: 'MultiPolygon',
};

function propertyError(name: string, spec: LayerProperty | undefined, value: unknown): string | null {
  if (!spec) return `'${name}' is not a property of the layer`;
  if (value === null) return null;
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return `'${name}' must be text`;
      if (spec.values && !spec.values.includes(value))
        return `'${name}' must be one of ${spec.values.join(', ')}`;
      return null;
    case 'integer':
      return Number.isInteger(value) ? null : `'${name}' must be an integer`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : `'${name}' must be a number`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `'${name}' must be true or false`;
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? null
        : `'${name}' must be a date`;
    case 'date-time':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) && value.includes('T')
        ? null
        : `'${name}' must be an ISO 8601 date-time`;
  }
  return null;
}

const featureKey = (raw: unknown) => (typeof raw === 'number' ? String(raw) : raw);

export const featuresSpec: RegistrySpec = {
  name: 'features',
  recordType: 'feature',
  registry: 'spatial',
  dataset: featuresDataset as unknown as Dataset,
  table: 'features',
  key: ['layer_id', 'feature_key'],
  geometryColumn: 'geom',
  featureIdColumn: 'feature_key',
  restColumn: 'properties',
  columns: [
    { name: 'layer_id', type: 'text', parse: text(100), notEmpty: true },
    {
      name: 'feature_key',
      type: 'text',
      parse: (raw, env) => text(200)(featureKey(raw), env),
      notEmpty: true,
    },
    {
      name: 'geom',
      type: 'geometry(Geometry, 4490)',
      parse: geometry(ALL_TYPES),
      notEmpty: true,
      requiredOnInsert: true,
    },
    { name: 'properties', type: 'jsonb', parse: jsonObject },
    { name: 'valid_from', type: 'date', parse: date() },
    { name: 'valid_to', type: 'date', parse: date() },
    { name: 'division_code', type: 'text', parse: divisionCode, presentWith: 'geom' },
  ],
  targets: [
    { column: 'layer_id', catalogue: 'layerId', from: 'layer_id' },
    {
      column: 'geom',
      catalogue: 'geom',
      from: 'geom',
      expr: `CASE WHEN l.geometry_type LIKE 'Multi%' THEN ST_Multi(s.geom) ELSE s.geom END`,
    },
    { column: 'properties', catalogue: 'properties', from: 'properties', insertDefault: `'{}'::jsonb` },
    { column: 'valid_from', catalogue: 'validFrom', from: 'valid_from' },
    { column: 'valid_to', catalogue: 'validTo', from: 'valid_to' },
    {
      column: 'division_code',
      catalogue: 'divisionCode',
      from: 'division_code',
      expr: `coalesce(s.division_code,
               (SELECT d.code FROM divisions d
                 WHERE d.level = 'county' AND d.valid_to IS NULL AND d.boundary && s.geom
                   AND ST_Intersects(d.boundary, ST_PointOnSurface(s.geom))
                 ORDER BY d.code LIMIT 1))`,
    },
  ],

  rowCheck(row, present, reject) {
    const layer = layerById(row.layer_id!);
    if (!layer) {
      reject('layer_id', 'names no thematic layer');
      return;
    }
    if (present('geom') && row.geom) {
      const wktType = WKT_TYPE[/^SRID=\d+;([A-Z]+)/.exec(row.geom)?.[1] ?? ''] ?? '';
      const accepts = ACCEPTS[layer.geometryType] ?? ALL_TYPES;
      if (!accepts.includes(wktType)) {
        reject('geom', `must be a ${accepts.join(' or ')} for layer ${layer.id}, not a ${wktType}`);
      }
    }
    if (present('properties') && row.properties) {
      const properties = JSON.parse(row.properties) as Record<string, unknown>;
      for (const [name, value] of Object.entries(properties)) {
        const error = propertyError(name, layer.properties[name], value);
        if (error) reject('properties', `${error} (layer ${layer.id})`);
      }
    }
    if (row.valid_from && row.valid_to && row.valid_to < row.valid_from) {
      reject('valid_to', 'lies before valid_from');
    }
  },

  referenceChecks(ctx) {
    return [
      duplicateKeys(this, ctx),
      divisionExists(ctx, 'division_code'),
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'layer_id', 'names a layer not registered in this database'
         FROM ${ctx.stage} s WHERE NOT EXISTS (SELECT 1 FROM layers l WHERE l.id = s.layer_id)`,
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'geom', ${sqlText('is not a valid geometry: ')} || ST_IsValidReason(s.geom)
         FROM ${ctx.stage} s WHERE s.geom IS NOT NULL AND NOT ST_IsValid(s.geom)`,
      // A feature may be delivered again by its source only: another department's key space is its own.
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'layer_id', ${sqlText(`layer is owned by another department than ${ctx.source.code}`)}
         FROM ${ctx.stage} s JOIN layers l ON l.id = s.layer_id
        WHERE l.owner_dept <> ${sqlText(ctx.source.code)} AND ${sqlText(ctx.source.kind)} <> 'platform'`,
    ];
  },

  resolved(ctx) {
    const m = mergeFragments(this, ctx.storage);
    return `SELECT s.row_no, s.present, s.feature_key, k.feature_id AS target_id, ${m.resolvedColumns}
              FROM ${ctx.stage} s
              LEFT JOIN feature_keys k ON k.layer_id = s.layer_id AND k.feature_key = s.feature_key
              LEFT JOIN layers l ON l.id = s.layer_id
             WHERE ${accepted(ctx)}`;
  },

  keyMatch: () => (t, r) => `${t}.id = ${r}.target_id`,

  recordExists: (_ctx, s) =>
    `EXISTS (SELECT 1 FROM feature_keys k WHERE k.layer_id = ${s}.layer_id AND k.feature_key = ${s}.feature_key)`,

  async merge(ctx: MergeContext) {
    const m = mergeFragments(this, ctx.storage);
    const counts = await ctx.db.query<{ inserted: number; changed: number }>(
      `WITH r AS MATERIALIZED (${this.resolved(ctx)}),
       fresh AS MATERIALIZED (
         SELECT r.*, nextval(pg_get_serial_sequence('features', 'id')) AS new_id FROM r WHERE r.target_id IS NULL),
       ins AS (
         INSERT INTO features (id, ${m.insertColumns}, source_dept, source_batch)
         SELECT r.new_id, ${m.insertValues}, $1, $2 FROM fresh r
         RETURNING id, version),
       keys AS (
         INSERT INTO feature_keys (layer_id, feature_key, feature_id)
         SELECT layer_id, feature_key, new_id FROM fresh RETURNING feature_id),
       upd AS (
         UPDATE features t SET ${m.set}, updated_at = now(), source_dept = $1, source_batch = $2
           FROM r WHERE t.id = r.target_id AND (${m.changed})
         RETURNING t.id, t.version, r.row_no),
       lin AS (
         INSERT INTO import_lineage (batch_id, row_no, record_type, record_id, version, action)
         SELECT $2, f.row_no, 'feature', f.new_id, i.version, 'inserted' FROM fresh f JOIN ins i ON i.id = f.new_id
         UNION ALL
         SELECT $2, row_no, 'feature', id, version, 'updated' FROM upd
         RETURNING action)
       SELECT (SELECT count(*) FROM ins)::int AS inserted,
              (SELECT count(*) FROM lin WHERE action = 'updated')::int AS changed,
              (SELECT count(*) FROM keys)::int AS keys`,
      [ctx.source.code, ctx.batchId],
    );
    return { inserted: Number(counts[0]?.inserted ?? 0), changed: Number(counts[0]?.changed ?? 0) };
  },
};
