import { type Dataset, LEVELS } from '../../../schema/catalogue.ts';
import { personsDataset } from '../../../schema/population.ts';
import { buildIdNumber } from '../../codes/index.ts';
import { atRest } from '../../crypto/at-rest.ts';
import type { Queryable } from '../../db/index.ts';
import { type CollectionDefinition, registerCollection } from '../collections.ts';
import { smallCellSuppression } from '../hooks.ts';

/**
 * Collections that exist only in tests: a non-public point layer (persons' residence points: masked,
 * scoped, audited) and an aggregate layer (persons per county, small counts suppressed). They show what
 * a later layer looks like, and prove invisibility, masking, row scope, hooks and audit end to end.
 */

const persons = personsDataset as unknown as Dataset;

export const TEST_PERSONS: CollectionDefinition = {
  id: 'test-persons',
  title: 'Test: residence points',
  description: 'Persons at their residence points (test only)',
  dataset: persons,
  source: `(SELECT id, name, gender, birth_date, residence_division_code, residence_point FROM persons
             WHERE residence_point IS NOT NULL)`,
  idColumn: 'id',
  idType: 'integer',
  geometry: { column: 'residence_point', field: 'residencePoint', type: 'Point' },
  properties: {
    name: { column: 'name', field: 'name', type: 'string' },
    gender: { column: 'gender', field: 'gender', type: 'string' },
    birth_date: { column: 'birth_date', field: 'birthDate', type: 'date' },
    division: { column: 'residence_division_code', field: 'residenceDivisionCode', type: 'string' },
  },
  // A department sees the residents of its jurisdiction; nobody without a department sees any.
  rowScope: (principal, param) => {
    if (principal.kind === 'public') return 'FALSE';
    if (!principal.scope) return null;
    return `residence_division_code BETWEEN ${param(principal.scope.lo, 'text')} AND ${param(principal.scope.hi, 'text')}`;
  },
  tiles: { minZoom: 0, maxZoom: 16, cluster: { belowZoom: 12, cellUnits: 512 } },
};

export const TEST_POPULATION: CollectionDefinition = {
  id: 'test-population-county',
  title: 'Test: residents per county',
  description: 'Number of residents per county with a boundary (test only)',
  dataset: persons,
  source: `(SELECT d.code, d.name, d.boundary, c.residents
              FROM divisions d
              JOIN (SELECT residence_division_code AS code, count(*)::int AS residents FROM persons GROUP BY 1) c
                ON c.code = d.code
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
  // Aggregates are public (persons' `aggregate` entry) although persons' rows are not.
  canRead: (ctx) => ctx.access.decide(persons, 'aggregate').kind !== 'deny',
  hook: smallCellSuppression({
    property: 'residents',
    cleared: (ctx) => (ctx.principal.grants.get(persons.id)?.maxLevel ?? 0) >= LEVELS.restricted,
  }),
  tiles: { minZoom: 4, maxZoom: 14 },
};

/** Registers both; returns the function that removes them. */
export function registerTestCollections(): () => void {
  const removers = [registerCollection(TEST_PERSONS), registerCollection(TEST_POPULATION)];
  return () => {
    for (const remove of removers) remove();
  };
}

/** Residents per county for the fixtures: 110105 40, 110108 12, 110101 3, 120101 2; plus 6 in Guangzhou. */
export const TEST_RESIDENTS: Record<string, { count: number; centre: [number, number] }> = {
  '110105': { count: 40, centre: [116.48, 39.94] },
  '110108': { count: 12, centre: [116.3, 39.99] },
  '110101': { count: 3, centre: [116.41, 39.92] },
  '120101': { count: 2, centre: [117.2, 39.12] },
  '440103': { count: 6, centre: [113.25, 23.12] },
};

/** Inserts the fixture persons (one statement) at deterministic points scattered around each county's centre. */
export async function insertTestPersons(db: Queryable): Promise<void> {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const rows: Record<string, unknown>[] = [];
  const codec = await atRest(db);
  for (const [county, { count, centre }] of Object.entries(TEST_RESIDENTS)) {
    for (let i = 0; i < count; i++) {
      const gender = i % 2 ? '1' : '2';
      const birthDate = `19${60 + (i % 40)}-0${1 + (i % 9)}-1${i % 10}`;
      // The 17th digit's parity is the gender (odd: male).
      const sequence = 2 * i + (gender === '1' ? 1 : 0);
      rows.push({
        ...codec.encodeRow('persons', { id_number: buildIdNumber(county, birthDate, sequence) }),
        name: `测试${county.slice(4)}${i}`,
        gender,
        birth_date: birthDate,
        county,
        lon: centre[0] + (random() - 0.5) * 0.06,
        lat: centre[1] + (random() - 0.5) * 0.04,
      });
    }
  }
  await db.query(
    `INSERT INTO persons (id_number, id_number_bidx, name, gender, birth_date, ethnicity, hukou_division_code,
                          residence_division_code, residence_point, source_dept, source_batch)
     SELECT id_number, id_number_bidx, name, gender, birth_date::date, '01', county, county,
            ST_SetSRID(ST_Point(lon, lat), 4490), 'MPS', 'test-ogc'
       FROM jsonb_to_recordset($1::jsonb)
         AS r(id_number text, id_number_bidx text, name text, gender text, birth_date text, county text, lon float8,
              lat float8)`,
    [JSON.stringify(rows)],
  );
}
