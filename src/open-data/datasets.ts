import type { Dataset, FieldEntry } from '../../schema/catalogue.ts';
import { featuresDataset } from '../../schema/geospatial.ts';
import { entitiesDataset } from '../../schema/legal-entity.ts';
import { personsDataset } from '../../schema/population.ts';
import { divisionsDataset } from '../../schema/spatial.ts';
import type { Geometry, Queryable } from '../db/index.ts';
import { suppress } from '../registries/population/statistics.ts';

/**
 * Open datasets (政府数据开放): what `npm run export` and `/open` publish. Each is a set-based query whose
 * every output column names the catalogue entry it is published under; an entry that is not public and
 * open fails at load time (`assertOpenable`), so nothing above the public level can be declared for
 * export. Person counts are aggregates with small-count suppression.
 */

export type OpenColumnType = 'string' | 'integer' | 'boolean' | 'date';

export interface OpenColumn {
  name: string;
  type: OpenColumnType;
  description: string;
  /** The catalogue entry the column is published under. */
  source: { dataset: Dataset; field: string };
}

export interface OpenParameters {
  /** Reference date (population); default today. */
  asOf: string;
  /** Counts from 1 to threshold − 1 are suppressed. */
  suppressionThreshold: number;
  /** Divisions: the levels to publish. */
  levels?: readonly string[];
}

export interface OpenRow {
  values: Record<string, string | number | boolean | null>;
  geometry?: Geometry | null;
}

export interface OpenDataset {
  id: string;
  title: string;
  description: string;
  columns: readonly OpenColumn[];
  /** The geometry of each row (GeoJSON only), and its catalogue entry. */
  geometry?: { name: string; source: { dataset: Dataset; field: string } };
  /** Catalogue datasets the rows are computed from (for the manifest). */
  sources: readonly string[];
  /**
   * A feature layer's attributes (fields on demand): the export appends the layer's active attributes whose
   * definition is public and open (src/open-data/export.ts, openAttributeColumns), matched on the value of
   * the `idColumn` column (the feature id).
   */
  attributes?: { layerId: string; idColumn: string };
  rows(db: Queryable, parameters: OpenParameters): Promise<OpenRow[]>;
}

export function entryOf(source: { dataset: Dataset; field: string }): FieldEntry | undefined {
  return (
    (source.dataset.fields as Record<string, FieldEntry | undefined>)[source.field] ??
    (source.dataset.derived as Record<string, FieldEntry | undefined>)[source.field]
  );
}

/** Whether a catalogue entry may be published in open data: public level and open. */
export function isOpenable(entry: FieldEntry): boolean {
  return entry.level === 'public' && entry.open === true;
}

/** Throws unless every column (and the geometry) is published under a public, open catalogue entry. */
export function assertOpenable(dataset: OpenDataset): OpenDataset {
  const sources = [...dataset.columns.map((c) => ({ name: c.name, source: c.source }))];
  if (dataset.geometry) sources.push(dataset.geometry);
  for (const { name, source } of sources) {
    const entry = entryOf(source);
    if (!entry)
      throw new Error(
        `open dataset ${dataset.id}.${name}: ${source.dataset.id}.${source.field} is not in the catalogue`,
      );
    if (!isOpenable(entry))
      throw new Error(
        `open dataset ${dataset.id}.${name}: ${source.dataset.id}.${source.field} is ${entry.level}${entry.open ? '' : ', not open'}`,
      );
  }
  return dataset;
}

const persons = personsDataset as unknown as Dataset;
const entities = entitiesDataset as unknown as Dataset;
const divisions = divisionsDataset as unknown as Dataset;
const features = featuresDataset as unknown as Dataset;

export const AGE_BANDS = ['0-14', '15-59', '60+'] as const;

const populationByCountyAgeBand: OpenDataset = {
  id: 'population-by-county-age-band',
  title: '分县分年龄组常住人口 Residents by county and age band',
  description:
    'Living residents on the reference date by county of residence and age band (0–14, 15–59, 60+). Counts from 1 to ' +
    'the threshold − 1 are suppressed, and when a county has exactly one such cell its next smallest is suppressed too.',
  sources: ['population.persons', 'spatial.divisions'],
  columns: [
    {
      name: 'county_code',
      type: 'string',
      description: 'County of residence (GB/T 2260)',
      source: { dataset: divisions, field: 'code' },
    },
    {
      name: 'county_name',
      type: 'string',
      description: 'County name',
      source: { dataset: divisions, field: 'name' },
    },
    {
      name: 'age_band',
      type: 'string',
      description: 'Age on the reference date: 0-14, 15-59 or 60+',
      source: { dataset: persons, field: 'aggregate' },
    },
    {
      name: 'persons',
      type: 'integer',
      description: 'Residents (empty when suppressed)',
      source: { dataset: persons, field: 'aggregate' },
    },
    {
      name: 'suppressed',
      type: 'boolean',
      description: 'The count is withheld',
      source: { dataset: persons, field: 'aggregate' },
    },
  ],
  async rows(db, { asOf, suppressionThreshold }) {
    const found = await db.query<{ code: string; name: string; band: string; n: number }>(
      `WITH p AS (
         SELECT left(residence_division_code, 6) AS county,
                CASE WHEN a < 15 THEN '0-14' WHEN a < 60 THEN '15-59' ELSE '60+' END AS band
           FROM (SELECT residence_division_code, date_part('year', age($1::date, birth_date))::int AS a
                   FROM persons
                  WHERE residence_division_code IS NOT NULL AND birth_date <= $1::date
                    AND (death_date IS NULL OR death_date > $1::date)) x)
       SELECT d.code, d.name, b.band, count(p.county)::int AS n
         FROM (SELECT DISTINCT county FROM p) c
         JOIN divisions d ON d.code = c.county
        CROSS JOIN unnest($2::text[]) AS b(band)
         LEFT JOIN p ON p.county = c.county AND p.band = b.band
        GROUP BY d.code, d.name, b.band
        ORDER BY d.code, array_position($2::text[], b.band)`,
      [asOf, [...AGE_BANDS]],
    );
    const out: OpenRow[] = [];
    for (let i = 0; i < found.length; ) {
      const code = found[i]!.code;
      const cells: { key: string; label: string | null; count: number }[] = [];
      for (; i < found.length && found[i]!.code === code; i++)
        cells.push({ key: found[i]!.band, label: found[i]!.name, count: Number(found[i]!.n) });
      for (const cell of suppress(cells, suppressionThreshold, false)) {
        out.push({
          values: {
            county_code: code,
            county_name: cell.label,
            age_band: cell.key,
            persons: cell.count,
            suppressed: cell.suppressed,
          },
        });
      }
    }
    return out;
  },
};

/** GB/T 4754-2017 sections. */
export const INDUSTRY_SECTIONS: Readonly<Record<string, string>> = {
  A: '农、林、牧、渔业',
  B: '采矿业',
  C: '制造业',
  D: '电力、热力、燃气及水生产和供应业',
  E: '建筑业',
  F: '批发和零售业',
  G: '交通运输、仓储和邮政业',
  H: '住宿和餐饮业',
  I: '信息传输、软件和信息技术服务业',
  J: '金融业',
  K: '房地产业',
  L: '租赁和商务服务业',
  M: '科学研究和技术服务业',
  N: '水利、环境和公共设施管理业',
  O: '居民服务、修理和其他服务业',
  P: '教育',
  Q: '卫生和社会工作',
  R: '文化、体育和娱乐业',
  S: '公共管理、社会保障和社会组织',
  T: '国际组织',
};

const entitiesByIndustryDivision: OpenDataset = {
  id: 'entities-by-industry-division',
  title: '分地区分行业市场主体数 Active entities by county and industry section',
  description: 'Active registered entities by county of registration and GB/T 4754-2017 industry section',
  sources: ['legal_entity.entities', 'spatial.divisions'],
  columns: [
    {
      name: 'division_code',
      type: 'string',
      description: 'County of registration (GB/T 2260)',
      source: { dataset: entities, field: 'divisionCode' },
    },
    {
      name: 'division_name',
      type: 'string',
      description: 'County name',
      source: { dataset: divisions, field: 'name' },
    },
    {
      name: 'industry_section',
      type: 'string',
      description: 'GB/T 4754-2017 section letter (empty: not declared)',
      source: { dataset: entities, field: 'industryCode' },
    },
    {
      name: 'industry_section_name',
      type: 'string',
      description: 'Section name',
      source: { dataset: entities, field: 'industryCode' },
    },
    {
      name: 'entities',
      type: 'integer',
      description: 'Active entities',
      source: { dataset: entities, field: 'aggregate' },
    },
  ],
  async rows(db) {
    const found = await db.query<{ code: string; name: string | null; section: string; n: number }>(
      `SELECT left(e.division_code, 6) AS code, d.name, coalesce(left(e.industry_code, 1), '') AS section,
              count(*)::int AS n
         FROM entities e LEFT JOIN divisions d ON d.code = left(e.division_code, 6)
        WHERE e.status = 'active'
        GROUP BY 1, 2, 3 ORDER BY 1, 3`,
    );
    return found.map((r) => ({
      values: {
        division_code: r.code,
        division_name: r.name,
        industry_section: r.section,
        industry_section_name: INDUSTRY_SECTIONS[r.section] ?? null,
        entities: Number(r.n),
      },
    }));
  },
};

export const DIVISION_LEVELS = ['province', 'city', 'county'] as const;

const divisionsWithBoundaries: OpenDataset = {
  id: 'divisions',
  title: '行政区划及界线 Administrative divisions with boundaries',
  description:
    'Current province-, prefecture- and county-level divisions (GB/T 2260) with their boundaries, CGCS2000 (≈ WGS 84)',
  sources: ['spatial.divisions'],
  columns: [
    {
      name: 'code',
      type: 'string',
      description: 'Division code',
      source: { dataset: divisions, field: 'code' },
    },
    { name: 'name', type: 'string', description: 'Name', source: { dataset: divisions, field: 'name' } },
    {
      name: 'level',
      type: 'string',
      description: 'province, city or county',
      source: { dataset: divisions, field: 'level' },
    },
    {
      name: 'parent_code',
      type: 'string',
      description: 'Division above',
      source: { dataset: divisions, field: 'parentCode' },
    },
    {
      name: 'valid_from',
      type: 'date',
      description: 'Valid from',
      source: { dataset: divisions, field: 'validFrom' },
    },
  ],
  geometry: { name: 'boundary', source: { dataset: divisions, field: 'boundary' } },
  async rows(db, { levels }) {
    const found = await db.query<{
      code: string;
      name: string;
      level: string;
      parentCode: string | null;
      validFrom: string | null;
      geometry: Geometry | null;
    }>(
      `SELECT code, name, level, parent_code AS "parentCode", valid_from::text AS "validFrom",
              ST_AsGeoJSON(boundary, 6)::json AS geometry
         FROM divisions
        WHERE valid_to IS NULL AND boundary IS NOT NULL AND level = ANY($1::text[])
        ORDER BY code`,
      [[...(levels ?? DIVISION_LEVELS)]],
    );
    return found.map((r) => ({
      values: {
        code: r.code,
        name: r.name,
        level: r.level,
        parent_code: r.parentCode,
        valid_from: r.validFrom,
      },
      geometry: r.geometry,
    }));
  },
};

/**
 * The farmland layer (a public layer, spatial.features): one row per parcel with its typed properties, and —
 * appended at export time — the layer's active attributes that are public and open.
 */
const farmland: OpenDataset = {
  id: 'farmland',
  title: '耕地图斑 Farmland parcels',
  description:
    'Farmland parcels of the geospatial base registry (layer farmland) with their main crop, irrigation and the ' +
    'layer’s public attributes (fields on demand), CGCS2000 (≈ WGS 84)',
  sources: ['spatial.features', 'governance.attribute_values'],
  columns: [
    { name: 'id', type: 'integer', description: 'Feature id', source: { dataset: features, field: 'id' } },
    {
      name: 'division_code',
      type: 'string',
      description: 'County-level division containing the parcel',
      source: { dataset: features, field: 'divisionCode' },
    },
    {
      name: 'crop',
      type: 'string',
      description: 'Main crop (rice, wheat, maize, soybean)',
      source: { dataset: features, field: 'properties' },
    },
    {
      name: 'irrigated',
      type: 'boolean',
      description: 'Irrigated',
      source: { dataset: features, field: 'properties' },
    },
    {
      name: 'valid_from',
      type: 'date',
      description: 'Valid from',
      source: { dataset: features, field: 'validFrom' },
    },
    {
      name: 'version',
      type: 'integer',
      description: 'Version number',
      source: { dataset: features, field: 'version' },
    },
  ],
  geometry: { name: 'geometry', source: { dataset: features, field: 'geom' } },
  attributes: { layerId: 'farmland', idColumn: 'id' },
  async rows(db) {
    const found = await db.query<{
      id: number;
      divisionCode: string | null;
      crop: string | null;
      irrigated: boolean | null;
      validFrom: string | null;
      version: number;
      geometry: Geometry | null;
    }>(
      `SELECT id, division_code AS "divisionCode", properties->>'crop' AS crop,
              CASE WHEN jsonb_typeof(properties->'irrigated') = 'boolean'
                   THEN (properties->'irrigated')::boolean END AS irrigated, valid_from::text AS "validFrom", version,
              ST_AsGeoJSON(geom, 6)::json AS geometry
         FROM features
        WHERE layer_id = 'farmland' AND (valid_to IS NULL OR valid_to > current_date)
        ORDER BY id`,
    );
    return found.map((r) => ({
      values: {
        id: Number(r.id),
        division_code: r.divisionCode,
        crop: r.crop,
        irrigated: r.irrigated,
        valid_from: r.validFrom,
        version: Number(r.version),
      },
      geometry: r.geometry,
    }));
  },
};

export const OPEN_DATASETS: readonly OpenDataset[] = [
  populationByCountyAgeBand,
  entitiesByIndustryDivision,
  divisionsWithBoundaries,
  farmland,
].map(assertOpenable);

export function openDatasetById(id: string): OpenDataset | undefined {
  return OPEN_DATASETS.find((d) => d.id === id);
}
