import { sql } from 'drizzle-orm';
import { bigserial, date, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { geometry } from '../src/db/geometry-column.ts';
import { dataset, f } from './catalogue.ts';
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

export const features = pgTable(
  'features',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    layerId: text('layer_id').notNull(),
    geom: geometry('geom', 'Geometry').notNull(),
    /** Typed per layer: see LAYER_PROPERTY_SCHEMAS in src/registries/spatial/layer-catalogue.ts. */
    properties: jsonb('properties').notNull().default(sql`'{}'::jsonb`),
    validFrom: date('valid_from'),
    validTo: date('valid_to'),
    divisionCode: text('division_code'),
    ...provenanceColumns(),
  },
  (t) => [
    index('features_layer_idx').on(t.layerId, t.id),
    index('features_division_idx').on(t.divisionCode),
    index('features_geom_gix').using('gist', t.geom),
  ],
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
  {
    id: f.publicOpen('Feature id'),
    layerId: f.publicOpen('Layer the feature belongs to'),
    geom: f.publicOpen('Feature geometry, CGCS2000'),
    properties: f.publicOpen('Typed properties (schema per layer)'),
    validFrom: f.publicOpen('Date from which the feature is valid'),
    validTo: f.publicOpen('Date from which the feature is no longer valid'),
    divisionCode: f.publicOpen('County-level division containing the feature'),
    ...provenanceFields,
  },
  {
    area: f.publicOpen('Area in square metres (geodesic)'),
    length: f.publicOpen('Length or perimeter in metres (geodesic)'),
  },
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
