import { sql } from 'drizzle-orm';
import { f } from '../../schema/catalogue.ts';
import { featuresDataset } from '../../schema/geospatial.ts';
import { entitiesDataset } from '../../schema/legal-entity.ts';
import { groupByKey, rows } from '../db/index.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { ENTITY_COLUMNS, type EntityRow, entityScope } from '../registries/legal-entity/entity-store.ts';
import { EntityRef } from '../registries/legal-entity/entity-types.ts';
import { FEATURE_COLUMNS, FeatureRef } from '../registries/spatial/layer-queries.ts';
import { defineSubject, type SubjectDefinition } from './subject.ts';

/**
 * 生态保护专题 — ecological protection. One row per current ecological protection red line (planning
 * zone `ecological_protection_red_line` of the layer `planning-zones`, valid today), with the active
 * entities whose geocoded address lies inside it, and the farmland parcels it overlaps (count and the
 * overlapping area). Everything here is public: the zones, entity registration and farmland are public
 * data, and the counts are aggregates. Also served as the OGC collection `subject-ecological-protection`.
 */

const feature = (field: string) => ({ dataset: featuresDataset as never, field });

/** Active entities inside the zone `z`. */
const ENTITIES_INSIDE = `entities e WHERE e.status = 'active' AND e.point IS NOT NULL
  AND e.point && z.geom AND ST_Intersects(z.geom, e.point)`;
/** Valid farmland parcels overlapping the zone `z`. */
const FARMLAND_INSIDE = `features a WHERE a.layer_id = 'farmland' AND a.geom && z.geom
  AND ST_IsValid(a.geom) AND ST_Intersects(a.geom, z.geom)`;

export const ecologicalProtection: SubjectDefinition = {
  id: 'ecological_protection',
  typeName: 'EcologicalProtectionZone',
  queryName: 'ecologicalProtection',
  name: '生态保护专题 Ecological protection',
  description:
    'Current ecological protection red lines with the active entities registered inside them and the farmland they overlap',
  owner: 'MEE',
  updateFrequency: 'monthly',
  anchor: featuresDataset as never,
  from: 'features z',
  where: `z.layer_id = 'planning-zones' AND z.properties->>'zone_kind' = 'ecological_protection_red_line'
      AND (z.valid_from IS NULL OR z.valid_from <= current_date) AND (z.valid_to IS NULL OR z.valid_to > current_date)`,
  key: 'zone_id',
  division: 'division_code',
  scope: () => null,
  columns: {
    zone_id: { expr: 'z.id', type: 'id', source: feature('id') },
    division_code: { expr: 'z.division_code', type: 'string', source: feature('divisionCode') },
    approved_on: {
      expr: `z.properties->>'approved_on'`,
      type: 'string',
      source: feature('properties'),
      description: 'Date the red line was approved',
    },
    valid_from: { expr: 'z.valid_from', type: 'date', source: feature('validFrom') },
    zone_area: {
      expr: 'ST_Area(ST_SetSRID(z.geom, 4326)::geography)',
      type: 'float',
      source: feature('area'),
    },
    geometry: { expr: 'z.geom', type: 'geometry', source: feature('geom') },
    entities_inside: {
      expr: `(SELECT count(*) FROM ${ENTITIES_INSIDE})::int`,
      type: 'int',
      source: { dataset: entitiesDataset as never, field: 'aggregate' },
      description: 'Active entities whose geocoded registered address lies inside the zone',
    },
    farmland_parcels: {
      expr: `(SELECT count(*) FROM ${FARMLAND_INSIDE})::int`,
      type: 'int',
      source: { derived: f.publicOpen('Farmland parcels overlapping the zone') },
    },
    farmland_overlap_area: {
      expr: `(SELECT coalesce(sum(ST_Area(ST_SetSRID(ST_Intersection(a.geom, z.geom), 4326)::geography)), 0)
                FROM ${FARMLAND_INSIDE})`,
      type: 'float',
      source: { derived: f.publicOpen('Area of farmland inside the zone, square metres (geodesic)') },
    },
  },
  ogc: {
    geometry: 'geometry',
    geometryType: 'MultiPolygon',
    properties: [
      'division_code',
      'approved_on',
      'zone_area',
      'entities_inside',
      'farmland_parcels',
      'farmland_overlap_area',
    ],
    tiles: { minZoom: 3, maxZoom: 16, featureCap: 5000 },
  },
};

export const EcologicalProtectionRef = defineSubject(ecologicalProtection);

function entitiesInside(ctx: GatewayContext) {
  return ctx.loaders.get<number, EntityRow[]>('subject.eco.entities', async (zoneIds) => {
    const found = await rows<EntityRow & { zoneId: number }>(
      ctx.db,
      sql`SELECT z.id AS "zoneId", ${ENTITY_COLUMNS}
            FROM features z JOIN entities e ON e.status = 'active' AND e.point IS NOT NULL
                 AND e.point && z.geom AND ST_Intersects(z.geom, e.point)
           WHERE z.id = ANY(${sql.param(zoneIds.map(Number))}::bigint[])
             AND ${entityScope(ctx.access.principal.scope)}
           ORDER BY z.id, e.id`,
    );
    return groupByKey(zoneIds.map(Number), found, (r) => Number(r.zoneId));
  });
}

function farmlandInside(ctx: GatewayContext) {
  return ctx.loaders.get<number, unknown[]>('subject.eco.farmland', async (zoneIds) => {
    const found = await rows<{ zoneId: number }>(
      ctx.db,
      sql`SELECT z.id AS "zoneId", ${FEATURE_COLUMNS}, NULL::float8 AS "distanceMetres"
            FROM features z JOIN features f ON f.layer_id = 'farmland' AND f.geom && z.geom
                 AND ST_IsValid(f.geom) AND ST_Intersects(f.geom, z.geom)
           WHERE z.id = ANY(${sql.param(zoneIds.map(Number))}::bigint[])
           ORDER BY z.id, f.id`,
    );
    return groupByKey(zoneIds.map(Number), found, (r) => Number(r.zoneId));
  });
}

builder.objectField(EcologicalProtectionRef, 'entities', (t) =>
  t.field({
    type: [EntityRef],
    nullable: false,
    requiresDataset: entitiesDataset,
    access: { dataset: entitiesDataset, field: 'aggregate' },
    description: 'The active entities inside the zone (within the caller’s jurisdiction)',
    resolve: (row, _a, ctx) => entitiesInside(ctx).load(Number(row.zone_id)),
  }),
);

builder.objectField(EcologicalProtectionRef, 'farmland', (t) =>
  t.field({
    type: [FeatureRef],
    nullable: false,
    requiresDataset: featuresDataset,
    access: 'link',
    description: 'The valid farmland parcels the zone overlaps',
    resolve: (row, _a, ctx) => farmlandInside(ctx).load(Number(row.zone_id)) as never,
  }),
);
