import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { geometry } from '../src/db/geometry-column.ts';
import { dataset, type FieldEntry, f } from './catalogue.ts';
import { provenanceColumns, provenanceFields } from './provenance.ts';

/**
 * The geospatial base registry: thematic layers (urban layout, farmland, planning zones, natural
 * resources, infrastructure, ecology, remote-sensing footprints), their features, and the gazetteer.
 * Geometry is CGCS2000 (EPSG:4490), like divisions.
 */

export const LAYER_THEMES = [
  'urban_layout',
  'farmland',
  'planning_zone',
  'natural_resource',
  'infrastructure',
  'ecology',
  'remote_sensing_footprint',
] as const;
export type LayerTheme = (typeof LAYER_THEMES)[number];

export const layers = pgTable('layers', {
  id: text('id').primaryKey(),
  theme: text('theme', { enum: LAYER_THEMES }).notNull(),
  name: text('name').notNull(),
  ownerDept: text('owner_dept').notNull(),
  geometryType: text('geometry_type', {
    enum: ['Point', 'LineString', 'Polygon', 'MultiPolygon', 'Geometry'],
  }).notNull(),
  crs: text('crs').notNull().default('EPSG:4490'),
  updateFrequency: text('update_frequency').notNull(),
  /** 'public' or 'internal' (catalogue level names). */
  classification: text('classification', { enum: ['public', 'internal', 'restricted'] }).notNull(),
  ...provenanceColumns(),
});

/**
 * Columns shared by features and features_history, so a history row is the feature row as it was. A feature's
 * valid_from/valid_to are its business validity (dates the source gives); `version` and `recorded_from` are
 * transaction time, like a person's version and valid_from: when the registry recorded this version.
 */
const featureColumns = (history: boolean) => ({
  id: history ? bigint('id', { mode: 'number' }).notNull() : bigserial('id', { mode: 'number' }).primaryKey(),
  layerId: text('layer_id').notNull(),
  geom: geometry('geom', 'Geometry').notNull(),
  /** Typed per layer: see LAYER_PROPERTY_SCHEMAS in src/registries/spatial/layer-catalogue.ts. */
  properties: jsonb('properties').notNull().default(sql`'{}'::jsonb`),
  validFrom: date('valid_from'),
  validTo: date('valid_to'),
  divisionCode: text('division_code'),
  ...provenanceColumns(),
  version: integer('version').notNull().default(1),
  recordedFrom: timestamp('recorded_from', { withTimezone: true }).notNull().defaultNow(),
});

export const features = pgTable('features', featureColumns(false), (t) => [
  index('features_layer_idx').on(t.layerId, t.id),
  index('features_division_idx').on(t.divisionCode),
  index('features_geom_gix').using('gist', t.geom),
]);

/** Every superseded version of a feature, written by a trigger on update and delete (migration 0014). */
export const featuresHistory = pgTable(
  'features_history',
  {
    ...featureColumns(true),
    supersededAt: timestamp('superseded_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('features_history_id_idx').on(t.id, t.recordedFrom)],
);

export const PLACE_NAME_TYPES = [
  'province_seat',
  'city_seat',
  'county_seat',
  'town_seat',
  'landmark',
] as const;

export const placeNames = pgTable(
  'place_names',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    name: text('name').notNull(),
    type: text('type', { enum: PLACE_NAME_TYPES }).notNull(),
    divisionCode: text('division_code').notNull(),
    point: geometry('point', 'Point').notNull(),
    ...provenanceColumns(),
  },
  (t) => [
    index('place_names_division_idx').on(t.divisionCode),
    index('place_names_point_gix').using('gist', t.point),
  ],
);

export const layersDataset = dataset(
  layers,
  {
    id: 'spatial.layers',
    name: '空间图层目录 Spatial layers',
    description: 'Thematic layers of the geospatial base registry with owner, CRS and classification',
    registry: 'spatial',
    owner: 'MNR',
    updateFrequency: 'monthly',
  },
  {
    id: f.publicOpen('Layer id'),
    theme: f.publicOpen('Theme (urban_layout, farmland, planning_zone, natural_resource, …)'),
    name: f.publicOpen('Layer name'),
    ownerDept: f.publicOpen('Department responsible for the layer'),
    geometryType: f.publicOpen('Geometry type of its features'),
    crs: f.publicOpen('Coordinate reference system (EPSG:4490)'),
    updateFrequency: f.publicOpen('How often the layer is updated'),
    classification: f.publicOpen('Classification level of the layer (public, internal, restricted)'),
    ...provenanceFields,
  },
);

const featureFields = {
  id: f.publicOpen('Feature id'),
  layerId: f.publicOpen('Layer the feature belongs to'),
  geom: f.publicOpen('Feature geometry, CGCS2000'),
  properties: f.publicOpen('Typed properties (schema per layer)'),
  validFrom: f.publicOpen('Date from which the feature is valid'),
  validTo: f.publicOpen('Date from which the feature is no longer valid'),
  divisionCode: f.publicOpen('County-level division containing the feature'),
  ...provenanceFields,
  version: f.publicOpen('Version number, incremented on every change'),
  recordedFrom: f.publicOpen('When the registry recorded this version (transaction time)'),
} satisfies Record<string, FieldEntry>;

/** Past versions are not open data: internal, read with a grant on the history dataset. */
const featureHistoryFields = Object.fromEntries(
  Object.entries(featureFields).map(([name, entry]) => [name, f.meta(entry.description)]),
) as Record<keyof typeof featureFields, FieldEntry>;

export const featuresDataset = dataset(
  features,
  {
    id: 'spatial.features',
    name: '空间要素 Spatial features',
    description: 'Features of the thematic layers, CGCS2000, with typed properties and validity',
    registry: 'spatial',
    owner: 'MNR',
    updateFrequency: 'monthly',
  },
  featureFields,
  {
    area: f.publicOpen('Area in square metres (geodesic)'),
    length: f.publicOpen('Length or perimeter in metres (geodesic)'),
  },
);

export const featuresHistoryDataset = dataset(
  featuresHistory,
  {
    id: 'spatial.features_history',
    name: '空间要素历史 Feature versions',
    description:
      'Superseded versions of features, with the time each was recorded and replaced (not open data)',
    registry: 'spatial',
    owner: 'MNR',
    updateFrequency: 'realtime',
  },
  { ...featureHistoryFields, supersededAt: f.meta('When this version was replaced') },
);

export const placeNamesDataset = dataset(
  placeNames,
  {
    id: 'spatial.place_names',
    name: '地名 Gazetteer',
    description: 'Standard place names (division seats, landmarks) with points',
    registry: 'spatial',
    owner: 'MCA',
    updateFrequency: 'yearly',
  },
  {
    id: f.publicOpen('Place name id'),
    name: f.publicOpen('Standard name'),
    type: f.publicOpen('province_seat, city_seat, county_seat, town_seat or landmark'),
    divisionCode: f.publicOpen('Division the place lies in'),
    point: f.publicOpen('Location, CGCS2000'),
    ...provenanceFields,
  },
  { distanceMetres: f.publicOpen('Distance to a query point, metres') },
);
