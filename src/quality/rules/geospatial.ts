import type { Rule, SqlRule } from '../types.ts';
import { BOUNDARY_OF_DIVISION } from './population.ts';
import { freshnessSql } from './timeliness.ts';

/**
 * Rules over the thematic layers of the geospatial registry (schema/geospatial.ts): feature geometry and
 * dates, timeliness by each layer's own update frequency, features and gazetteer points inside their
 * division, and features naming a known layer.
 */

const SOURCE = 'builtin:src/quality/rules/geospatial.ts';
const FEATURES = 'spatial.features';
const common = { registry: 'spatial', dataset: FEATURES, source: SOURCE } as const;
const featurePopulation = { from: 'features f', division: 'f.division_code' };

export const featureGeometryValid: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.features.geometry_valid',
  dimension: 'accuracy',
  severity: 'error',
  threshold: 0.001,
  description: 'Feature geometries are valid OGC geometries (ST_IsValid), with the reason when not',
  population: featurePopulation,
  check: `
SELECT f.id AS key, f.division_code, 'invalid geometry in layer ' || f.layer_id || ': ' || ST_IsValidReason(f.geom) AS detail
  FROM features f
 WHERE NOT ST_IsValid(f.geom)`,
};

export const featureDatesPlausible: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.features.dates_plausible',
  dimension: 'accuracy',
  severity: 'error',
  threshold: 0.001,
  description:
    'Feature validity dates are plausible: not starting after the reference date or before 1900, not ending before they start',
  population: featurePopulation,
  check: `
SELECT f.id AS key, f.division_code,
       concat_ws('; ',
         CASE WHEN f.valid_from > :as_of THEN 'valid from ' || f.valid_from || ', after the reference date' END,
         CASE WHEN f.valid_from < date '1900-01-01' THEN 'valid from ' || f.valid_from || ', before 1900' END,
         CASE WHEN f.valid_to < f.valid_from THEN 'valid to ' || f.valid_to || ', before valid from ' || f.valid_from END) AS detail
  FROM features f
 WHERE f.valid_from > :as_of OR f.valid_from < date '1900-01-01' OR f.valid_to < f.valid_from`,
};

export const featureTimeliness: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.features.timeliness',
  dimension: 'timeliness',
  severity: 'warn',
  threshold: 0.05,
  description:
    "Features were updated within their layer's update frequency (daily 2 days, monthly 1 month 7 days, quarterly 3 months 15 days, yearly 1 year 1 month)",
  population: {
    from: 'features f',
    where: `EXISTS (SELECT 1 FROM layers l WHERE l.id = f.layer_id AND ${freshnessSql('l.update_frequency')} IS NOT NULL)`,
    division: 'f.division_code',
  },
  check: `
SELECT f.id AS key, f.division_code,
       'last updated ' || to_char(f.updated_at, 'YYYY-MM-DD') || '; layer ' || l.id || ' is updated ' || l.update_frequency AS detail
  FROM features f JOIN layers l ON l.id = f.layer_id
 WHERE f.updated_at < :as_of - ${freshnessSql('l.update_frequency')}`,
};

export const featureLayerKnown: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.features.layer_known',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description: 'A feature belongs to a layer of the layer catalogue',
  population: featurePopulation,
  check: `
SELECT f.id AS key, f.division_code, 'layer ' || f.layer_id || ' is not in the layer catalogue' AS detail
  FROM features f
 WHERE NOT EXISTS (SELECT 1 FROM layers l WHERE l.id = f.layer_id)`,
};

export const featureInDivision: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.features.in_division',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.002,
  description:
    'A valid feature lies inside the division it is recorded in (the finest boundary available up its chain)',
  population: { from: 'features f', where: 'f.division_code IS NOT NULL', division: 'f.division_code' },
  check: `
SELECT f.id AS key, f.division_code,
       'feature of layer ' || f.layer_id || ' reaches ' || round((ST_DistanceSphere(ST_ClosestPoint(b.boundary, ST_PointOnSurface(f.geom)), ST_PointOnSurface(f.geom)) / 1000)::numeric, 1)
         || ' km outside ' || b.code || ' ' || b.name AS detail
  FROM features f
  JOIN (${BOUNDARY_OF_DIVISION}) bd ON bd.division_code = f.division_code
  JOIN divisions b ON b.code = bd.boundary_code
 WHERE CASE WHEN ST_IsValid(f.geom) THEN NOT ST_Covers(b.boundary, f.geom) ELSE false END`,
};

export const placeNameInDivision: SqlRule = {
  ...common,
  dataset: 'spatial.place_names',
  kind: 'sql',
  id: 'spatial.place_names.in_division',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.002,
  description: 'A gazetteer point lies inside its division (the finest boundary available up its chain)',
  population: { from: 'place_names n', division: 'n.division_code' },
  check: `
SELECT n.id AS key, n.division_code,
       'point lies ' || round((ST_DistanceSphere(ST_ClosestPoint(b.boundary, n.point), n.point) / 1000)::numeric, 1)
         || ' km outside ' || b.code || ' ' || b.name AS detail
  FROM place_names n
  JOIN (${BOUNDARY_OF_DIVISION}) bd ON bd.division_code = n.division_code
  JOIN divisions b ON b.code = bd.boundary_code
 WHERE NOT ST_Covers(b.boundary, n.point)`,
};

export const GEOSPATIAL_RULES: readonly Rule[] = [
  featureGeometryValid,
  featureDatesPlausible,
  featureTimeliness,
  featureLayerKnown,
  featureInDivision,
  placeNameInDivision,
];
