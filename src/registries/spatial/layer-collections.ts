import { type Dataset, LEVELS } from '../../../schema/catalogue.ts';
import { featuresDataset, placeNamesDataset } from '../../../schema/geospatial.ts';
import { personsDataset } from '../../../schema/population.ts';
import { layerAttributeProperties } from '../../attributes/ogc.ts';
import {
  type CollectionDefinition,
  getCollection,
  type PropertyDefinition,
  registerCollection,
} from '../../ogc/collections.ts';
import { smallCellSuppression } from '../../ogc/hooks.ts';
import { LAYERS, type LayerDefinition, propertySql } from './layer-catalogue.ts';

/**
 * OGC API – Features collections and vector tilesets of the geospatial registry: one per layer
 * (`layer-<id>`), the gazetteer (`place-names`) and residents per county (`persons-per-county`, the /map
 * choropleth, small counts suppressed). Registered when this module is first imported.
 */

const features = featuresDataset as unknown as Dataset;
const persons = personsDataset as unknown as Dataset;

export function layerCollectionId(layerId: string): string {
  return `layer-${layerId}`;
}

function layerCollection(layer: LayerDefinition): CollectionDefinition {
  const properties: Record<string, PropertyDefinition> = {
    layer_id: { column: 'layer_id', field: 'layerId', type: 'string', title: 'Layer' },
    division_code: { column: 'division_code', field: 'divisionCode', type: 'string', title: 'Division' },
    valid_from: { column: 'valid_from', field: 'validFrom', type: 'date', title: 'Valid from' },
  };
  for (const [name, p] of Object.entries(layer.properties)) {
    properties[name] = {
      column: propertySql(name, p.type),
      field: 'properties',
      type: p.type,
      title: p.title,
    };
  }
  return {
    id: layerCollectionId(layer.id),
    title: layer.name,
    description: `${layer.name} (theme ${layer.theme}, owner ${layer.ownerDept}, ${layer.classification}), CGCS2000`,
    keywords: ['geospatial registry', layer.theme],
    dataset: features,
    source: `(SELECT id, layer_id, geom, properties, valid_from, valid_to, division_code FROM features
               WHERE layer_id = '${layer.id}')`,
    idColumn: 'id',
    idType: 'integer',
    geometry: { column: 'geom', field: 'geom', type: layer.geometryType },
    properties,
    temporal: { start: 'valid_from', end: 'valid_to', type: 'date' },
    canRead: (ctx) => layer.classification === 'public' || ctx.principal.kind !== 'public',
    // Attributes defined on demand for the layer (src/attributes/ogc.ts), read per request.
    dynamicProperties: (db) => layerAttributeProperties(db, layer.id),
    tiles:
      layer.geometryType === 'Point'
        ? { minZoom: 0, maxZoom: 16, cluster: { belowZoom: 8 } }
        : { minZoom: 3, maxZoom: 16, featureCap: 5000 },
  };
}

export const PLACE_NAMES_COLLECTION: CollectionDefinition = {
  id: 'place-names',
  title: '地名 Gazetteer',
  description: 'Standard place names (division seats) with points, CGCS2000',
  keywords: ['gazetteer', 'place names'],
  dataset: placeNamesDataset as unknown as Dataset,
  source: 'place_names',
  idColumn: 'id',
  idType: 'integer',
  geometry: { column: 'point', field: 'point', type: 'Point' },
  properties: {
    name: { column: 'name', field: 'name', type: 'string', title: 'Name' },
    type: { column: 'type', field: 'type', type: 'string', title: 'Type' },
    division_code: { column: 'division_code', field: 'divisionCode', type: 'string', title: 'Division' },
  },
  defaultSort: '+name',
  tiles: { minZoom: 0, maxZoom: 16, featureCap: 3000 },
};

/** Residents per county (by residence division), for choropleths; small counts suppressed. */
export const PERSONS_PER_COUNTY_COLLECTION: CollectionDefinition = {
  id: 'persons-per-county',
  title: '各县常住人口 Residents per county',
  description: 'Number of residents per county with a boundary; counts below the threshold are withheld',
  dataset: persons,
  source: `(SELECT d.code, d.name, d.boundary, COALESCE(c.residents, 0) AS residents
              FROM divisions d
              LEFT JOIN (SELECT residence_division_code AS code, count(*)::int AS residents FROM persons
                          WHERE status = 'alive' GROUP BY 1) c ON c.code = d.code
             WHERE d.level = 'county' AND d.valid_to IS NULL AND d.boundary IS NOT NULL)`,
  idColumn: 'code',
  idType: 'string',
  tileIdColumn: 'code::bigint',
  geometry: { column: 'boundary', field: 'aggregate', type: 'MultiPolygon' },
  properties: {
    code: { column: 'code', field: 'aggregate', type: 'string' },
    name: { column: 'name', field: 'aggregate', type: 'string' },
    residents: { column: 'residents', field: 'aggregate', type: 'integer', queryable: false },
  },
  defaultSort: '+code',
  canRead: (ctx) => ctx.access.decide(persons, 'aggregate').kind !== 'deny',
  hook: smallCellSuppression({
    property: 'residents',
    cleared: (ctx) => (ctx.principal.grants.get(persons.id)?.maxLevel ?? 0) >= LEVELS.restricted,
  }),
  tiles: { minZoom: 3, maxZoom: 14 },
};

/** Idempotent: registers the geospatial collections unless they already are. */
export function registerGeospatialCollections(): void {
  for (const definition of [
    ...LAYERS.map(layerCollection),
    PLACE_NAMES_COLLECTION,
    PERSONS_PER_COUNTY_COLLECTION,
  ]) {
    if (!getCollection(definition.id)) registerCollection(definition);
  }
}

registerGeospatialCollections();
