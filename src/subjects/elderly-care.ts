import { f } from '../../schema/catalogue.ts';
import { featuresDataset } from '../../schema/geospatial.ts';
import { householdsDataset, personsDataset } from '../../schema/population.ts';
import { builder } from '../gateway/builder.ts';
import { personById } from '../registries/population/person-store.ts';
import { PersonRef } from '../registries/population/person-types.ts';

import { defineSubject, jurisdictionScope, type SubjectDefinition } from './subject.ts';

const GEOG = (g: string) => `ST_SetSRID(${g}, 4326)::geography`;

/**
 * 养老服务专题 — elderly care. Who: every living person carrying the `elderly` tag (age ≥ 60 on the
 * reference date of its last recompute, src/tags/definitions.ts). With: their household (type and current
 * number of members), their residence point, and the nearest care facility of the infrastructure theme
 * (layer `care-facilities`) with its geodesic distance.
 *
 * Nearest facility: the geodesically nearest (ties by id), found through the GiST index (see `lateral`).
 * Rows are scoped like persons (registered or residing in the caller's jurisdiction).
 */
export const elderlyCare: SubjectDefinition = {
  id: 'elderly_care',
  typeName: 'ElderlyCareRecord',
  queryName: 'elderlyCare',
  name: '养老服务专题 Elderly care',
  description:
    'Persons tagged elderly, with their household, residence point and the nearest elderly care facility (distance in metres)',
  owner: 'MCA',
  updateFrequency: 'daily',
  anchor: personsDataset as never,
  from: `tag_assignments t
         JOIN persons p ON p.id = t.record_id
         LEFT JOIN households h ON h.id = p.household_id`,
  where: `t.tag_code = 'elderly' AND t.valid_to IS NULL AND p.status = 'alive'`,
  // Exact geodesic nearest, index-assisted: the planar-nearest facility's ground distance D bounds the
  // answer; every facility within D on the ground lies within D / (110 km·cos φmax) degrees (φmax the
  // highest latitude within D), so one ST_DWithin on the GiST index finds all candidates.
  lateral: `LEFT JOIN LATERAL (
      SELECT c.id, c.properties->>'kind' AS kind, c.properties->>'name' AS name,
             ST_Distance(${GEOG('c.geom')}, ${GEOG('p.residence_point')}) AS distance
        FROM (SELECT ST_Distance(${GEOG('f.geom')}, ${GEOG('p.residence_point')}) AS d
                FROM features f WHERE f.layer_id = 'care-facilities' AND p.residence_point IS NOT NULL
               ORDER BY f.geom <-> p.residence_point LIMIT 1) first
        JOIN features c ON c.layer_id = 'care-facilities'
         AND ST_DWithin(c.geom, p.residence_point,
               1.01 * first.d / 110000.0 / cos(radians(least(89.0, abs(ST_Y(p.residence_point)) + first.d / 110000.0))))
       ORDER BY distance, c.id LIMIT 1) nf ON TRUE`,
  key: 'person_id',
  division: 'residence_division_code',
  scope: jurisdictionScope(['hukou_division_code', 'residence_division_code']),
  auditSubject: (row) => `person:${row.person_id}`,
  columns: {
    person_id: { expr: 'p.id', type: 'id', source: { dataset: personsDataset as never, field: 'id' } },
    name: { expr: 'p.name', type: 'string', source: { dataset: personsDataset as never, field: 'name' } },
    gender: {
      expr: 'p.gender',
      type: 'string',
      source: { dataset: personsDataset as never, field: 'gender' },
    },
    birth_date: {
      expr: 'p.birth_date',
      type: 'date',
      source: { dataset: personsDataset as never, field: 'birthDate' },
    },
    age: {
      expr: `date_part('year', age(current_date, p.birth_date))::int`,
      type: 'int',
      source: { dataset: personsDataset as never, field: 'age' },
      description: 'Age in whole years today',
    },
    hukou_division_code: {
      expr: 'p.hukou_division_code',
      type: 'string',
      source: { dataset: personsDataset as never, field: 'hukouDivisionCode' },
    },
    residence_division_code: {
      expr: 'p.residence_division_code',
      type: 'string',
      source: { dataset: personsDataset as never, field: 'residenceDivisionCode' },
    },
    residence_point: {
      expr: 'p.residence_point',
      type: 'geometry',
      source: { dataset: personsDataset as never, field: 'residencePoint' },
    },
    household_id: {
      expr: 'p.household_id',
      type: 'id',
      source: { dataset: personsDataset as never, field: 'householdId' },
    },
    household_type: {
      expr: 'h.type',
      type: 'string',
      source: { dataset: householdsDataset as never, field: 'type' },
    },
    household_members: {
      expr: `(SELECT count(*) FROM household_members m WHERE m.household_id = p.household_id AND m.valid_to IS NULL)::int`,
      type: 'int',
      source: { dataset: householdsDataset as never, field: 'memberCount' },
      description: 'Current members of the household (1: living alone)',
    },
    facility_id: {
      expr: 'nf.id',
      type: 'id',
      lateral: true,
      source: { dataset: featuresDataset as never, field: 'id' },
      description: 'Nearest care facility (feature id in layer care-facilities)',
    },
    facility_name: {
      expr: 'nf.name',
      type: 'string',
      lateral: true,
      source: { dataset: featuresDataset as never, field: 'properties' },
      description: 'Name of the nearest care facility',
    },
    facility_kind: {
      expr: 'nf.kind',
      type: 'string',
      lateral: true,
      source: { dataset: featuresDataset as never, field: 'properties' },
      description: 'nursing_home, day_care_centre or community_service_station',
    },
    facility_distance_metres: {
      expr: 'nf.distance',
      type: 'float',
      lateral: true,
      // A distance from the residence to a public point locates the person on a circle: personal information,
      // not the precise location itself.
      source: {
        derived: f.restricted(
          'Geodesic distance from the residence point to the nearest care facility, metres',
        ),
      },
    },
  },
  ogc: {
    geometry: 'residence_point',
    geometryType: 'Point',
    properties: ['age', 'gender', 'residence_division_code', 'household_id'],
  },
};

export const ElderlyCareRef = defineSubject(elderlyCare);

builder.objectField(ElderlyCareRef, 'person', (t) =>
  t.field({
    type: PersonRef,
    nullable: true,
    requiresDataset: personsDataset,
    access: { dataset: personsDataset, field: 'id' },
    description: 'The person in the population registry (tags, household members, residences)',
    resolve: (row, _a, ctx) => personById(ctx).load(Number(row.person_id)),
  }),
);
