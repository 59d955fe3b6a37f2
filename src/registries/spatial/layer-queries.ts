import { type SQL, sql } from 'drizzle-orm';
import { featuresDataset, layersDataset, placeNamesDataset } from '../../../schema/geospatial.ts';
import { AttributeFilterInput, attributeConditions } from '../../attributes/filter.ts';
import type { Geometry } from '../../db/index.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import { TagFilter, tagConditions } from '../../tags/filter.ts';
import { type DivisionRow, divisionByCode } from './division-directory.ts';
import { DivisionRef } from './division-types.ts';
import { geography, invalidGeometry, requireGeometry } from './geometry-input.ts';
import { LAYERS, type LayerDefinition, layerById } from './layer-catalogue.ts';

/** Layers a caller may see: public ones for everyone, internal ones for any authenticated department. */
export function visibleLayers(ctx: GatewayContext): LayerDefinition[] {
  const authenticated = ctx.access.principal.kind !== 'public';
  return LAYERS.filter((l) => l.classification === 'public' || authenticated);
}

const LayerPropertyRef = builder.objectRef<{
  name: string;
  type: string;
  title: string;
  values?: readonly string[];
}>('LayerPropertySchema');
LayerPropertyRef.implement({
  description: 'One typed property of a layer’s features',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.exposeString('type', { description: 'string, integer, number, boolean, date or date-time' }),
    title: t.exposeString('title'),
    values: t.stringList({ nullable: true, resolve: (p) => (p.values ? [...p.values] : null) }),
  }),
});

const LayerRef = builder.objectRef<LayerDefinition>('Layer');
LayerRef.implement({
  description: 'A thematic layer of the geospatial registry (CGCS2000)',
  dataset: layersDataset,
  fields: (t) => ({
    id: t.exposeString('id'),
    theme: t.exposeString('theme'),
    name: t.exposeString('name'),
    ownerDept: t.exposeString('ownerDept'),
    geometryType: t.exposeString('geometryType'),
    crs: t.string({ resolve: () => 'EPSG:4490' }),
    updateFrequency: t.exposeString('updateFrequency'),
    classification: t.exposeString('classification'),
    propertySchema: t.field({
      type: [LayerPropertyRef],
      access: { field: 'classification' },
      description: 'The typed properties of its features',
      resolve: (l) => Object.entries(l.properties).map(([name, p]) => ({ name, ...p })),
    }),
  }),
});

builder.queryField('layers', (t) =>
  t.field({
    type: [LayerRef],
    description: 'The thematic layers this caller may see',
    resolve: (_root, _args, ctx) => visibleLayers(ctx),
  }),
);

export interface FeatureRow {
  id: string;
  layerId: string;
  geometry: Geometry;
  properties: Record<string, unknown>;
  validFrom: string | null;
  validTo: string | null;
  divisionCode: string | null;
  area: number;
  length: number;
  distanceMetres: number | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
  version: number;
  recordedFrom: Date;
}

export const FeaturePropertyRef = builder.objectRef<{ name: string; value: unknown }>('FeatureProperty');
FeaturePropertyRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.string({
      nullable: true,
      description: 'The value as text (its type is in the layer’s propertySchema)',
      resolve: (p) => (p.value === null || p.value === undefined ? null : String(p.value)),
    }),
  }),
});

export const FeatureRef = builder.objectRef<FeatureRow>('Feature');
FeatureRef.implement({
  description: 'A feature of a thematic layer; geometry is RFC 7946 GeoJSON (CGCS2000 ≈ WGS 84)',
  dataset: featuresDataset,
  fields: (t) => ({
    id: t.exposeString('id'),
    layerId: t.exposeString('layerId'),
    geometry: t.field({ type: 'GeoJSON', access: { field: 'geom' }, resolve: (f) => f.geometry }),
    properties: t.field({
      type: [FeaturePropertyRef],
      resolve: (f) => Object.entries(f.properties).map(([name, value]) => ({ name, value })),
    }),
    validFrom: t.expose('validFrom', { type: 'Date', nullable: true }),
    validTo: t.expose('validTo', { type: 'Date', nullable: true }),
    divisionCode: t.exposeString('divisionCode', { nullable: true }),
    area: t.exposeFloat('area', { description: 'Geodesic area, m² (0 for points and lines)' }),
    length: t.exposeFloat('length', { description: 'Geodesic length (lines) or perimeter (polygons), m' }),
    distanceMetres: t.exposeFloat('distanceMetres', {
      nullable: true,
      access: { field: 'area' },
      description: 'Distance to the `nearest`/`dwithin` geometry, metres',
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
    version: t.exposeInt('version', { description: 'Version number, incremented on every change' }),
    recordedFrom: t.expose('recordedFrom', {
      type: 'DateTime',
      description: 'When the registry recorded this version (transaction time)',
    }),
  }),
});

const DWithinInput = builder.inputType('DWithinInput', {
  fields: (t) => ({
    geometry: t.field({ type: 'GeoJSON', required: true }),
    metres: t.float({ required: true }),
  }),
});
const NearestInput = builder.inputType('NearestInput', {
  fields: (t) => ({
    point: t.field({ type: 'GeoJSON', required: true }),
    k: t.int({ required: true }),
  }),
});

const MAX_DWITHIN_METRES = 200_000;

export const FEATURE_COLUMNS = sql.raw(`f.id::text AS id, f.layer_id AS "layerId",
  ST_AsGeoJSON(f.geom, 7)::json AS geometry, f.properties, f.valid_from::text AS "validFrom",
  f.valid_to::text AS "validTo", f.division_code AS "divisionCode",
  ST_Area(ST_SetSRID(f.geom, 4326)::geography) AS area,
  CASE WHEN ST_Dimension(f.geom) = 2 THEN ST_Perimeter(ST_SetSRID(f.geom, 4326)::geography)
       ELSE ST_Length(ST_SetSRID(f.geom, 4326)::geography) END AS length,
  f.updated_at AS "updatedAt", f.source_dept AS "sourceDept", f.source_batch AS "sourceBatch",
  f.version, f.recorded_from AS "recordedFrom"`);

builder.queryField('features', (t) =>
  t.connection({
    type: FeatureRef,
    description:
      'Features of the visible layers, filtered spatially. Input geometries are GeoJSON in CGCS2000; ' +
      'invalid or oversized ones are INVALID_GEOMETRY errors naming the argument',
    args: {
      layerId: t.arg.string(),
      bbox: t.arg.floatList({ description: '[minLon, minLat, maxLon, maxLat]' }),
      intersects: t.arg({ type: 'GeoJSON' }),
      within: t.arg({ type: 'GeoJSON', description: 'Features within this geometry' }),
      contains: t.arg({ type: 'GeoJSON', description: 'Features containing this geometry' }),
      dwithin: t.arg({ type: DWithinInput, description: 'Features within `metres` of the geometry' }),
      nearest: t.arg({
        type: NearestInput,
        description: 'The k features nearest the point (geodesic), nearest first',
      }),
      tags: t.arg({ type: TagFilter, description: 'By current tags (any / all / none)' }),
      attributeFilter: t.arg({
        type: [AttributeFilterInput],
        description: 'By current attribute values (fields on demand)',
      }),
    },
    requiresDataset: featuresDataset,
    resolve: async (_root, args, ctx) => {
      const first = pageSize(args, ctx.config.maxPageSize);
      const afterId = args.after ? decodeCursor(args.after, 'after', 'f') : 0;
      const visible = visibleLayers(ctx).map((l) => l.id);
      if (args.layerId && (!layerById(args.layerId) || !visible.includes(args.layerId))) {
        throw errors.notFound(`Layer '${args.layerId}' (argument 'layerId')`);
      }
      const conditions: SQL[] = [
        args.layerId
          ? sql`f.layer_id = ${args.layerId}`
          : sql`f.layer_id = ANY(${sql.param(visible)}::text[])`,
      ];
      conditions.push(...tagConditions(ctx.access, 'feature', args.tags, 'f'));
      conditions.push(...(await attributeConditions(ctx, 'feature', args.attributeFilter, 'f')));
      if (args.bbox) {
        const [x1, y1, x2, y2] = args.bbox;
        if (args.bbox.length !== 4 || x1! > x2! || y1! > y2!) {
          throw errors.invalidArgument('bbox', 'must be [minLon, minLat, maxLon, maxLat]');
        }
        conditions.push(sql`f.geom && ST_MakeEnvelope(${x1}, ${y1}, ${x2}, ${y2}, 4490)`);
        conditions.push(sql`ST_Intersects(f.geom, ST_MakeEnvelope(${x1}, ${y1}, ${x2}, ${y2}, 4490))`);
      }
      if (args.intersects) {
        const g = await requireGeometry(ctx, args.intersects, 'intersects');
        conditions.push(sql`ST_Intersects(f.geom, ${g})`);
      }
      if (args.within) {
        const g = await requireGeometry(ctx, args.within, 'within');
        conditions.push(sql`ST_Within(f.geom, ${g})`);
      }
      if (args.contains) {
        const g = await requireGeometry(ctx, args.contains, 'contains');
        conditions.push(sql`ST_Contains(f.geom, ${g})`);
      }
      let distance: SQL = sql`NULL::float8`;
      if (args.dwithin) {
        const { metres } = args.dwithin;
        if (!(metres >= 0 && metres <= MAX_DWITHIN_METRES)) {
          throw errors.invalidArgument('dwithin.metres', `must be from 0 to ${MAX_DWITHIN_METRES}`);
        }
        const g = await requireGeometry(ctx, args.dwithin.geometry, 'dwithin.geometry');
        // Index prefilter in degrees (generous at the geometry's latitude), then the geodesic test.
        conditions.push(
          sql`f.geom && ST_Expand(${g}, ${metres}::float8 / 111000.0 / cos(radians(least(85, greatest(abs(ST_YMin(${g})), abs(ST_YMax(${g})))))))`,
        );
        conditions.push(sql`ST_DWithin(${geography(sql`f.geom`)}, ${geography(g)}, ${metres}::float8)`);
        distance = sql`ST_Distance(${geography(sql`f.geom`)}, ${geography(g)})`;
      }
      let limit = first;
      let order: SQL = sql`f.id`;
      if (args.nearest) {
        const { k } = args.nearest;
        if (!(k >= 1 && k <= ctx.config.maxPageSize)) {
          throw errors.invalidArgument('nearest.k', `must be from 1 to ${ctx.config.maxPageSize}`);
        }
        if (args.after) throw errors.invalidArgument('after', 'cannot be combined with nearest');
        const g = await requireGeometry(ctx, args.nearest.point, 'nearest.point', 'Point');
        distance = sql`ST_Distance(${geography(sql`f.geom`)}, ${geography(g)})`;
        order = sql`"distanceMetres", f.id`;
        limit = Math.min(k, first);
      } else {
        conditions.push(sql`f.id > ${afterId}`);
      }
      const where = sql.join(conditions, sql` AND `);
      const page = await rows<FeatureRow>(
        ctx.db,
        sql`SELECT ${FEATURE_COLUMNS}, ${distance} AS "distanceMetres" FROM features f
               WHERE ${where} ORDER BY ${order} LIMIT ${limit + 1}`,
      );
      const hasNextPage = !args.nearest && page.length > limit;
      const nodes = page.slice(0, limit);
      ctx.access.report.rows.Feature = (ctx.access.report.rows.Feature ?? 0) + nodes.length;
      return {
        edges: nodes.map((node) => ({ cursor: encodeCursor('f', Number(node.id)), node })),
        pageInfo: {
          hasNextPage,
          hasPreviousPage: afterId > 0,
          startCursor: nodes[0] ? encodeCursor('f', Number(nodes[0].id)) : null,
          endCursor: nodes.at(-1) ? encodeCursor('f', Number(nodes.at(-1)!.id)) : null,
        },
      };
    },
  }),
);

// ---------------------------------------------------------------------------------------------------------
// Reverse geocoding: the division chain at a point, and the nearest place names.

interface PlaceRow {
  id: string;
  name: string;
  type: string;
  divisionCode: string;
  point: Geometry;
  distanceMetres: number;
}

const PlaceNameRef = builder.objectRef<PlaceRow>('PlaceName');
PlaceNameRef.implement({
  description: 'A gazetteer entry (standard place name) with its point',
  dataset: placeNamesDataset,
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    type: t.exposeString('type'),
    divisionCode: t.exposeString('divisionCode'),
    point: t.field({ type: 'GeoJSON', resolve: (p) => p.point }),
    distanceMetres: t.exposeFloat('distanceMetres'),
  }),
});

interface ReverseGeocode {
  divisions: DivisionRow[];
  places: PlaceRow[];
}

const ReverseGeocodeRef = builder.objectRef<ReverseGeocode>('ReverseGeocode');
ReverseGeocodeRef.implement({
  description: 'Where a point is: its division chain and nearby place names',
  fields: (t) => ({
    divisions: t.field({
      type: [DivisionRef],
      access: 'link',
      description: 'From the province down to the finest division whose polygon holds the point',
      resolve: (r) => r.divisions,
    }),
    finest: t.field({
      type: DivisionRef,
      nullable: true,
      access: 'link',
      resolve: (r) => r.divisions.at(-1) ?? null,
    }),
    places: t.field({ type: [PlaceNameRef], access: 'link', resolve: (r) => r.places }),
  }),
});

builder.queryField('reverseGeocode', (t) =>
  t.field({
    type: ReverseGeocodeRef,
    description: 'The division chain holding a point (polygons, then the code hierarchy) and nearby places',
    args: {
      point: t.arg({ type: 'GeoJSON', required: true }),
      places: t.arg.int({ defaultValue: 5, description: 'How many nearest place names (0–50)' }),
    },
    resolve: async (_root, args, ctx) => {
      const k = args.places ?? 5;
      if (k < 0 || k > 50) throw errors.invalidArgument('places', 'must be from 0 to 50');
      const g = await requireGeometry(ctx, args.point, 'point', 'Point');
      const [finest] = await rows<{ code: string }>(
        ctx.db,
        sql`SELECT code FROM divisions
             WHERE valid_to IS NULL AND boundary IS NOT NULL AND boundary && ${g} AND ST_Intersects(boundary, ${g})
             ORDER BY length(prefix) DESC, code LIMIT 1`,
      );
      const places =
        k === 0
          ? []
          : await rows<PlaceRow>(
              ctx.db,
              sql`SELECT * FROM (
                    SELECT id::text AS id, name, type, division_code AS "divisionCode",
                           ST_AsGeoJSON(point, 7)::json AS point,
                           ST_Distance(${geography(sql`point`)}, ${geography(g)}) AS "distanceMetres"
                      FROM place_names ORDER BY point <-> ${g} LIMIT ${Math.max(50, k * 4)}) c
                  ORDER BY "distanceMetres", id LIMIT ${k}`,
            );
      const chain: DivisionRow[] = [];
      let code: string | null = finest?.code ?? null;
      while (code) {
        const division: DivisionRow | null = await divisionByCode(ctx).load(code);
        if (!division) break;
        chain.unshift(division);
        code = division.parentCode;
      }
      return { divisions: chain, places };
    },
  }),
);

export { invalidGeometry };
