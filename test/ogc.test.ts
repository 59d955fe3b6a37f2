import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { maskPoint } from '../src/access/masking.ts';
import { PUBLIC_PRINCIPAL } from '../src/access/principal.ts';
import { RequestAccess } from '../src/access/request-access.ts';
import { loadConfig } from '../src/config.ts';
import type { Gateway } from '../src/gateway/server.ts';
import {
  CONFORMANCE_CLASSES,
  collectionAccess,
  getCollection,
  itemsSql,
  ogcRoute,
  parseCql2,
  tilesRoute,
} from '../src/ogc/index.ts';
import { insertTestPersons, registerTestCollections, TEST_RESIDENTS } from '../src/ogc/testing/fixtures.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, testGateway } from '../src/testing/gateway.ts';

const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
const EPSG4490 = 'http://www.opengis.net/def/crs/EPSG/0/4490';
const BASE = 'http://govbase.test/ogc';
const COUNTY_SQL = `(SELECT * FROM divisions WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL) src`;

const CA = DEMO_PRINCIPALS.countyCivilAffairs.key; // county 110105, grant 'restricted' on persons
const SAMR = DEMO_PRINCIPALS.provincialMarketRegulation.key; // province 440000, grant 'internal'
const MPS = DEMO_PRINCIPALS.nationalPublicSecurity.key; // national, 'sensitive' with purposes

let db: TestDatabase;
let gateway: Gateway;
let unregister: () => void;

interface Got {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  const url = path.startsWith('http') ? path : `${BASE}${path}`;
  const response = await gateway.fetch(url, { method, headers });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

async function sqlCodes(predicate: string, params: unknown[] = []): Promise<string[]> {
  const rows = await db.query<{ code: string }>(
    `SELECT code FROM ${COUNTY_SQL} WHERE ${predicate} ORDER BY code`,
    params,
  );
  return rows.map((r) => r.code);
}

async function itemCodes(query: string): Promise<string[]> {
  const r = await get(`/collections/divisions-county/items?limit=10000&properties=code&${query}`);
  expect(r.status, r.text).toBe(200);
  return r.json.features.map((f: any) => f.properties.code).sort();
}

beforeAll(async () => {
  db = await testDatabase();
  unregister = registerTestCollections();
  await insertTestPersons(db);
  gateway = await testGateway(db, { routes: [ogcRoute(), tilesRoute()] });
});
afterAll(async () => {
  unregister?.();
  await db?.dispose();
});

describe('landing page, conformance, API definition', () => {
  it('links the API definition, conformance and data, as JSON by default and HTML for browsers', async () => {
    const r = await get('');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    const rels = Object.fromEntries(r.json.links.map((l: any) => [l.rel, l]));
    expect(rels['service-desc']).toMatchObject({
      href: `${BASE}/api`,
      type: 'application/vnd.oai.openapi+json;version=3.0',
    });
    expect(rels.conformance.href).toBe(`${BASE}/conformance`);
    expect(rels.data.href).toBe(`${BASE}/collections`);
    expect(rels.self.href).toBe(BASE);
    const page = await get('', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('<h1>govbase OGC API');
    expect((await get('?f=html')).text).toContain('service-desc');
  });

  it('declares the conformance classes it implements', async () => {
    const r = await get('/conformance');
    expect(r.json.conformsTo).toEqual(CONFORMANCE_CLASSES);
    for (const c of [
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
      'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables',
      'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
      'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
    ]) {
      expect(r.json.conformsTo).toContain(c);
    }
    expect((await get('/conformance?f=html')).text).toContain('ogcapi-features-1/1.0/conf/core');
  });

  it('serves an OpenAPI 3.0 definition with the items parameters, filter and filter-lang included', async () => {
    const r = await get('/api');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.oai.openapi+json;version=3.0');
    expect(r.json.openapi).toMatch(/^3\.0\./);
    const items = r.json.paths['/collections/{collectionId}/items'].get;
    const names = items.parameters.map((p: any) => {
      const ref = p.$ref as string;
      return r.json.components.parameters[ref.split('/').pop()!].name;
    });
    for (const n of [
      'bbox',
      'bbox-crs',
      'crs',
      'datetime',
      'limit',
      'offset',
      'filter',
      'filter-lang',
      'sortby',
      'properties',
    ]) {
      expect(names).toContain(n);
    }
    expect(r.json.components.parameters.limit.schema).toMatchObject({
      minimum: 1,
      maximum: 10000,
      default: 10,
    });
    expect(r.json.components.parameters['filter-lang'].schema.enum).toEqual(['cql2-text']);
    for (const path of [
      '/',
      '/conformance',
      '/collections',
      '/collections/{collectionId}',
      '/collections/{collectionId}/items/{featureId}',
      '/collections/{collectionId}/queryables',
    ]) {
      expect(r.json.paths[path]?.get?.responses?.['200']).toBeDefined();
    }
    expect((await get('/api?f=html')).text).toContain('&quot;openapi&quot;');
  });
});

describe('collections', () => {
  it('lists the divisions collections with computed extents, CRS and links (JSON for GDAL, HTML for browsers)', async () => {
    const r = await get('/collections', { accept: 'application/json' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    const ids = r.json.collections.map((c: any) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['divisions-province', 'divisions-city', 'divisions-county']));
    const county = r.json.collections.find((c: any) => c.id === 'divisions-county');
    expect(county).toMatchObject({ itemType: 'feature', crs: [CRS84, EPSG4490], storageCrs: EPSG4490 });
    const [extent] = await db.query<{ xmin: number; ymin: number; xmax: number; ymax: number }>(
      `SELECT ST_XMin(e) xmin, ST_YMin(e) ymin, ST_XMax(e) xmax, ST_YMax(e) ymax FROM (SELECT ST_Extent(boundary) e FROM ${COUNTY_SQL}) q`,
    );
    expect(county.extent.spatial.crs).toBe(CRS84);
    const want = [extent!.xmin, extent!.ymin, extent!.xmax, extent!.ymax];
    for (const [i, v] of (county.extent.spatial.bbox[0] as number[]).entries())
      expect(v).toBeCloseTo(want[i]!, 6);
    expect(county.extent.temporal.interval[0]).toEqual(['2006-01-01T00:00:00Z', null]);
    const items = county.links.filter((l: any) => l.rel === 'items');
    expect(items.map((l: any) => l.type)).toEqual(['application/geo+json', 'text/html']);
    expect(items[0].href).toBe(`${BASE}/collections/divisions-county/items`);
    expect(county.links.find((l: any) => l.rel.endsWith('/queryables')).href).toBe(
      `${BASE}/collections/divisions-county/queryables`,
    );
    expect(county.links.some((l: any) => l.href === 'http://govbase.test/tiles/divisions-county.json')).toBe(
      true,
    );

    const one = await get('/collections/divisions-county');
    expect(one.json.id).toBe('divisions-county');
    expect(one.json.extent).toEqual(county.extent);
    const page = await get('/collections', { accept: 'text/html' });
    expect(page.text).toContain('县级行政区 County-level divisions');
    expect((await get('/collections/divisions-county?f=html')).text).toContain('Storage CRS');
  });

  it('describes the queryables as JSON Schema', async () => {
    const r = await get('/collections/divisions-county/queryables');
    expect(r.headers.get('content-type')).toBe('application/schema+json');
    expect(r.json.type).toBe('object');
    expect(Object.keys(r.json.properties)).toEqual([
      'code',
      'name',
      'level',
      'parent_code',
      'valid_from',
      'geometry',
    ]);
    expect(r.json.properties.valid_from).toMatchObject({ type: 'string', format: 'date' });
    expect(r.json.properties.geometry.format).toBe('geometry-multipolygon');
    expect((await get('/collections/divisions-county/queryables?f=html')).text).toContain('parent_code');
    expect((await get('/collections/divisions-county/sortables')).json.properties.geometry).toBeUndefined();
  });
});

describe('items', () => {
  it('returns a GeoJSON page: numberMatched, numberReturned, timeStamp, links, RFC 7946 features', async () => {
    const r = await get('/collections/divisions-county/items');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/geo+json');
    expect(r.headers.get('content-crs')).toBe(`<${CRS84}>`);
    const [{ n }] = (await db.query<{ n: number }>(`SELECT count(*)::int n FROM ${COUNTY_SQL}`)) as [
      { n: number },
    ];
    expect(r.json).toMatchObject({ type: 'FeatureCollection', numberMatched: n, numberReturned: 10 });
    expect(Date.parse(r.json.timeStamp)).toBeGreaterThan(Date.now() - 60_000);
    const feature = r.json.features[0];
    expect(feature).toMatchObject({ type: 'Feature', id: '110101', geometry: { type: 'MultiPolygon' } });
    expect(feature.crs).toBeUndefined();
    expect(r.json.crs).toBeUndefined();
    expect(Object.keys(feature.properties)).toEqual(['code', 'name', 'level', 'parent_code', 'valid_from']);
    const [lon, lat] = feature.geometry.coordinates[0][0][0];
    expect(lon).toBeGreaterThan(115);
    expect(lat).toBeLessThan(41);
    expect(r.json.links.find((l: any) => l.rel === 'next').href).toContain('offset=10');
  });

  it('pages with next links until exhaustion, without duplicates or gaps', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${BASE}/collections/divisions-county/items?limit=20&properties=code`;
    let pages = 0;
    let matched = 0;
    while (url) {
      const r = await get(url);
      pages++;
      matched = r.json.numberMatched;
      expect(r.json.numberReturned).toBe(r.json.features.length);
      seen.push(...r.json.features.map((f: any) => f.id));
      if (pages > 1) expect(r.json.links.some((l: any) => l.rel === 'prev')).toBe(true);
      url = r.json.links.find((l: any) => l.rel === 'next')?.href;
    }
    expect(seen).toEqual(await sqlCodes('TRUE'));
    expect(seen.length).toBe(matched);
    expect(pages).toBe(Math.ceil(matched / 20));
  });

  it('filters by bbox in CRS84 and in EPSG:4490 (lat, lon order) exactly like ST_Intersects', async () => {
    const expected = await sqlCodes(
      'ST_Intersects(boundary, ST_MakeEnvelope(116.2, 39.8, 116.6, 40.1, 4490))',
    );
    expect(expected.length).toBeGreaterThan(3);
    expect(await itemCodes('bbox=116.2,39.8,116.6,40.1')).toEqual(expected);
    expect(await itemCodes(`bbox=39.8,116.2,40.1,116.6&bbox-crs=${encodeURIComponent(EPSG4490)}`)).toEqual(
      expected,
    );
    expect(await itemCodes('bbox=39.8,116.2,40.1,116.6&bbox-crs=EPSG:4490')).toEqual(expected);
    const r = await get('/collections/divisions-county/items?bbox=116.2,39.8,116.6,40.1');
    expect(r.json.numberMatched).toBe(expected.length);
  });

  it('serves EPSG:4490 coordinates in lat, lon order with Content-Crs (Part 2)', async () => {
    const lonLat = await get('/collections/divisions-county/items/110105');
    const latLon = await get(
      `/collections/divisions-county/items/110105?crs=${encodeURIComponent(EPSG4490)}`,
    );
    expect(latLon.headers.get('content-crs')).toBe(`<${EPSG4490}>`);
    const points = (g: any) =>
      g.coordinates
        .flat(2)
        .map((p: number[]) => `${p[0]},${p[1]}`)
        .sort();
    const swapped = lonLat.json.geometry.coordinates
      .flat(2)
      .map((p: number[]) => `${p[1]},${p[0]}`)
      .sort();
    expect(points(latLon.json.geometry)).toEqual(swapped);
    expect(latLon.json.geometry.coordinates[0][0][0][0]).toBeLessThan(41); // latitude first
    const page = await get('/collections/divisions-county/items?limit=1&crs=EPSG:4490');
    expect(page.headers.get('content-crs')).toBe(`<${EPSG4490}>`);
  });

  it('serves one feature, its HTML page, and 404 for an unknown one', async () => {
    const r = await get('/collections/divisions-county/items/110105');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/geo+json');
    expect(r.json).toMatchObject({
      type: 'Feature',
      id: '110105',
      properties: { name: '朝阳区', parent_code: '110000' },
    });
    expect(r.json.links.map((l: any) => l.rel)).toEqual(['self', 'alternate', 'collection']);
    const page = await get('/collections/divisions-county/items/110105', { accept: 'text/html' });
    expect(page.text).toContain('朝阳区');
    expect(page.text).toContain('MultiPolygon');
    const missing = await get('/collections/divisions-county/items/999999');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      code: 'NOT_FOUND',
      description: "Feature '999999' in collection 'divisions-county' was not found",
    });
  });

  it('renders an items page as HTML with a pager', async () => {
    const r = await get('/collections/divisions-county/items?limit=5&offset=5&f=html');
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('Features 6–10 of');
    expect(r.text).toContain('Next page');
    expect(r.text).toContain('Previous page');
    expect(r.text).toContain('110108');
    expect(r.text).not.toContain('>110101<');
  });

  it('selects properties and sorts by sortby like ORDER BY', async () => {
    const r = await get('/collections/divisions-county/items?limit=200&properties=name&sortby=-name,%2Bcode');
    expect(r.json.features.every((f: any) => Object.keys(f.properties).join() === 'name')).toBe(true);
    const expected = await db.query<{ code: string }>(
      `SELECT code FROM ${COUNTY_SQL} ORDER BY name DESC, code ASC`,
    );
    expect(r.json.features.map((f: any) => f.id)).toEqual(expected.map((e) => e.code));
    const asc = await get(
      '/collections/divisions-county/items?limit=3&sortby=parent_code,-code&properties=code',
    );
    const expectedAsc = await db.query<{ code: string }>(
      `SELECT code FROM ${COUNTY_SQL} ORDER BY parent_code ASC, code DESC LIMIT 3`,
    );
    expect(asc.json.features.map((f: any) => f.id)).toEqual(expectedAsc.map((e) => e.code));
  });

  it('filters by datetime against the validity interval', async () => {
    expect(await itemCodes('datetime=../2010-01-01')).toEqual(
      await sqlCodes(`valid_from IS NULL OR valid_from <= '2010-01-01'`),
    );
    expect(await itemCodes('datetime=2012-06-01T00:00:00Z')).toEqual(
      await sqlCodes(`valid_from IS NULL OR valid_from <= '2012-06-01'`),
    );
    expect(await itemCodes('datetime=2019-01-01/2030-01-01')).toEqual(
      await sqlCodes(`valid_from IS NULL OR valid_from <= '2030-01-01'`),
    );
  });
});

describe('CQL2 text filters', () => {
  const cases: [string, string, Record<string, string>?][] = [
    [`code = '110105'`, `code = '110105'`],
    [`parent_code <> '110000'`, `parent_code <> '110000'`],
    [`code < '120000'`, `code < '120000'`],
    [`code <= '120101'`, `code <= '120101'`],
    [`code > '500000'`, `code > '500000'`],
    [`code >= '659001'`, `code >= '659001'`],
    [`name LIKE '%区'`, `name LIKE '%区'`],
    [`name NOT LIKE '_城区'`, `name NOT LIKE '_城区'`],
    [`parent_code IN ('110000', '120000')`, `parent_code IN ('110000', '120000')`],
    [`parent_code NOT IN ('110000')`, `parent_code NOT IN ('110000')`],
    [`code BETWEEN '310000' AND '319999'`, `code BETWEEN '310000' AND '319999'`],
    [
      `valid_from BETWEEN DATE('2006-01-01') AND DATE('2015-12-31')`,
      `valid_from BETWEEN '2006-01-01' AND '2015-12-31'`,
    ],
    [`valid_from IS NULL`, `valid_from IS NULL`],
    [
      `valid_from IS NOT NULL and valid_from > DATE('2010-01-01')`,
      `valid_from IS NOT NULL AND valid_from > '2010-01-01'`,
    ],
    [
      `NOT (parent_code = '500000') AND (name LIKE '%县' OR name LIKE '%市')`,
      `NOT (parent_code = '500000') AND (name LIKE '%县' OR name LIKE '%市')`,
    ],
    [`'110105' = code OR "name" = '海淀区'`, `code = '110105' OR name = '海淀区'`],
    [
      `S_INTERSECTS(geometry, POINT(116.4 39.9))`,
      `ST_Intersects(boundary, ST_SetSRID(ST_Point(116.4, 39.9), 4490))`,
    ],
    [
      `S_INTERSECTS(geometry, POLYGON((116 39.5, 117 39.5, 117 40.5, 116 40.5, 116 39.5)))`,
      `ST_Intersects(boundary, ST_MakeEnvelope(116, 39.5, 117, 40.5, 4490))`,
    ],
    [
      `s_intersects(geometry, BBOX(121, 30.5, 122, 31.5))`,
      `ST_Intersects(boundary, ST_MakeEnvelope(121, 30.5, 122, 31.5, 4490))`,
    ],
    [
      `S_INTERSECTS(geometry, LINESTRING(116 39, 118 41))`,
      `ST_Intersects(boundary, ST_GeomFromText('LINESTRING(116 39, 118 41)', 4490))`,
    ],
    [
      `S_INTERSECTS(geometry, MULTIPOINT((116.4 39.9), (121.47 31.23)))`,
      `ST_Intersects(boundary, ST_GeomFromText('MULTIPOINT(116.4 39.9, 121.47 31.23)', 4490))`,
    ],
    [
      `S_INTERSECTS(geometry, POINT(39.9 116.4))`,
      `ST_Intersects(boundary, ST_SetSRID(ST_Point(116.4, 39.9), 4490))`,
      { 'filter-crs': EPSG4490 },
    ],
  ];
  for (const [filter, predicate, extra] of cases) {
    it(`${filter}${extra ? ' (filter-crs EPSG:4490)' : ''} ≡ ${predicate}`, async () => {
      const params = new URLSearchParams({ filter, 'filter-lang': 'cql2-text', ...extra });
      const got = await itemCodes(params.toString());
      const expected = await sqlCodes(predicate);
      expect(got).toEqual(expected);
    });
  }

  it('compiles literals into parameters, never into the SQL text', () => {
    const view = collectionAccess(getCollection('divisions-county')!, {
      principal: PUBLIC_PRINCIPAL,
      access: new RequestAccess(PUBLIC_PRINCIPAL),
      config: loadConfig({}),
    })!;
    const filter = parseCql2(
      `name = 'x''y' AND parent_code IN ('110000', '120000') AND S_INTERSECTS(geometry, POINT(1 2))`,
    );
    const { page, count } = itemsSql(view, { filter, limit: 10, offset: 0, crs: CRS84 });
    for (const statement of [page, count]) {
      expect(statement.text).not.toContain("x'y");
      expect(statement.text).not.toContain('110000');
      expect(statement.text).not.toContain('POINT');
      expect(statement.params).toEqual(expect.arrayContaining(["x'y", '110000', '120000', 'POINT(1 2)']));
    }
  });

  it('rejects bad filters with 400 naming the parameter and the property', async () => {
    const bad = async (filter: string, lang?: string) => {
      const params = new URLSearchParams({ filter, ...(lang ? { 'filter-lang': lang } : {}) });
      const r = await get(`/collections/divisions-county/items?${params}`);
      expect(r.status).toBe(400);
      return r.json as { code: string; description: string };
    };
    const unknown = await bad(`population > 5`);
    expect(unknown.code).toBe('INVALID_ARGUMENT');
    expect(unknown.description).toContain("'filter'");
    expect(unknown.description).toContain("unknown property 'population'");
    expect((await bad(`name = `)).description).toContain('not valid CQL2 text');
    expect((await bad(`code = 110105`)).description).toContain("property 'code' is a string");
    expect((await bad(`name = 'x' AND`)).description).toContain('CQL2');
    expect((await bad(`S_WITHIN(geometry, POINT(1 2))`)).description).toContain(
      "'S_WITHIN' is not supported",
    );
    expect((await bad(`name = 'x'`, 'cql2-json')).description).toContain("'filter-lang'");
    expect((await bad(`S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0.5)))`)).description).toContain(
      'closed',
    );
    expect((await bad(`name = code`)).description).toContain('comparing two properties');
    // An injection attempt is a string literal like any other: no row matches, nothing breaks.
    const params = new URLSearchParams({ filter: `name = 'x''; DROP TABLE divisions; --'` });
    const injected = await get(`/collections/divisions-county/items?${params}`);
    expect(injected.json.numberMatched).toBe(0);
    expect((await sqlCodes('TRUE')).length).toBeGreaterThan(100);
  });
});

describe('errors', () => {
  const cases: [string, number, string, string?][] = [
    ['/collections/nope', 404, 'NOT_FOUND', "Collection 'nope'"],
    ['/collections/nope/items', 404, 'NOT_FOUND'],
    ['/nothing-here', 404, 'NOT_FOUND'],
    ['/collections/divisions-county/items?limit=0', 400, 'INVALID_ARGUMENT', "'limit'"],
    ['/collections/divisions-county/items?limit=ten', 400, 'INVALID_ARGUMENT', "'limit'"],
    ['/collections/divisions-county/items?limit=10001', 400, 'PAGE_SIZE_TOO_LARGE', "'limit'"],
    ['/collections/divisions-county/items?offset=-1', 400, 'INVALID_ARGUMENT', "'offset'"],
    ['/collections/divisions-county/items?bbox=1,2,3', 400, 'INVALID_ARGUMENT', "'bbox'"],
    ['/collections/divisions-county/items?bbox=116,41,117,40', 400, 'INVALID_ARGUMENT', "'bbox'"],
    [
      '/collections/divisions-county/items?bbox=1,2,3,4&bbox-crs=EPSG:3857',
      400,
      'INVALID_ARGUMENT',
      "'bbox-crs'",
    ],
    ['/collections/divisions-county/items?crs=EPSG:4326', 400, 'INVALID_ARGUMENT', "'crs'"],
    ['/collections/divisions-county/items?datetime=yesterday', 400, 'INVALID_ARGUMENT', "'datetime'"],
    ['/collections/divisions-county/items?sortby=population', 400, 'INVALID_ARGUMENT', "'sortby'"],
    ['/collections/divisions-county/items?properties=name,area', 400, 'INVALID_ARGUMENT', "'properties'"],
    ['/collections/divisions-county/items?colour=red', 400, 'INVALID_ARGUMENT', "'colour'"],
    ['/collections/divisions-county/items?limit=1&limit=2', 400, 'INVALID_ARGUMENT', "'limit'"],
    ['/collections/divisions-county/items?f=xml', 406, 'NOT_ACCEPTABLE'],
    ['/collections?f=csv', 406, 'NOT_ACCEPTABLE'],
  ];
  for (const [path, status, code, mention] of cases) {
    it(`${path} → ${status} ${code}`, async () => {
      const r = await get(path);
      expect(r.status).toBe(status);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json.code).toBe(code);
      expect(typeof r.json.description).toBe('string');
      if (mention) expect(r.json.description).toContain(mention);
    });
  }

  it('answers 406 to an Accept it cannot satisfy and 405 to a write', async () => {
    expect((await get('/collections', { accept: 'application/xml' })).status).toBe(406);
    expect((await get('/collections', {}, 'POST')).status).toBe(405);
    expect((await get('/collections', {}, 'HEAD')).status).toBe(200);
  });
});

describe('access', () => {
  const persons = '/collections/test-persons';

  it('hides a collection the caller may not read: not listed, 404 everywhere', async () => {
    const list = await get('/collections');
    expect(list.json.collections.map((c: any) => c.id)).not.toContain('test-persons');
    for (const path of [persons, `${persons}/items`, `${persons}/items/1`, `${persons}/queryables`]) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.json.code).toBe('NOT_FOUND');
    }
    const api = await get('/api');
    expect(api.json.components.parameters.collectionId.schema.enum).not.toContain('test-persons');
    const listed = await get('/collections', asKey(CA));
    expect(listed.json.collections.map((c: any) => c.id)).toContain('test-persons');
  });

  it('applies row scope and masks per field: a county department sees its residents, points masked', async () => {
    const r = await get(`${persons}/items?limit=1000`, asKey(CA));
    expect(r.status).toBe(200);
    expect(r.json.numberMatched).toBe(TEST_RESIDENTS['110105']!.count);
    expect(r.json.features.every((f: any) => f.properties.division === '110105')).toBe(true);
    const raw = await db.query<{ id: number; name: string; x: number; y: number }>(
      `SELECT id, name, ST_X(residence_point) x, ST_Y(residence_point) y FROM persons WHERE residence_division_code = '110105'`,
    );
    const byId = new Map(raw.map((p) => [p.id, p]));
    for (const f of r.json.features) {
      const p = byId.get(f.id)!;
      expect(f.properties.name).toBe(p.name); // restricted, grant 'restricted': clear
      // Sensitive point, grant one level below: masked, in SQL, exactly as maskPoint does it.
      expect(f.geometry).toEqual(maskPoint({ type: 'Point', coordinates: [p.x, p.y] }));
    }
    const one = await get(`${persons}/items/${raw[0]!.id}`, asKey(CA));
    expect(one.json.geometry).toEqual(maskPoint({ type: 'Point', coordinates: [raw[0]!.x, raw[0]!.y] }));
    const outside = await db.query<{ id: number }>(
      `SELECT id FROM persons WHERE residence_division_code = '110108' LIMIT 1`,
    );
    expect((await get(`${persons}/items/${outside[0]!.id}`, asKey(CA))).status).toBe(404);
  });

  it('omits denied properties and masks restricted ones for a lower grant', async () => {
    const r = await get(`${persons}/items?limit=1000`, asKey(SAMR));
    expect(r.status).toBe(200);
    expect(r.json.numberMatched).toBe(TEST_RESIDENTS['440103']!.count);
    for (const f of r.json.features) {
      expect(f.geometry).toBeNull(); // sensitive, grant 'internal': denied
      expect(f.properties.name).toMatch(/^测\*+$/); // restricted: masked
      expect(f.properties.birth_date).toMatch(/^\d{4}$/); // date masked to its year
      expect(f.properties.gender).toMatch(/^[12]$/);
    }
    const q = await get(`${persons}/queryables`, asKey(SAMR));
    expect(Object.keys(q.json.properties)).toEqual(['gender', 'division']);
  });

  it('needs the clear right to filter or sort on a property: 403 FORBIDDEN_FILTER', async () => {
    const byName = await get(
      `${persons}/items?filter=${encodeURIComponent("name = '测试01050'")}`,
      asKey(SAMR),
    );
    expect(byName.status).toBe(403);
    expect(byName.json.code).toBe('FORBIDDEN_FILTER');
    expect(byName.json.description).toContain('population.persons.name');
    expect((await get(`${persons}/items?sortby=name`, asKey(SAMR))).json.code).toBe('FORBIDDEN_FILTER');
    const spatial = await get(
      `${persons}/items?filter=${encodeURIComponent('S_INTERSECTS(geometry, BBOX(116, 39, 117, 41))')}`,
      asKey(CA),
    );
    expect(spatial.status).toBe(403);
    expect(spatial.json.description).toContain('residencePoint');
    const allowed = await get(`${persons}/items?filter=${encodeURIComponent("gender = '1'")}`, asKey(CA));
    expect(allowed.status).toBe(200);
    expect(allowed.json.numberMatched).toBe(TEST_RESIDENTS['110105']!.count / 2);
  });

  it('sees everything in clear with the grant and an approved purpose', async () => {
    const r = await get(
      `${persons}/items?limit=1&filter=${encodeURIComponent('S_INTERSECTS(geometry, BBOX(113, 22, 114, 24))')}`,
      asKey(MPS, 'criminal_investigation'),
    );
    expect(r.status).toBe(200);
    expect(r.json.numberMatched).toBe(TEST_RESIDENTS['440103']!.count);
    const [p] = await db.query<{ x: number; y: number }>(
      `SELECT ST_X(residence_point) x, ST_Y(residence_point) y FROM persons WHERE id = $1`,
      [r.json.features[0].id],
    );
    // In clear, to the 7 decimals (≈1 cm) that GeoJSON output keeps.
    expect(r.json.features[0].geometry.coordinates[0]).toBeCloseTo(p!.x, 7);
    expect(r.json.features[0].geometry.coordinates[1]).toBeCloseTo(p!.y, 7);
    const noPurpose = await get(`${persons}/items?limit=1`, asKey(MPS));
    expect(noPurpose.json.features[0].geometry).toBeNull(); // conditional data without a purpose: denied
  });

  it('audits every items and item request before responding (channel ogc)', async () => {
    const before = await db.query<{ n: number }>(
      `SELECT count(*)::int n FROM audit_log WHERE channel = 'ogc'`,
    );
    const r = await get(`${persons}/items?limit=5`, asKey(CA));
    expect(r.status).toBe(200);
    const [record] = await db.query<any>(
      `SELECT principal, department_code, channel, operation, fields, row_counts, outcome FROM audit_log ORDER BY seq DESC LIMIT 1`,
    );
    expect(record).toMatchObject({
      principal: expect.stringMatching(/^key:gbk_demo01/),
      department_code: 'CA-110105',
      channel: 'ogc',
      operation: 'test-persons',
      row_counts: { 'test-persons': 5 },
      outcome: 'ok',
    });
    expect(record.fields['test-persons.name']).toEqual({ allow: 5 });
    expect(record.fields['test-persons.geometry']).toEqual({ mask: 5 });
    await get('/collections/divisions-county/items/110105');
    const after = await db.query<{ n: number }>(
      `SELECT count(*)::int n FROM audit_log WHERE channel = 'ogc'`,
    );
    expect(after[0]!.n).toBe(before[0]!.n + 2);
  });

  it('withholds the data with 503 when the audit record cannot be written', async () => {
    const audit = gateway.audit!;
    const append = audit.append;
    audit.append = () => Promise.reject(new Error('disk full'));
    try {
      const r = await get(`${persons}/items`, asKey(CA));
      expect(r.status).toBe(503);
      expect(r.json.code).toBe('AUDIT_UNAVAILABLE');
      expect(r.text).not.toContain('Feature');
      expect((await get('/collections/divisions-county/items/110105')).status).toBe(503);
    } finally {
      audit.append = append;
    }
  });
});

describe('aggregate collections', () => {
  it('serves counts per county to everyone, small cells suppressed unless cleared', async () => {
    const anonymous = await get('/collections/test-population-county/items?limit=100');
    expect(anonymous.status).toBe(200);
    const counts = Object.fromEntries(
      anonymous.json.features.map((f: any) => [f.id, f.properties.residents]),
    );
    expect(counts).toEqual({ '110101': null, '110105': 40, '110108': 12, '120101': null });
    const cleared = await get('/collections/test-population-county/items?limit=100', asKey(MPS));
    expect(Object.fromEntries(cleared.json.features.map((f: any) => [f.id, f.properties.residents]))).toEqual(
      {
        '110101': 3,
        '110105': 40,
        '110108': 12,
        '120101': 2,
      },
    );
    const filtered = await get(
      `/collections/test-population-county/items?filter=${encodeURIComponent('residents < 5')}`,
    );
    expect(filtered.status).toBe(400);
    expect(filtered.json.description).toContain("unknown property 'residents'");
  });
});
