import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { generateLayers, type LayersManifest } from '../src/ingest/generate/layers.ts';
import { insertTestPersons } from '../src/ogc/testing/fixtures.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';

const MPS = asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key, 'criminal_investigation');
const GD = asKey(DEMO_PRINCIPALS.provincialMarketRegulation.key);
const BEIJING = {
  type: 'Polygon',
  coordinates: [
    [
      [115.9, 39.6],
      [117.0, 39.6],
      [117.0, 40.3],
      [115.9, 40.3],
      [115.9, 39.6],
    ],
  ],
};
const BOWTIE = {
  type: 'Polygon',
  coordinates: [
    [
      [116, 39],
      [117, 40],
      [117, 39],
      [116, 40],
      [116, 39],
    ],
  ],
};

let db: TestDatabase;
let gateway: Gateway;
let manifest: LayersManifest;

beforeAll(async () => {
  db = await testDatabase();
  manifest = await generateLayers(db, { seed: 3, perLayer: 15, prefixes: ['11', '31'] });
  await insertTestPersons(db);
  gateway = await testGateway(db);
});
afterAll(() => db?.dispose());

const FEATURE_IDS = `query($l: String, $bbox: [Float!], $i: GeoJSON, $w: GeoJSON, $c: GeoJSON, $d: DWithinInput, $n: NearestInput) {
  features(layerId: $l, bbox: $bbox, intersects: $i, within: $w, contains: $c, dwithin: $d, nearest: $n, first: 1000) {
    edges { node { id distanceMetres } } } }`;

async function ids(vars: Record<string, unknown>): Promise<string[]> {
  const r = await gql(gateway, FEATURE_IDS, vars, MPS);
  expect(r.errors).toBeUndefined();
  return r.data!.features.edges.map((e: { node: { id: string } }) => e.node.id);
}
async function sqlIds(where: string, params: unknown[] = [], order = 'f.id'): Promise<string[]> {
  const found = await db.query<{ id: string }>(
    `SELECT f.id::text AS id FROM features f WHERE ${where} ORDER BY ${order} LIMIT 1000`,
    params,
  );
  return found.map((r) => r.id);
}
const G = `ST_SetSRID(ST_GeomFromGeoJSON($1), 4490)`;

describe('features: spatial predicates equal the same predicate in SQL', () => {
  it('layers: public sees public layers; a department also the internal one', async () => {
    const anon = await gql(gateway, '{ layers { id classification propertySchema { name type } } }');
    const dept = await gql(gateway, '{ layers { id } }', {}, MPS);
    expect(anon.data!.layers.map((l: { id: string }) => l.id)).not.toContain('infrastructure');
    expect(dept.data!.layers).toHaveLength(8);
  });

  it('bbox, intersects, within, contains, dwithin, nearest', async () => {
    const bj = JSON.stringify(BEIJING);
    expect(await ids({ bbox: [115.9, 39.6, 117.0, 40.3] })).toEqual(
      await sqlIds(`ST_Intersects(geom, ST_MakeEnvelope(115.9, 39.6, 117.0, 40.3, 4490))`),
    );
    const intersects = await ids({ i: BEIJING });
    expect(intersects.length).toBeGreaterThan(0);
    expect(intersects).toEqual(await sqlIds(`ST_Intersects(geom, ${G})`, [bj]));
    expect(await ids({ w: BEIJING })).toEqual(await sqlIds(`ST_Within(geom, ${G})`, [bj]));
    const [inside] = await db.query<{ p: string }>(
      `SELECT ST_AsGeoJSON(ST_PointOnSurface(geom)) AS p FROM features WHERE layer_id = 'farmland' AND ST_IsValid(geom) LIMIT 1`,
    );
    const contains = await ids({ c: JSON.parse(inside!.p) });
    expect(contains.length).toBeGreaterThan(0);
    expect(contains).toEqual(await sqlIds(`ST_Contains(geom, ${G})`, [inside!.p]));
    const point = { type: 'Point', coordinates: [116.4, 39.9] };
    const pj = JSON.stringify(point);
    expect(await ids({ d: { geometry: point, metres: 30000 } })).toEqual(
      await sqlIds(
        `ST_DWithin(ST_SetSRID(geom, 4326)::geography, ST_SetSRID(${G}, 4326)::geography, 30000)`,
        [pj],
      ),
    );
    const nearest = await ids({ l: 'ecology', n: { point, k: 3 } });
    expect(nearest).toHaveLength(3);
    expect(nearest).toEqual(
      (
        await sqlIds(
          `layer_id = 'ecology'`,
          [pj],
          `ST_Distance(ST_SetSRID(geom, 4326)::geography, ST_SetSRID(${G}, 4326)::geography), f.id`,
        )
      ).slice(0, 3),
    );
  });

  it('area and length are geodesic (m², m)', async () => {
    const r = await gql(
      gateway,
      `{ features(layerId: "farmland", first: 1) { edges { node { id area length } } } }`,
      {},
      MPS,
    );
    const node = r.data!.features.edges[0].node;
    const [row] = await db.query<{ a: number; l: number }>(
      `SELECT ST_Area(ST_SetSRID(geom, 4326)::geography) AS a, ST_Perimeter(ST_SetSRID(geom, 4326)::geography) AS l
         FROM features WHERE id = $1`,
      [node.id],
    );
    expect(node.area).toBeCloseTo(row!.a, 3);
    expect(node.length).toBeCloseTo(row!.l, 3);
    expect(node.area).toBeGreaterThan(1000);
  });

  it('pages with first/after', async () => {
    const q = `query($a: String) { features(layerId: "farmland", first: 5, after: $a) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    const one = await gql(gateway, q, {}, MPS);
    const two = await gql(gateway, q, { a: one.data!.features.pageInfo.endCursor }, MPS);
    const all = [...one.data!.features.edges, ...two.data!.features.edges].map((e: any) => e.node.id);
    expect(all).toEqual((await sqlIds(`layer_id = 'farmland'`)).slice(0, all.length));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('INVALID_GEOMETRY', () => {
  it('names the argument and the PostGIS reason', async () => {
    const r = await gql(gateway, FEATURE_IDS, { w: BOWTIE }, MPS);
    expect(r.errors![0]!.extensions!.code).toBe('INVALID_GEOMETRY');
    expect(r.errors![0]!.message).toMatch(/'within'.*Self-intersection/);
    const d = await gql(gateway, FEATURE_IDS, { d: { geometry: BOWTIE, metres: 10 } }, MPS);
    expect(d.errors![0]!.message).toContain("'dwithin.geometry'");
  });

  it('rejects oversized, out-of-range and wrongly typed inputs', async () => {
    const ring = Array.from({ length: 10_001 }, (_, i) => [
      116 + Math.cos((i / 10_001) * 2 * Math.PI),
      39 + Math.sin((i / 10_001) * 2 * Math.PI),
    ]);
    ring.push(ring[0]!);
    const big = await gql(gateway, FEATURE_IDS, { i: { type: 'Polygon', coordinates: [ring] } }, MPS);
    expect(big.errors![0]!.extensions!.code).toBe('INVALID_GEOMETRY');
    expect(big.errors![0]!.message).toMatch(/'intersects'.*vertices/);
    const far = await gql(gateway, FEATURE_IDS, { i: { type: 'Point', coordinates: [200, 39] } }, MPS);
    expect(far.errors![0]!.extensions!.code).toBe('INVALID_GEOMETRY');
    const notPoint = await gql(gateway, FEATURE_IDS, { n: { point: BEIJING, k: 1 } }, MPS);
    expect(notPoint.errors![0]!.message).toContain("'nearest.point'");
    const open = await gql(
      gateway,
      FEATURE_IDS,
      {
        i: {
          type: 'Polygon',
          coordinates: [
            [
              [116, 39],
              [117, 39],
              [117, 40],
            ],
          ],
        },
      },
      MPS,
    );
    expect(open.errors![0]!.extensions!.code).toBe('INVALID_GEOMETRY');
  });
});

describe('reverseGeocode', () => {
  const Q = `query($p: GeoJSON!) { reverseGeocode(point: $p) { divisions { code name } finest { code }
    places { name type distanceMetres } } }`;
  it('天安门 → 北京市 › 东城区', async () => {
    const r = await gql(gateway, Q, { p: { type: 'Point', coordinates: [116.3975, 39.9087] } });
    expect(r.errors).toBeUndefined();
    const g = r.data!.reverseGeocode;
    expect(g.divisions.map((d: { code: string }) => d.code)).toEqual(['110000', '110101']);
    expect(g.divisions[1].name).toBe('东城区');
    expect(g.places.length).toBe(5);
    expect(g.places[0].distanceMetres).toBeLessThan(5000);
    const sorted = [...g.places].sort((a: any, b: any) => a.distanceMetres - b.distanceMetres);
    expect(g.places).toEqual(sorted);
  });
  it('人民广场 → 上海市 › 黄浦区', async () => {
    const r = await gql(gateway, Q, { p: { type: 'Point', coordinates: [121.4737, 31.2304] } });
    expect(r.data!.reverseGeocode.finest.code).toBe('310101');
    expect(r.data!.reverseGeocode.divisions[0].code).toBe('310000');
  });
});

describe('spatialAggregate', () => {
  const Q = `query($a: GeoJSON, $n: NearFeatureInput, $by: SpatialGrouping!, $f: SpatialAggregateFilter, $cell: Float) {
    spatialAggregate(subject: PERSONS, area: $a, withinMetresOfFeature: $n, by: $by, level: COUNTY, cellMetres: $cell,
      resolution: 7, filter: $f) { total cells { key label count suppressed geometry } } }`;

  it('per county equals SQL; needs a grant on persons', async () => {
    const r = await gql(gateway, Q, { a: BEIJING, by: 'DIVISION_LEVEL' }, MPS);
    expect(r.errors).toBeUndefined();
    const expected = await db.query<{ key: string; count: number }>(
      `SELECT d.code AS key, count(*)::int AS count FROM persons p JOIN divisions d
          ON d.level = 'county' AND d.valid_to IS NULL AND ST_Intersects(d.boundary, p.residence_point)
        WHERE ST_Intersects(${G}, p.residence_point) GROUP BY 1 ORDER BY 1`,
      [JSON.stringify(BEIJING)],
    );
    expect(r.data!.spatialAggregate.cells.map((c: any) => ({ key: c.key, count: c.count }))).toEqual(
      expected,
    );
    expect(r.data!.spatialAggregate.total).toBe(expected.reduce((s, c) => s + c.count, 0));
    const anon = await gql(gateway, Q, { a: BEIJING, by: 'DIVISION_LEVEL' });
    expect(anon.errors![0]!.extensions!.code).toBe('FORBIDDEN_DATASET');
  });

  it('grid and H3 cells add up; small cells are suppressed for uncleared callers', async () => {
    for (const by of ['SQUARE_GRID', 'H3']) {
      const r = await gql(gateway, Q, { a: BEIJING, by, cell: 2000 }, MPS);
      expect(r.errors).toBeUndefined();
      const cells = r.data!.spatialAggregate.cells;
      expect(cells.reduce((s: number, c: any) => s + c.count, 0)).toBe(r.data!.spatialAggregate.total);
      expect(cells[0].geometry.type).toBe('Polygon');
    }
    const gz = {
      type: 'Polygon',
      coordinates: [
        [
          [113.1, 23.0],
          [113.4, 23.0],
          [113.4, 23.3],
          [113.1, 23.3],
          [113.1, 23.0],
        ],
      ],
    };
    const r = await gql(gateway, Q, { a: gz, by: 'SQUARE_GRID', cell: 1000 }, GD);
    expect(r.errors).toBeUndefined();
    for (const c of r.data!.spatialAggregate.cells) {
      expect(c.suppressed).toBe(true);
      expect(c.count).toBeNull();
    }
    expect(r.data!.spatialAggregate.cells.length).toBeGreaterThan(0);
  });

  it('how many over-60s live within 1 km of a zone', async () => {
    const [zone] = await db.query<{ id: string }>(
      `INSERT INTO features (layer_id, geom, properties, division_code, source_dept)
       VALUES ('planning-zones', ST_SetSRID(ST_MakeEnvelope(116.47, 39.93, 116.49, 39.95), 4490),
               '{"zone_kind":"urban_development_boundary"}', '110105', 'MNR') RETURNING id::text AS id`,
    );
    const r = await gql(
      gateway,
      Q,
      { n: { featureId: zone!.id, metres: 1000 }, by: 'DIVISION_LEVEL', f: { ageMin: 60 } },
      MPS,
    );
    expect(r.errors).toBeUndefined();
    const [expected] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM persons p, features f
        WHERE f.id = $1 AND p.birth_date <= (current_date - interval '60 years')::date
          AND ST_DWithin(ST_SetSRID(f.geom, 4326)::geography, ST_SetSRID(p.residence_point, 4326)::geography, 1000)`,
      [zone!.id],
    );
    expect(r.data!.spatialAggregate.total).toBe(expected!.n);
    expect(expected!.n).toBeGreaterThan(0);
  });

  it('the injected invalid geometries are in the manifest', () => {
    expect(manifest.invalid.length).toBe(3);
  });
});

describe('OGC collections', () => {
  it('serves every layer, the gazetteer and the choropleth as items and tilesets', async () => {
    const list = await gateway.fetch('http://govbase.test/ogc/collections', {
      headers: { accept: 'application/json' },
    });
    const ids = ((await list.json()) as { collections: { id: string }[] }).collections.map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining(['layer-farmland', 'layer-rs-footprints', 'place-names', 'persons-per-county']),
    );
    expect(ids).not.toContain('layer-infrastructure');
    const items = await gateway.fetch(
      'http://govbase.test/ogc/collections/layer-rs-footprints/items?limit=3',
    );
    const body = (await items.json()) as { features: { properties: Record<string, unknown> }[] };
    expect(body.features).toHaveLength(3);
    expect(Object.keys(body.features[0]!.properties)).toEqual(
      expect.arrayContaining(['acquired_at', 'sensor', 'cloud_cover', 'division_code']),
    );
    const filtered = await gateway.fetch(
      `http://govbase.test/ogc/collections/layer-natural-resources/items?filter=${encodeURIComponent("kind = 'forest'")}`,
    );
    const forest = (await filtered.json()) as { features: { properties: { kind: string } }[] };
    for (const f of forest.features) expect(f.properties.kind).toBe('forest');
    const places = await gateway.fetch(
      `http://govbase.test/ogc/collections/place-names/items?filter=${encodeURIComponent("name = '东城区'")}`,
    );
    expect(((await places.json()) as { features: unknown[] }).features).toHaveLength(1);
    const tile = await gateway.fetch('http://govbase.test/tiles/layer-farmland/8/210/97.mvt');
    expect(tile.status).toBe(200);
  });
});

describe('personsWithin', () => {
  const Q = `query($a: GeoJSON!) { personsWithin(area: $a, first: 100) { edges { node { name } } } }`;
  it('needs the clear right to residence points; returns the persons inside', async () => {
    const r = await gql(gateway, Q, { a: BEIJING }, MPS);
    expect(r.errors).toBeUndefined();
    const [expected] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM persons WHERE ST_Intersects(${G}, residence_point)`,
      [JSON.stringify(BEIJING)],
    );
    expect(r.data!.personsWithin.edges).toHaveLength(expected!.n);
    const gd = await gql(gateway, Q, { a: BEIJING }, GD);
    expect(gd.errors![0]!.extensions!.code).toBe('FORBIDDEN_FILTER');
  });
});
