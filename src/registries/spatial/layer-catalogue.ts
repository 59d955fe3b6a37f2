import type { LayerTheme } from '../../../schema/geospatial.ts';
import type { GeometryType, PropertyType } from '../../ogc/collections.ts';

/**
 * The layers of the geospatial registry, declared in code with the schema of their `properties` jsonb.
 * The generator writes these rows to `layers`; the OGC collections and GraphQL read the schemas here.
 */
export interface LayerProperty {
  type: PropertyType;
  title: string;
  /** Allowed values, for enumerations. */
  values?: readonly string[];
}

export interface LayerDefinition {
  id: string;
  theme: LayerTheme;
  name: string;
  ownerDept: string;
  geometryType: GeometryType;
  updateFrequency: 'daily' | 'monthly' | 'quarterly' | 'yearly';
  classification: 'public' | 'internal';
  properties: Record<string, LayerProperty>;
}

export const PLANNING_ZONE_KINDS = [
  'ecological_protection_red_line',
  'permanent_basic_farmland',
  'urban_development_boundary',
] as const;
export const NATURAL_RESOURCE_KINDS = [
  'mountain',
  'water',
  'forest',
  'field',
  'lake',
  'grassland',
  'desert',
  'glacier',
] as const;

export const LAYERS: readonly LayerDefinition[] = [
  {
    id: 'urban-layout',
    theme: 'urban_layout',
    name: '城市布局 Urban layout blocks',
    ownerDept: 'MOHURD',
    geometryType: 'MultiPolygon',
    updateFrequency: 'quarterly',
    classification: 'public',
    properties: {
      land_use: {
        type: 'string',
        title: 'Land use',
        values: ['residential', 'commercial', 'industrial', 'public'],
      },
      floor_area_ratio: { type: 'number', title: 'Floor area ratio' },
    },
  },
  {
    id: 'farmland',
    theme: 'farmland',
    name: '耕地 Farmland parcels',
    ownerDept: 'MNR',
    geometryType: 'MultiPolygon',
    updateFrequency: 'yearly',
    classification: 'public',
    properties: {
      crop: { type: 'string', title: 'Main crop', values: ['rice', 'wheat', 'maize', 'soybean'] },
      irrigated: { type: 'boolean', title: 'Irrigated' },
    },
  },
  {
    id: 'planning-zones',
    theme: 'planning_zone',
    name: '三区三线 Planning control lines',
    ownerDept: 'MNR',
    geometryType: 'MultiPolygon',
    updateFrequency: 'yearly',
    classification: 'public',
    properties: {
      zone_kind: { type: 'string', title: 'Control line', values: PLANNING_ZONE_KINDS },
      approved_on: { type: 'date', title: 'Approved on' },
    },
  },
  {
    id: 'natural-resources',
    theme: 'natural_resource',
    name: '自然资源 Natural resources (mountains, water, forests, fields, lakes, grassland, desert, glaciers)',
    ownerDept: 'MNR',
    geometryType: 'MultiPolygon',
    updateFrequency: 'yearly',
    classification: 'public',
    properties: {
      kind: { type: 'string', title: 'Resource kind', values: NATURAL_RESOURCE_KINDS },
      registered_area_ha: { type: 'number', title: 'Registered area (ha)' },
    },
  },
  {
    id: 'infrastructure',
    theme: 'infrastructure',
    name: '基础设施 Roads and pipelines',
    ownerDept: 'MOT',
    geometryType: 'MultiLineString',
    updateFrequency: 'quarterly',
    classification: 'internal',
    properties: {
      kind: { type: 'string', title: 'Kind', values: ['road', 'pipeline', 'power_line'] },
      grade: { type: 'integer', title: 'Grade' },
    },
  },
  {
    id: 'ecology',
    theme: 'ecology',
    name: '生态监测点 Ecological monitoring sites',
    ownerDept: 'MEE',
    geometryType: 'Point',
    updateFrequency: 'monthly',
    classification: 'public',
    properties: {
      indicator: { type: 'string', title: 'Indicator', values: ['air', 'water', 'soil', 'biodiversity'] },
      value: { type: 'number', title: 'Last value' },
    },
  },
  {
    id: 'rs-footprints',
    theme: 'remote_sensing_footprint',
    name: '遥感影像覆盖 Remote-sensing footprints',
    ownerDept: 'MNR',
    geometryType: 'MultiPolygon',
    updateFrequency: 'daily',
    classification: 'public',
    properties: {
      acquired_at: { type: 'date-time', title: 'Acquisition time' },
      sensor: { type: 'string', title: 'Sensor', values: ['GF-1', 'GF-2', 'ZY-3', 'Sentinel-2'] },
      cloud_cover: { type: 'number', title: 'Cloud cover (%)' },
    },
  },
  {
    // Point facilities of the infrastructure theme: what the elderly-care subject (src/subjects) finds nearest.
    id: 'care-facilities',
    theme: 'infrastructure',
    name: '养老服务设施 Elderly care facilities',
    ownerDept: 'MCA',
    geometryType: 'Point',
    updateFrequency: 'quarterly',
    classification: 'public',
    properties: {
      kind: {
        type: 'string',
        title: 'Kind',
        values: ['nursing_home', 'day_care_centre', 'community_service_station'],
      },
      beds: { type: 'integer', title: 'Beds' },
      name: { type: 'string', title: 'Name' },
    },
  },
];

export function layerById(id: string): LayerDefinition | undefined {
  return LAYERS.find((l) => l.id === id);
}

/** The SQL expression reading one typed property out of `properties`. */
export function propertySql(name: string, type: PropertyType): string {
  const text = `(properties->>'${name}')`;
  switch (type) {
    case 'integer':
      return `${text}::int`;
    case 'number':
      return `${text}::float8`;
    case 'boolean':
      return `${text}::boolean`;
    case 'date':
      return `${text}::date`;
    case 'date-time':
      return `${text}::timestamptz`;
    default:
      return text;
  }
}
