import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { csvField, type Database } from '../db/index.ts';
import { readCsvRecords } from './csv.ts';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures', import.meta.url));
const SOURCE = 'MCA';
const BATCH = 'fixtures-divisions-2023';

const PREFIX_LENGTH = { province: 2, city: 4, county: 6, town: 9 } as const;

/** Code lists shipped in fixtures/codelists: file, list id, the standard it comes from. */
const CODE_LISTS = [
  { file: 'ethnic_groups_gb3304.csv', list: 'ethnicity', standard: 'GB/T 3304-1991' },
  { file: 'gender_gb2261.csv', list: 'gender', standard: 'GB/T 2261.1-2003' },
  { file: 'marital_status_gb2261.csv', list: 'marital_status', standard: 'GB/T 2261.2-2003' },
  { file: 'education_gb4658.csv', list: 'education', standard: 'GB/T 4658-2006' },
  { file: 'household_relation_gb4761.csv', list: 'household_relation', standard: 'GB/T 4761-2008' },
  { file: 'industry_gb4754_sections.csv', list: 'industry_section', standard: 'GB/T 4754-2017' },
  { file: 'nationality_gb2659_subset.csv', list: 'nationality', standard: 'GB/T 2659' },
] as const;

/** Loads divisions, boundaries and code lists when the database has none; returns what it loaded. */
export async function loadReferenceData(
  database: Database,
  fixturesDir = FIXTURES_DIR,
): Promise<{ divisions: number; boundaries: number; codes: number }> {
  const [{ n }] = (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM divisions')) as [
    { n: number },
  ];
  if (n > 0) return { divisions: 0, boundaries: 0, codes: 0 };
  const divisions = await loadDivisions(database, `${fixturesDir}/divisions.csv`);
  let boundaries = 0;
  for (const level of ['province', 'city', 'county']) {
    boundaries += await loadBoundaries(database, `${fixturesDir}/boundaries/boundaries_${level}.geojson.gz`);
  }
  const codes = await loadCodeLists(database, `${fixturesDir}/codelists`);
  return { divisions, boundaries, codes };
}

async function loadDivisions(database: Database, path: string): Promise<number> {
  let count = 0;
  async function* lines() {
    for await (const { line, record } of readCsvRecords(path)) {
      const level = record.level as keyof typeof PREFIX_LENGTH;
      const length = PREFIX_LENGTH[level];
      if (!length || !record.code)
        throw new Error(`${path}:${line}: bad division row (level '${record.level}')`);
      count++;
      yield `${[
        record.code,
        record.name,
        level,
        record.parent_code || null,
        record.code_system,
        record.code.slice(0, length),
        record.valid_from || null,
        record.valid_to || null,
        SOURCE,
        BATCH,
      ]
        .map(csvField)
        .join(',')}\n`;
    }
  }
  await database.copyCsv(
    'divisions (code, name, level, parent_code, code_system, prefix, valid_from, valid_to, source_dept, source_batch)',
    lines(),
  );
  return count;
}

interface BoundaryFeature {
  properties: { code: string };
  geometry: unknown;
}

async function loadBoundaries(database: Database, path: string): Promise<number> {
  const collection = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as {
    features: BoundaryFeature[];
  };
  const rows = collection.features.map((feature) => ({
    code: feature.properties.code,
    geometry: feature.geometry,
  }));
  // One statement per file: the server parses and validates every polygon, in one transaction.
  const updated = await database.query<{ code: string }>(
    `UPDATE divisions d
        SET boundary = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(b.geometry), 4490))
       FROM jsonb_to_recordset($1::jsonb) AS b(code text, geometry jsonb)
      WHERE d.code = b.code
  RETURNING d.code`,
    [JSON.stringify(rows)],
  );
  if (updated.length !== rows.length) {
    throw new Error(`${path}: ${rows.length - updated.length} boundary features name no known division`);
  }
  return updated.length;
}

async function loadCodeLists(database: Database, dir: string): Promise<number> {
  let count = 0;
  async function* lines() {
    for (const { file, list, standard } of CODE_LISTS) {
      for await (const { record } of readCsvRecords(`${dir}/${file}`)) {
        count++;
        const nameEn = record.name_en ?? record.romanization ?? null;
        yield `${[list, record.code, record.name, nameEn, standard].map(csvField).join(',')}\n`;
      }
    }
  }
  await database.copyCsv('code_lists (list, code, name, name_en, standard)', lines());
  return count;
}
