/**
 * The geography the population generator draws from: current county-level divisions with their
 * towns, the census weight of each province, and seeded pools of points inside the finest boundary
 * polygon available for each county, made once per run by PostGIS.
 */

import type { Queryable } from '../../db/index.ts';

/**
 * Resident population of the 31 mainland provinces, 2020-11-01.
 * Source: 第七次全国人口普查公报（第三号）—— 地区人口情况, National Bureau of Statistics of China,
 * 2021-05-11 (total 1,411,778,724). Taiwan, Hong Kong and Macau (710000, 810000, 820000) are left out.
 */
// biome-ignore format: compact data table
export const PROVINCE_POPULATION_2020: Readonly<Record<string, number>> = {
  '110000': 21_893_095, '120000': 13_866_009, '130000': 74_610_235, '140000': 34_915_616,
  '150000': 24_049_155, '210000': 42_591_407, '220000': 24_073_453, '230000': 31_850_088,
  '310000': 24_870_895, '320000': 84_748_016, '330000': 64_567_588, '340000': 61_027_171,
  '350000': 41_540_086, '360000': 45_188_635, '370000': 101_527_453, '410000': 99_365_519,
  '420000': 57_752_557, '430000': 66_444_864, '440000': 126_012_510, '450000': 50_126_804,
  '460000': 10_081_232, '500000': 32_054_159, '510000': 83_674_866, '520000': 38_562_148,
  '530000': 47_209_277, '540000': 3_648_100, '610000': 39_528_999, '620000': 25_019_831,
  '630000': 5_923_957, '640000': 7_202_654, '650000': 25_852_345,
};

/** Prefecture-level cities without counties: their towns hang directly off the city, so they act as counties. */
export const CITIES_WITHOUT_COUNTIES: readonly string[] = ['441900', '442000', '460400', '620200'];

export interface Town {
  /** 9-digit NBS town code, or the county code when the county has no towns. */
  readonly code: string;
  readonly name: string;
  /** Province, city, county and town names: the start of every address in this town. */
  readonly addressPrefix: string;
}

export interface County {
  readonly index: number;
  /** 6-digit county code (the address code of ID numbers issued there). */
  readonly code: string;
  readonly name: string;
  readonly provinceCode: string;
  /** Index into {@link Geography.provinces}. */
  readonly provinceIndex: number;
  /** Code of the division whose boundary is the finest polygon for this county (county, city or province). */
  readonly boundaryCode: string;
  /** Current towns, in code order; a single pseudo-town (the county itself) when it has none. */
  readonly towns: readonly Town[];
}

export interface Province {
  readonly code: string;
  readonly population: number;
  /** Indexes of its counties into {@link Geography.counties}, in code order. */
  readonly counties: readonly number[];
}

export interface Geography {
  readonly counties: readonly County[];
  readonly provinces: readonly Province[];
}

interface CountyRow {
  code: string;
  name: string;
  parent_code: string;
  parent_name: string;
  parent_level: string;
  grand_code: string | null;
  grand_name: string | null;
  boundary_code: string | null;
  /** Towns as `code<US>name` joined by <RS> (one text per county: far fewer rows to parse). */
  towns: string | null;
}

/** Reads the current county-level divisions and their towns (one statement). */
export async function loadGeography(db: Queryable): Promise<Geography> {
  const countyRows = await db.query<CountyRow>(
    // Joins and one grouping, no correlated subquery: the reference tables may have no statistics
    // (PGlite runs no autovacuum), and a per-county subquery then degrades into 3,000 scans.
    `WITH towns AS (
       SELECT parent_code, string_agg(code || chr(31) || name, chr(30) ORDER BY code) AS towns
         FROM divisions WHERE level = 'town' AND valid_to IS NULL GROUP BY parent_code
     )
     SELECT c.code, c.name, p.code AS parent_code, p.name AS parent_name, p.level AS parent_level,
            g.code AS grand_code, g.name AS grand_name,
            CASE WHEN c.boundary IS NOT NULL THEN c.code
                 WHEN p.boundary IS NOT NULL THEN p.code
                 WHEN g.boundary IS NOT NULL THEN g.code END AS boundary_code,
            tw.towns
       FROM divisions c
       JOIN divisions p ON p.code = c.parent_code
       LEFT JOIN divisions g ON g.code = p.parent_code
       LEFT JOIN towns tw ON tw.parent_code = c.code
      WHERE c.valid_to IS NULL AND (c.level = 'county' OR c.code = ANY($1::text[]))
      ORDER BY c.code`,
    [CITIES_WITHOUT_COUNTIES],
  );
  const provinceCodes = Object.keys(PROVINCE_POPULATION_2020).sort();
  const provinceIndex = new Map(provinceCodes.map((code, i) => [code, i]));
  const provinceCounties: number[][] = provinceCodes.map(() => []);
  const counties: County[] = [];
  for (const row of countyRows) {
    const underProvince = row.parent_level === 'province';
    const provinceCode = underProvince ? row.parent_code : row.grand_code;
    const pIndex = provinceCode === null ? undefined : provinceIndex.get(provinceCode);
    if (pIndex === undefined || provinceCode === null) continue; // not on the mainland
    if (row.boundary_code === null) {
      throw new Error(
        `division ${row.code} ${row.name}: neither it, its city nor its province has a boundary`,
      );
    }
    // Municipalities and province-administered counties have no separate city name.
    const countyPrefix = underProvince
      ? row.parent_name + row.name
      : (row.grand_name ?? '') + row.parent_name + row.name;
    const towns = (row.towns ? row.towns.split('\x1e') : []).map((t) => {
      const [code, name] = t.split('\x1f') as [string, string];
      return { code, name };
    });
    const index = counties.length;
    counties.push({
      index,
      code: row.code,
      name: row.name,
      provinceCode,
      provinceIndex: pIndex,
      boundaryCode: row.boundary_code,
      towns:
        towns.length > 0
          ? towns.map((t) => ({ code: t.code, name: t.name, addressPrefix: countyPrefix + t.name }))
          : [{ code: row.code, name: '', addressPrefix: countyPrefix }],
    });
    provinceCounties[pIndex]!.push(index);
  }
  const provinces = provinceCodes.map((code, i) => {
    if (provinceCounties[i]!.length === 0) throw new Error(`province ${code} has no current counties`);
    return { code, population: PROVINCE_POPULATION_2020[code]!, counties: provinceCounties[i]! };
  });
  return { counties, provinces };
}

/**
 * Points as text, in the format asked of {@link generatePointPools}:
 * - `'lonlat'` (default): `lon lat`, the float8 values as the database prints them (shortest exact form);
 * - `'hexewkb'`: the geometry type's own text form, hex EWKB with SRID 4490 (`01010000208A110000…`), exact
 *   (the very doubles PostGIS generated) and, on PGlite, about 4× cheaper for COPY to parse than EWKT.
 */
export type PointPool = readonly string[];
export type PointFormat = 'lonlat' | 'hexewkb';

/**
 * Seeded random points inside each requested division's boundary (`ST_GeneratePoints(g, n, seed)`,
 * PostGIS ≥ 3.0), in one statement. Multipolygons get points per part in proportion to area, rounded,
 * so a pool may hold a few points more or less than asked; a boundary too fragmented to receive any
 * falls back to its `ST_PointOnSurface`. Every point is inside (covered by) the boundary.
 */
export async function generatePointPools(
  db: Queryable,
  requests: readonly { code: string; points: number; seed: number }[],
  format: PointFormat = 'lonlat',
): Promise<Map<string, PointPool>> {
  const text = (g: string) =>
    format === 'hexewkb' ? `${g}::text` : `ST_X(${g})::text || ' ' || ST_Y(${g})::text`;
  const rows = await db.query<{ code: string; points: string | null; fallback: string }>(
    `SELECT r.code,
            (SELECT string_agg(${text('p.geom')}, ',' ORDER BY p.path)
               FROM ST_Dump(ST_GeneratePoints(d.boundary, r.n, r.seed)) AS p) AS points,
            ${text('s.geom')} AS fallback
       FROM unnest($1::text[], $2::int[], $3::int[]) AS r(code, n, seed)
       JOIN divisions d ON d.code = r.code AND d.boundary IS NOT NULL
       CROSS JOIN LATERAL (SELECT ST_PointOnSurface(d.boundary) AS geom) AS s`,
    [requests.map((r) => r.code), requests.map((r) => r.points), requests.map((r) => r.seed)],
  );
  const pools = new Map<string, PointPool>();
  for (const row of rows) pools.set(row.code, row.points ? row.points.split(',') : [row.fallback]);
  for (const r of requests) {
    if (!pools.has(r.code)) throw new Error(`division ${r.code} has no boundary to place points in`);
  }
  return pools;
}

/**
 * For each mainland province, the other provinces whose bounding boxes lie more than `degrees` away
 * from its own: a point in one of them is far outside every division of the province.
 */
export async function farProvinces(db: Queryable, degrees = 1): Promise<Map<string, string[]>> {
  const codes = Object.keys(PROVINCE_POPULATION_2020);
  const rows = await db.query<{ code: string; far: string[] }>(
    `SELECT a.code, array_agg(b.code ORDER BY b.code) AS far
       FROM divisions a JOIN divisions b ON b.code = ANY($1::text[]) AND b.code <> a.code
      WHERE a.code = ANY($1::text[])
        AND ST_Distance(ST_Envelope(a.boundary), ST_Envelope(b.boundary)) > $2
      GROUP BY a.code`,
    [codes, degrees],
  );
  const far = new Map(rows.map((r) => [r.code, r.far]));
  for (const code of codes) {
    if (!far.get(code)?.length) throw new Error(`no province lies far from ${code}`);
  }
  return far;
}
