import { VectorTile, type VectorTileFeature } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import {
  getCollection,
  invalidateCollection,
  MVT_TYPE,
  registerCollection,
  tilesRoute,
} from '../src/ogc/index.ts';
import { insertTestPersons, registerTestCollections, TEST_RESIDENTS } from '../src/ogc/testing/fixtures.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, testGateway } from '../src/testing/gateway.ts';

const CA = DEMO_PRINCIPALS.countyCivilAffairs.key;
const SAMR = DEMO_PRINCIPALS.provincialMarketRegulation.key;
const MPS = DEMO_PRINCIPALS.nationalPublicSecurity.key;
const HOST = 'http://govbase.test';

const SOURCES: Record<string, string> = {
  'divisions-province': `(SELECT * FROM divisions WHERE level = 'province' AND valid_to IS NULL AND boundary IS NOT NULL) src`,
  'divisions-city': `(SELECT * FROM divisions WHERE level = 'city' AND valid_to IS NULL AND boundary IS NOT NULL) src`,
  'divisions-county': `(SELECT * FROM divisions WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL) src`,
};

let db: TestDatabase;
let gateway: Gateway;
let auto: ReturnType<typeof tilesRoute>;
let unregister: () => void;
/** Encoders under test: TypeScript everywhere, ST_AsMVT where the database has it. */
let encoders: string[];

interface Decoded {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  layers: Record<string, { version: number; extent: number; features: VectorTileFeature[] }>;
}

async function tile(path: string, headers: Record<string, string> = {}): Promise<Decoded> {
  const response = await gateway.fetch(`${HOST}${path}`, { headers });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const layers: Decoded['layers'] = {};
  if (response.status === 200 && response.headers.get('content-type') === MVT_TYPE) {
    const decoded = new VectorTile(new PbfReader(bytes));
    for (const [name, layer] of Object.entries(decoded.layers)) {
      const features = Array.from({ length: layer.length }, (_, i) => layer.feature(i));
      layers[name] = { version: layer.version, extent: layer.extent, features };
    }
  }
  return { status: response.status, headers: response.headers, bytes, layers };
}

function featuresOf(d: Decoded, layer: string): VectorTileFeature[] {
  return d.layers[layer]?.features ?? [];
}

/** The tile containing a lon/lat at zoom z. */
function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return [
    Math.floor(((lon + 180) / 360) * n),
    Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n),
  ];
}

/** Ids of the features whose geometry intersects ST_TileEnvelope (in SQL, in EPSG:3857). */
async function expectedIds(collection: string, z: number, x: number, y: number): Promise<Set<number>> {
  const rows = await db.query<{ id: number }>(
    `SELECT code::bigint AS id FROM ${SOURCES[collection]}
      WHERE ST_Intersects(ST_Transform(boundary, 3857), ST_TileEnvelope($1, $2, $3))`,
    [z, x, y],
  );
  return new Set(rows.map((r) => Number(r.id)));
}

/** The area, in tile units², of each feature's part inside the tile. */
async function areasInTile(
  collection: string,
  z: number,
  x: number,
  y: number,
  ids: number[],
): Promise<Map<number, number>> {
  const rows = await db.query<{ id: number; area: number }>(
    `SELECT code::bigint AS id,
            ST_Area(ST_Intersection(ST_Transform(boundary, 3857), env)) * power(4096.0 / (ST_XMax(env) - ST_XMin(env)), 2) AS area
       FROM ${SOURCES[collection]}, (SELECT ST_TileEnvelope($1, $2, $3) AS env) t
      WHERE code::bigint = ANY($4::bigint[])`,
    [z, x, y, ids],
  );
  return new Map(rows.map((r) => [Number(r.id), Number(r.area)]));
}

function ringArea(ring: { x: number; y: number }[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) sum += ring[i]!.x * ring[i + 1]!.y - ring[i + 1]!.x * ring[i]!.y;
  return sum / 2;
}

beforeAll(async () => {
  db = await testDatabase();
  unregister = registerTestCollections();
  await insertTestPersons(db);
  auto = tilesRoute();
  const routes = [auto, tilesRoute({ prefix: '/tiles-ts', encoder: 'typescript' })];
  encoders = ['/tiles-ts'];
  if (db.kind === 'postgres') {
    routes.push(tilesRoute({ prefix: '/tiles-pg', encoder: 'postgis' }));
    encoders.push('/tiles-pg');
  }
  gateway = await testGateway(db, { routes });
});
afterAll(async () => {
  unregister?.();
  await db?.dispose();
});

describe('tile contents', () => {
  const cases: [string, number, number, number][] = [
    ['divisions-county', 6, 52, 24],
    ['divisions-county', 10, 843, 388],
    ['divisions-city', 5, 26, 12],
    ['divisions-province', 3, 6, 3],
    ['divisions-province', 0, 0, 0],
  ];
  for (const [collection, z, x, y] of cases) {
    it(`${collection} ${z}/${x}/${y}: the features intersecting ST_TileEnvelope, with their properties`, async () => {
      const expected = await expectedIds(collection, z, x, y);
      expect(expected.size).toBeGreaterThan(0);
      const rows = await db.query<Record<string, unknown>>(
        `SELECT code, name, level, parent_code, valid_from FROM ${SOURCES[collection]} WHERE code::bigint = ANY($1::bigint[])`,
        [[...expected]],
      );
      const properties = new Map(rows.map((r) => [Number(r.code), r]));
      const idsByEncoder: number[][] = [];
      for (const prefix of encoders) {
        const d = await tile(`${prefix}/${collection}/${z}/${x}/${y}.mvt`);
        expect(d.status).toBe(200);
        expect(d.headers.get('content-type')).toBe(MVT_TYPE);
        expect(Object.keys(d.layers)).toEqual([collection]);
        expect(d.layers[collection]).toMatchObject({ version: 2, extent: 4096 });
        const features = featuresOf(d, collection);
        const ids = features.map((f) => f.id!).sort((a, b) => a - b);
        idsByEncoder.push(ids);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids)
          expect(expected.has(id), `${prefix}: ${id} is not in the tile envelope`).toBe(true);
        // Missing only what is too small to draw at this zoom (ST_AsMVTGeom drops those too).
        const missing = [...expected].filter((id) => !ids.includes(id));
        for (const [id, area] of await areasInTile(collection, z, x, y, missing)) {
          expect(area, `${prefix}: ${id} missing`).toBeLessThan(2);
        }
        for (const f of features) {
          const row = properties.get(f.id!)!;
          // Null values are not encoded in MVT.
          expect(f.properties).toEqual(Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)));
          expect(f.type).toBe(3);
          // MVT: exterior rings have positive area in tile coordinates (y down), as ST_AsMVTGeom writes them.
          expect(ringArea(f.loadGeometry()[0]!)).toBeGreaterThan(0);
        }
      }
      // The two encoders agree on the features (on PostgreSQL, where both run).
      if (idsByEncoder.length === 2) expect(idsByEncoder[0]).toEqual(idsByEncoder[1]);
    });
  }

  it('puts geometry where it belongs: a county inside the tile decodes to its own bounding box', async () => {
    const [box] = await db.query<{ xmin: number; ymin: number; xmax: number; ymax: number }>(
      `SELECT ST_XMin(b) xmin, ST_YMin(b) ymin, ST_XMax(b) xmax, ST_YMax(b) ymax FROM (SELECT boundary::box2d b FROM divisions WHERE code = '310101') q`,
    );
    // The deepest zoom (≥ the county layer's minzoom) with a tile holding the whole county.
    let found: [number, number, number] | null = null;
    for (let z = 12; z >= 4 && !found; z--) {
      const [x, y] = tileOf((box!.xmin + box!.xmax) / 2, (box!.ymin + box!.ymax) / 2, z);
      const [row] = await db.query<{ inside: boolean }>(
        `SELECT ST_Contains(ST_Transform(ST_TileEnvelope($1, $2, $3), 4490), boundary) AS inside FROM divisions WHERE code = '310101'`,
        [z, x, y],
      );
      if (row!.inside) found = [z, x, y];
    }
    const [z, x, y] = found!;
    for (const prefix of encoders) {
      const d = await tile(`${prefix}/divisions-county/${z}/${x}/${y}.mvt`);
      const feature = featuresOf(d, 'divisions-county').find((f) => f.id === 310101)!;
      const geojson = feature.toGeoJSON(x, y, z);
      const coords = (geojson.geometry as { coordinates: unknown[] }).coordinates.flat(3) as number[];
      const lons = coords.filter((_, i) => i % 2 === 0);
      const lats = coords.filter((_, i) => i % 2 === 1);
      const unit = 360 / 2 ** z / 4096; // one tile unit in degrees of longitude (less in latitude here)
      expect(Math.abs(Math.min(...lons) - box!.xmin)).toBeLessThan(2 * unit);
      expect(Math.abs(Math.max(...lons) - box!.xmax)).toBeLessThan(2 * unit);
      expect(Math.abs(Math.min(...lats) - box!.ymin)).toBeLessThan(2 * unit);
      expect(Math.abs(Math.max(...lats) - box!.ymax)).toBeLessThan(2 * unit);
    }
  });
});

describe('protocol', () => {
  it('caps the features of a tile, keeping the first in the collection order', async () => {
    const remove = registerCollection({
      ...getCollection('divisions-county')!,
      id: 'test-county-capped',
      tiles: { minZoom: 4, maxZoom: 14, featureCap: 5 },
    });
    try {
      const expected = [...(await expectedIds('divisions-county', 6, 52, 24))]
        .sort((a, b) => a - b)
        .slice(0, 5);
      for (const prefix of encoders) {
        const d = await tile(`${prefix}/test-county-capped/6/52/24.mvt`);
        expect(featuresOf(d, 'test-county-capped').map((f) => f.id)).toEqual(expected);
      }
    } finally {
      remove();
    }
  });

  it('serves TileJSON 3.0.0 with the tiles template, zooms, bounds and fields', async () => {
    const response = await gateway.fetch(`${HOST}/tiles/divisions-county.json`);
    expect(response.status).toBe(200);
    const json = (await response.json()) as any;
    expect(json).toMatchObject({
      tilejson: '3.0.0',
      tiles: [`${HOST}/tiles/divisions-county/{z}/{x}/{y}.mvt`],
      minzoom: 4,
      maxzoom: 14,
      vector_layers: [
        {
          id: 'divisions-county',
          fields: {
            code: 'String',
            name: 'String',
            level: 'String',
            parent_code: 'String',
            valid_from: 'String',
          },
        },
      ],
    });
    const [extent] = await db.query<{ xmin: number; ymax: number }>(
      `SELECT ST_XMin(e) xmin, ST_YMax(e) ymax FROM (SELECT ST_Extent(boundary) e FROM ${SOURCES['divisions-county']}) q`,
    );
    expect(json.bounds[0]).toBeCloseTo(extent!.xmin, 6);
    expect(json.bounds[3]).toBeCloseTo(extent!.ymax, 6);
    const index = (await (await gateway.fetch(`${HOST}/tiles`)).json()) as any;
    expect(index.tilesets.map((t: any) => t.id)).toEqual(
      expect.arrayContaining(['divisions-province', 'divisions-city', 'divisions-county']),
    );
  });

  it('accepts .pbf paths (GDAL) and answers the same bytes', async () => {
    const mvt = await tile('/tiles/divisions-county/6/52/24.mvt');
    const pbf = await tile('/tiles/divisions-county/6/52/24.pbf');
    expect(pbf.status).toBe(200);
    expect(Buffer.from(pbf.bytes).equals(Buffer.from(mvt.bytes))).toBe(true);
  });

  it('answers 304 to a matching If-None-Match, with the ETag of the bytes', async () => {
    const first = await tile('/tiles/divisions-city/5/26/12.mvt');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await gateway.fetch(`${HOST}/tiles/divisions-city/5/26/12.mvt`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect(again.headers.get('etag')).toBe(etag);
    const weak = await gateway.fetch(`${HOST}/tiles/divisions-city/5/26/12.mvt`, {
      headers: { 'if-none-match': `"other", W/${etag}` },
    });
    expect(weak.status).toBe(304);
    const other = await tile('/tiles/divisions-city/5/26/13.mvt', { 'if-none-match': etag });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);
  });

  it('caches tiles and drops a collection’s tiles on invalidateCollection()', async () => {
    const path = '/tiles/divisions-county/8/210/97.mvt';
    const before = await tile(path);
    const hits = auto.cache.hits;
    await tile(path);
    expect(auto.cache.hits).toBe(hits + 1);
    await db.query(`UPDATE divisions SET name = '朝阳区（测试）' WHERE code = '110105'`);
    try {
      const stale = await tile(path);
      expect(featuresOf(stale, 'divisions-county').find((f) => f.id === 110105)!.properties.name).toBe(
        '朝阳区',
      );
      invalidateCollection('divisions-county');
      const fresh = await tile(path);
      expect(featuresOf(fresh, 'divisions-county').find((f) => f.id === 110105)!.properties.name).toBe(
        '朝阳区（测试）',
      );
      expect(fresh.headers.get('etag')).not.toBe(before.headers.get('etag'));
    } finally {
      await db.query(`UPDATE divisions SET name = '朝阳区' WHERE code = '110105'`);
      invalidateCollection('divisions-county');
    }
  });

  const invalid: [string, number, string][] = [
    ['/tiles/divisions-county/25/0/0.mvt', 400, "'z'"],
    ['/tiles/divisions-county/6/64/24.mvt', 400, "'x'"],
    ['/tiles/divisions-county/6/52/64.mvt', 400, "'y'"],
    ['/tiles/divisions-county/6/5.5/24.mvt', 400, "'x'"],
    ['/tiles/divisions-county/six/52/24.mvt', 400, "'z'"],
    ['/tiles/divisions-county/6/52/24.png', 400, "'y'"],
    ['/tiles/divisions-county/2/3/1.mvt', 404, 'zooms 4–14'],
    ['/tiles/nope/6/52/24.mvt', 404, "Collection 'nope'"],
    ['/tiles/nope.json', 404, "Collection 'nope'"],
  ];
  for (const [path, status, mention] of invalid) {
    it(`${path} → ${status}`, async () => {
      const response = await gateway.fetch(`${HOST}${path}`);
      expect(response.status).toBe(status);
      const body = (await response.json()) as { code: string; description: string };
      expect(body.description).toContain(mention);
    });
  }
});

describe('access', () => {
  const [cx, cy] = tileOf(116.48, 39.94, 13);

  it('hides a non-public collection from anonymous callers: 404 for tiles and TileJSON, not in the index', async () => {
    expect((await tile(`/tiles/test-persons/13/${cx}/${cy}.mvt`)).status).toBe(404);
    expect((await gateway.fetch(`${HOST}/tiles/test-persons.json`)).status).toBe(404);
    const index = (await (await gateway.fetch(`${HOST}/tiles`)).json()) as any;
    expect(index.tilesets.map((t: any) => t.id)).not.toContain('test-persons');
    // Geometry denied (a grant too low for the residence point): no tiles either.
    expect((await tile(`/tiles/test-persons/13/${cx}/${cy}.mvt`, asKey(SAMR))).status).toBe(404);
  });

  it('serves each access profile its own tile: row scope, masked points, clear points', async () => {
    const masked = await db.query<{ id: number }>(
      `SELECT id FROM persons
        WHERE residence_division_code = '110105'
          AND ST_Intersects(ST_Transform(ST_SetSRID(ST_MakePoint((floor(ST_X(residence_point) * 100) + 0.5) / 100,
                (floor(ST_Y(residence_point) * 100) + 0.5) / 100), 4490), 3857), ST_TileEnvelope(13, $1, $2))`,
      [cx, cy],
    );
    const clear = await db.query<{ id: number }>(
      `SELECT id FROM persons WHERE ST_Intersects(ST_Transform(residence_point, 3857), ST_TileEnvelope(13, $1, $2))`,
      [cx, cy],
    );
    expect(masked.length).toBeGreaterThan(5);
    const path = `/tiles/test-persons/13/${cx}/${cy}.mvt`;
    const county = await tile(path, asKey(CA));
    expect(county.status).toBe(200);
    expect(county.headers.get('cache-control')).toContain('private');
    const countyFeatures = featuresOf(county, 'test-persons');
    expect(countyFeatures.map((f) => f.id).sort()).toEqual(masked.map((m) => Number(m.id)).sort());
    expect(
      countyFeatures.every(
        (f) => f.properties.division === '110105' && /^测试/.test(String(f.properties.name)),
      ),
    ).toBe(true);
    // Masked points sit on the 0.01° grid centres.
    for (const f of countyFeatures) {
      const [lon, lat] = (f.toGeoJSON(cx, cy, 13).geometry as { coordinates: number[] }).coordinates as [
        number,
        number,
      ];
      expect(Math.abs(lon * 100 - Math.floor(lon * 100) - 0.5)).toBeLessThan(0.02);
      expect(Math.abs(lat * 100 - Math.floor(lat * 100) - 0.5)).toBeLessThan(0.02);
    }
    const national = await tile(path, asKey(MPS, 'criminal_investigation'));
    expect(
      featuresOf(national, 'test-persons')
        .map((f) => f.id)
        .sort(),
    ).toEqual(clear.map((c) => Number(c.id)).sort());
    expect(national.headers.get('etag')).not.toBe(county.headers.get('etag'));
    // The county's cached view is still its own.
    const countyAgain = await tile(path, asKey(CA));
    expect(countyAgain.headers.get('etag')).toBe(county.headers.get('etag'));
  });

  it('aggregates points into counted clusters at low zoom', async () => {
    const [x, y] = tileOf(116.45, 39.95, 8);
    const [{ n }] = (await db.query<{ n: number }>(
      `SELECT count(*)::int n FROM persons WHERE ST_Intersects(ST_Transform(residence_point, 3857), ST_TileEnvelope(8, $1, $2))`,
      [x, y],
    )) as [{ n: number }];
    for (const prefix of ['/tiles', ...encoders]) {
      const d = await tile(`${prefix}/test-persons/8/${x}/${y}.mvt`, asKey(MPS, 'criminal_investigation'));
      const clusters = featuresOf(d, 'test-persons');
      expect(clusters.length).toBeGreaterThan(1);
      expect(clusters.length).toBeLessThan(n);
      expect(clusters.every((f) => f.type === 1 && Object.keys(f.properties).join() === 'count')).toBe(true);
      expect(clusters.reduce((sum, f) => sum + Number(f.properties.count), 0)).toBe(n);
    }
    const county = await tile(`/tiles/test-persons/8/${x}/${y}.mvt`, asKey(CA));
    const total = featuresOf(county, 'test-persons').reduce((sum, f) => sum + Number(f.properties.count), 0);
    expect(total).toBe(TEST_RESIDENTS['110105']!.count);
  });

  it('runs the collection hook in tiles: small counts suppressed for the public, clear when cleared', async () => {
    const path = '/tiles/test-population-county/8/210/97.mvt';
    const cleared = await tile(path, asKey(MPS));
    const counts = (d: Decoded) =>
      Object.fromEntries(
        featuresOf(d, 'test-population-county').map((f) => [f.id, f.properties.residents ?? null]),
      );
    expect(counts(cleared)).toMatchObject({ 110101: 3, 110105: 40, 110108: 12 });
    const anonymous = await tile(path);
    expect(counts(anonymous)).toMatchObject({ 110101: null, 110105: 40, 110108: 12 });
  });

  it('audits every tile served (channel tiles) and withholds it when the audit fails', async () => {
    const d = await tile('/tiles/divisions-province/3/6/3.mvt');
    expect(d.status).toBe(200);
    const [record] = await db.query<any>(
      `SELECT channel, operation, row_counts, fields FROM audit_log ORDER BY seq DESC LIMIT 1`,
    );
    expect(record).toMatchObject({
      channel: 'tiles',
      operation: 'divisions-province',
      row_counts: { 'divisions-province': featuresOf(d, 'divisions-province').length },
    });
    expect(record.fields['divisions-province.name']).toEqual({
      allow: featuresOf(d, 'divisions-province').length,
    });
    const audit = gateway.audit!;
    const append = audit.append;
    audit.append = () => Promise.reject(new Error('disk full'));
    try {
      const failed = await gateway.fetch(`${HOST}/tiles/divisions-province/3/6/3.mvt`);
      expect(failed.status).toBe(503);
      expect(((await failed.json()) as { code: string }).code).toBe('AUDIT_UNAVAILABLE');
    } finally {
      audit.append = append;
    }
  });
});
