import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OgcApiEndpoint } from '@camptocamp/ogc-client';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway/server.ts';
import { ogcRoute, tilesRoute } from '../src/ogc/index.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { testGateway } from '../src/testing/gateway.ts';

/**
 * The real clients against a real HTTP server: GDAL's OAPIF and MVT drivers (ogrinfo 3.6) and
 * @camptocamp/ogc-client. The GDAL tests are skipped only when ogrinfo is not installed.
 */

const run = promisify(execFile);
const HAS_OGRINFO = spawnSync('ogrinfo', ['--version']).status === 0;
const SKIPPED = HAS_OGRINFO ? '' : ' [skipped: ogrinfo (GDAL) is not installed on this machine]';
const COUNTY_SQL = `(SELECT * FROM divisions WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL) src`;

let db: TestDatabase;
let gateway: Gateway;
let server: Server;
let base: string;
const requests: string[] = [];

/** ogrinfo with no proxy in the way and a bounded wait. */
async function ogrinfo(...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_PROXY: '127.0.0.1',
    GDAL_HTTP_TIMEOUT: '60',
    CPL_DEBUG: 'OFF',
  };
  for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'])
    delete env[name];
  const { stdout } = await run('ogrinfo', args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db, { routes: [ogcRoute(), tilesRoute()] });
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    gateway.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await db?.dispose();
});

describe('GDAL OAPIF driver (ogrinfo)', () => {
  it.skipIf(!HAS_OGRINFO)(`lists every collection${SKIPPED}`, async () => {
    // One feature a page: GDAL reads a first page of every layer to learn its geometry type.
    const out = await ogrinfo('-ro', '-so', '-oo', 'PAGE_SIZE=1', `OAPIF:${base}/ogc`);
    const listed = [...out.matchAll(/^\d+: (\S+)/gm)].map((m) => m[1]);
    const response = await fetch(`${base}/ogc/collections`, { headers: { accept: 'application/json' } });
    const collections = ((await response.json()) as { collections: { id: string }[] }).collections.map(
      (c) => c.id,
    );
    expect(listed).toEqual(collections);
    expect(listed).toEqual(
      expect.arrayContaining(['divisions-province', 'divisions-city', 'divisions-county']),
    );
  });

  it.skipIf(!HAS_OGRINFO)(`reads a layer's schema, extent and feature count${SKIPPED}`, async () => {
    const out = await ogrinfo('-ro', '-so', `OAPIF:${base}/ogc`, 'divisions-county');
    const [{ n }] = (await db.query<{ n: number }>(`SELECT count(*)::int n FROM ${COUNTY_SQL}`)) as [
      { n: number },
    ];
    expect(out).toContain('Geometry: Multi Polygon');
    expect(out).toContain(`Feature Count: ${n}`);
    for (const field of ['code: String', 'name: String', 'parent_code: String', 'valid_from: String'])
      expect(out).toContain(field);
    expect(out).toMatch(/Extent: \(78\.\d+, 18\.\d+\) - \(122\.\d+, 47\.\d+\)/);
  });

  it.skipIf(!HAS_OGRINFO)(
    `reads a bbox over several pages, the same features as ST_Intersects${SKIPPED}`,
    async () => {
      requests.length = 0;
      const out = await ogrinfo(
        '-ro',
        '-oo',
        'PAGE_SIZE=5',
        '-geom=NO',
        `OAPIF:${base}/ogc`,
        'divisions-county',
        '-spat',
        '116',
        '39.5',
        '117',
        '40.5',
      );
      const codes = [...out.matchAll(/^ {2}code \(String\) = (\d+)$/gm)].map((m) => m[1]).sort();
      const expected = await db.query<{ code: string }>(
        `SELECT code FROM ${COUNTY_SQL} WHERE ST_Intersects(boundary, ST_MakeEnvelope(116, 39.5, 117, 40.5, 4490)) ORDER BY code`,
      );
      expect(codes).toEqual(expected.map((e) => e.code));
      expect(codes.length).toBeGreaterThan(10);
      // Several pages, each with the bbox, followed through the next links.
      const pages = requests.filter(
        (r) => r.includes('/items?') && r.includes('bbox=') && r.includes('limit=5'),
      );
      expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(codes.length / 5));
      expect(pages.some((r) => r.includes('offset=5'))).toBe(true);
      expect(pages.some((r) => r.includes('offset=10'))).toBe(true);
    },
  );
});

describe('GDAL MVT driver (ogrinfo)', () => {
  it.skipIf(!HAS_OGRINFO)(
    `reads a tile saved as z/x/y.pbf: the layer, its features, EPSG:3857${SKIPPED}`,
    async () => {
      const response = await fetch(`${base}/tiles/divisions-county/6/52/24.pbf`);
      expect(response.status).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const decoded = new VectorTile(new PbfReader(bytes)).layers['divisions-county']!;
      const dir = mkdtempSync(join(tmpdir(), 'govbase-mvt-'));
      try {
        mkdirSync(join(dir, '6', '52'), { recursive: true });
        const path = join(dir, '6', '52', '24.pbf');
        writeFileSync(path, bytes);
        const out = await ogrinfo('-ro', '-so', '-al', path);
        expect(out).toContain('Layer name: divisions-county');
        expect(out).toContain(`Feature Count: ${decoded.length}`);
        expect(out).toContain('ID["EPSG",3857]');
        expect(out).toContain('name: String');
        const features = await ogrinfo('-ro', '-al', '-geom=NO', path);
        expect(features).toContain('name (String) = 朝阳区');
        expect([...features.matchAll(/^OGRFeature\(divisions-county\)/gm)].length).toBe(decoded.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('@camptocamp/ogc-client', () => {
  it('reads the landing page, the conformance classes, the collections and items', async () => {
    const endpoint = new OgcApiEndpoint(`${base}/ogc`);
    const info = await endpoint.info;
    expect(info.title).toBe('govbase OGC API – Features');
    const conformance = await endpoint.conformanceClasses;
    expect(conformance).toContain('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core');
    expect(await endpoint.hasFeatures).toBe(true);
    expect(await endpoint.featureCollections).toEqual(
      expect.arrayContaining(['divisions-province', 'divisions-city', 'divisions-county']),
    );
    const collection = await endpoint.getCollectionInfo('divisions-county');
    expect(collection.title).toBe('县级行政区 County-level divisions');
    expect(collection.itemFormats).toContain('application/geo+json');
    expect(collection.queryables.map((q) => q.name)).toEqual(
      expect.arrayContaining(['code', 'name', 'level', 'parent_code', 'valid_from']),
    );
    const items = await endpoint.getCollectionItems('divisions-county', 5);
    expect(items).toHaveLength(5);
    expect(items[0]!.properties).toMatchObject({ code: '110101', name: '东城区' });
  });
});
