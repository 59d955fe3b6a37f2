import { sql } from 'drizzle-orm';
import { getHexagonAreaAvg, latLngToCell, UNITS } from 'h3-js';
import { DEMO_PRINCIPALS } from '../../src/access/demo.ts';
import type { Config } from '../../src/config.ts';
import { type Database, rows } from '../../src/db/index.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { generateLayers } from '../../src/ingest/generate/layers.ts';
import {
  type CollectionAccess,
  collectionAccess,
  getCollection,
  type ItemsRequest,
  itemsSql,
  ogcRoute,
  requestContext,
  type TileAddress,
  tileSql,
  tilesRoute,
} from '../../src/ogc/index.ts';
import { CRS84 } from '../../src/ogc/query-params.ts';
import { boxDegrees, h3Aggregate } from '../../src/registries/spatial/h3-aggregate.ts';
import { allowAllPrincipal, type BenchContext } from './context.ts';
import { type Comparison, compare, type Measurement, timeEach } from './harness.ts';

/**
 * The spatial endpoints and queries against the raw SQL they stand on, measured in the same run:
 * - vector tiles at z6, z10, z14 (uncached, cached, revalidated with If-None-Match → 304) against the very
 *   tile statement run raw (ST_AsMVT on PostgreSQL; on PGlite, which has no protobuf, the same feature SQL
 *   without the vt-pbf encoding), and that statement against a textbook ST_AsMVT query (server only);
 * - an OGC items page of 1000 features against its two raw statements (page + numberMatched), and against
 *   those statements plus the least GeoJSON serialisation any server must do;
 * - reverse geocoding against ST_Contains on the division polygons plus a KNN query on the gazetteer;
 * - spatial aggregation of the bench persons (by division, square grid, H3) against the raw GROUP BY, and
 *   H3 in boxes against streaming every point to h3-js (the previous implementation).
 * Every subject is checked to return what its baseline returns before it is timed.
 */

const MPS = {
  authorization: `Bearer ${DEMO_PRINCIPALS.nationalPublicSecurity.key}`,
  'x-purpose': 'criminal_investigation',
};
const ZOOMS = [6, 10, 14] as const;
/** Mainland China's bounding box: the area of the whole-population aggregations. */
const CHINA = {
  type: 'Polygon',
  coordinates: [
    [
      [73, 18],
      [135, 18],
      [135, 54],
      [73, 54],
      [73, 18],
    ],
  ],
};
const CHINA_SQL = `ST_SetSRID(ST_GeomFromGeoJSON('${JSON.stringify(CHINA)}'), 4490)`;

function tileOf(lon: number, lat: number, z: number): TileAddress {
  const n = 2 ** z;
  const phi = (lat * Math.PI) / 180;
  return {
    z,
    x: Math.floor(((lon + 180) / 360) * n),
    y: Math.floor(((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * n),
  };
}

async function fetchOk(gateway: Gateway, url: string, headers: Record<string, string>): Promise<Response> {
  const response = await gateway.fetch(`http://bench${url}`, { headers });
  if (response.status !== 200 && response.status !== 304) {
    throw new Error(`bench: ${url} answered ${response.status}: ${await response.text()}`);
  }
  return response;
}

function viewOf(collectionId: string, config: Config): CollectionAccess {
  const collection = getCollection(collectionId);
  if (!collection) throw new Error(`bench: no collection ${collectionId}`);
  const view = collectionAccess(collection, requestContext(allowAllPrincipal(), { config }));
  if (!view) throw new Error(`bench: ${collectionId} invisible`);
  return view;
}

/** The raw tile statement: bytes from ST_AsMVT on the server, feature rows on PGlite. */
async function rawTile(db: Database, view: CollectionAccess, t: TileAddress): Promise<number> {
  const encoder = db.kind === 'postgres' ? 'postgis' : 'typescript';
  const statement = tileSql(view, t, encoder, view.visible);
  const found = await db.query<{ tile?: Uint8Array; n?: number }>(statement.text, statement.params);
  return encoder === 'postgis' ? (found[0]?.tile?.byteLength ?? 0) : found.length;
}

/** What one would write by hand: every county intersecting the tile, through ST_AsMVTGeom, no simplification. */
const TEXTBOOK_MVT = `
  SELECT ST_AsMVT(q, 'divisions-county', 4096, 'geom') AS tile FROM (
    SELECT code, name, level, parent_code, valid_from,
           ST_AsMVTGeom(ST_Transform(boundary, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
      FROM divisions
     WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL
       AND boundary && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4490)) q`;

async function benchTiles(
  ctx: BenchContext,
  config: Config,
  cached: Gateway,
  uncached: Gateway,
  open: Gateway,
): Promise<Comparison[]> {
  const { db } = ctx;
  const out: Comparison[] = [];
  const seats = await db.query<{ x: number; y: number }>(
    `SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (
       SELECT ST_PointOnSurface(boundary) AS p FROM divisions
        WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL ORDER BY md5(code) LIMIT 60) s`,
  );
  const collections = ctx.quick ? ['divisions-county'] : ['divisions-county', 'place-names'];
  for (const id of collections) {
    const view = viewOf(id, config);
    for (const z of ZOOMS) {
      const seen = new Set<string>();
      const tiles: TileAddress[] = [];
      for (const s of seats) {
        const t = tileOf(s.x, s.y, z);
        const key = `${t.x}/${t.y}`;
        if (!seen.has(key) && tiles.length < (ctx.quick ? 8 : 20)) {
          seen.add(key);
          tiles.push(t);
        }
      }
      const url = (t: TileAddress) => `/tiles/${id}/${t.z}/${t.x}/${t.y}.mvt`;
      // The endpoint serves what the raw statement makes.
      let totalBytes = 0;
      for (const t of tiles) {
        const response = await fetchOk(uncached, url(t), MPS);
        const bytes = (await response.arrayBuffer()).byteLength;
        totalBytes += bytes;
        const raw = await rawTile(db, view, t);
        if (db.kind === 'postgres' && bytes !== raw)
          throw new Error(`bench: tile ${url(t)} is ${bytes} bytes, its SQL gives ${raw}`);
      }
      const sizeNote = `${tiles.length} tiles, ${(totalBytes / tiles.length / 1024).toFixed(1)} KiB on average`;
      const n = tiles.length * (ctx.quick ? 2 : 5);
      const baseline = () =>
        timeEach(
          `${id} z${z}: tile SQL raw (${db.kind === 'postgres' ? 'ST_AsMVT' : 'no encoding'})`,
          n,
          (i) => rawTile(db, view, tiles[i % tiles.length]!),
        );
      const warm = Math.min(20, tiles.length);
      out.push(
        await compare(
          'spatial',
          3,
          () =>
            timeEach(
              `${id} z${z} tile, uncached`,
              n,
              async (i) => (await fetchOk(uncached, url(tiles[i % tiles.length]!), MPS)).arrayBuffer(),
              warm,
            ),
          baseline,
          sizeNote,
        ),
      );
      for (const t of tiles) await (await fetchOk(cached, url(t), MPS)).arrayBuffer();
      out.push(
        await compare(
          'spatial',
          3,
          () =>
            timeEach(
              `${id} z${z} tile, cached (200, audited)`,
              n,
              async (i) => (await fetchOk(cached, url(tiles[i % tiles.length]!), MPS)).arrayBuffer(),
              warm,
            ),
          baseline,
        ),
      );
      if (id === 'divisions-county') {
        for (const t of tiles) await (await fetchOk(open, url(t), {})).arrayBuffer();
        out.push(
          await compare(
            'spatial',
            3,
            () =>
              timeEach(
                `${id} z${z} tile, cached (200), access + audit off`,
                n,
                async (i) => (await fetchOk(open, url(tiles[i % tiles.length]!), {})).arrayBuffer(),
                warm,
              ),
            baseline,
          ),
        );
        const etags = new Map<string, string>();
        for (const t of tiles) etags.set(url(t), (await fetchOk(cached, url(t), MPS)).headers.get('etag')!);
        out.push(
          await compare(
            'spatial',
            3,
            () =>
              timeEach(`${id} z${z} tile, If-None-Match → 304`, n, async (i) => {
                const u = url(tiles[i % tiles.length]!);
                const response = await fetchOk(cached, u, { ...MPS, 'if-none-match': etags.get(u)! });
                if (response.status !== 304)
                  throw new Error(`bench: ${u} revalidated with ${response.status}`);
              }),
            baseline,
          ),
        );
        if (db.kind === 'postgres') {
          out.push(
            await compare(
              'spatial',
              3,
              baseline,
              () =>
                timeEach(`${id} z${z}: textbook ST_AsMVT (no simplification)`, n, (i) => {
                  const t = tiles[i % tiles.length]!;
                  return db.query(TEXTBOOK_MVT, [t.z, t.x, t.y]);
                }),
              'our tile SQL vs the textbook query',
            ),
          );
        }
      }
    }
  }
  return out;
}

async function benchItems(ctx: BenchContext, config: Config, gateway: Gateway): Promise<Comparison[]> {
  const { db } = ctx;
  const out: Comparison[] = [];
  for (const id of ['place-names', 'layer-farmland']) {
    const view = viewOf(id, config);
    const { count: countAll } = itemsSql(view, { limit: 1, offset: 0, crs: CRS84 });
    const [{ n: total } = { n: 0 }] = await db.query<{ n: number }>(countAll.text, countAll.params);
    const limit = Math.min(1000, total);
    if (limit < 100) {
      console.log(`spatial: ${id} has ${total} features, too few for an items page; skipped`);
      continue;
    }
    const offsets = [0, 1, 2, 3, 4].map((k) => Math.floor(((total - limit) * k) / 4));
    const request = (offset: number): ItemsRequest => ({ limit, offset, crs: CRS84 });
    const raw = async (offset: number) => {
      const { page, count } = itemsSql(view, request(offset));
      const [matched] = await db.query<{ n: number }>(count.text, count.params);
      const found = await db.query<Record<string, unknown>>(page.text, page.params);
      return { matched: matched!.n, found };
    };
    const served = view.visible;
    const serialise = ({ matched, found }: { matched: number; found: Record<string, unknown>[] }) => {
      const features = found.map((r) => {
        const properties: Record<string, unknown> = {};
        for (const name of served) properties[name] = r[name] ?? null;
        return `{"type":"Feature","id":${JSON.stringify(r.__id)},"geometry":${r.__geometry},"properties":${JSON.stringify(properties)}}`;
      });
      return `{"type":"FeatureCollection","numberMatched":${matched},"features":[${features.join(',')}]}`;
    };
    const url = (offset: number) => `/ogc/collections/${id}/items?limit=${limit}&offset=${offset}`;
    // Same features, same order, as the raw statement.
    for (const offset of offsets) {
      const body = (await (await fetchOk(gateway, url(offset), MPS)).json()) as {
        numberMatched: number;
        features: { id: unknown; properties: Record<string, unknown> }[];
      };
      const { matched, found } = await raw(offset);
      const same =
        body.numberMatched === matched &&
        body.features.length === found.length &&
        body.features.every(
          (f, i) =>
            String(f.id) === String(found[i]!.__id) && Object.keys(f.properties).join() === served.join(),
        );
      if (!same) throw new Error(`bench: ${url(offset)} differs from its SQL`);
    }
    const n = ctx.quick ? 10 : 40;
    const subject = () =>
      timeEach(
        `${id}: items page of ${limit} (GeoJSON)`,
        n,
        async (i) => (await fetchOk(gateway, url(offsets[i % offsets.length]!), MPS)).text(),
        5,
      );
    out.push(
      await compare('spatial', 3, subject, () =>
        timeEach('same page + numberMatched, raw SQL', n, (i) => raw(offsets[i % offsets.length]!), 5),
      ),
    );
    out.push(
      await compare(
        'spatial',
        3,
        subject,
        () =>
          timeEach(
            'raw SQL + bare GeoJSON string',
            n,
            async (i) => serialise(await raw(offsets[i % offsets.length]!)),
            5,
          ),
        'what any server must do',
      ),
    );
  }
  return out;
}

const REVERSE = `query($p: GeoJSON!) { reverseGeocode(point: $p, places: 5) {
  divisions { code name level } places { id name type distanceMetres } } }`;

async function benchReverseGeocode(ctx: BenchContext): Promise<Comparison[]> {
  const { db, gateway, post } = ctx;
  const points = await db.query<{ x: number; y: number }>(
    `SELECT ST_X(residence_point) AS x, ST_Y(residence_point) AS y FROM persons TABLESAMPLE SYSTEM (5)
      WHERE residence_point IS NOT NULL LIMIT 500`,
  );
  const raw = async (p: { x: number; y: number }) => {
    const divisions = await db.query<{ code: string }>(
      `SELECT code, name, level FROM divisions
        WHERE valid_to IS NULL AND boundary IS NOT NULL
          AND boundary && ST_SetSRID(ST_Point($1, $2), 4490) AND ST_Contains(boundary, ST_SetSRID(ST_Point($1, $2), 4490))
        ORDER BY length(code), code`,
      [p.x, p.y],
    );
    const places = await db.query(
      `SELECT id, name, type, ST_Distance(ST_SetSRID(point, 4326)::geography, ST_SetSRID(ST_Point($1, $2), 4326)::geography) AS d
         FROM place_names ORDER BY point <-> ST_SetSRID(ST_Point($1, $2), 4490) LIMIT 5`,
      [p.x, p.y],
    );
    return { divisions, places };
  };
  const n = Math.min(points.length, ctx.quick ? 100 : 400);
  const point = (i: number) => {
    const p = points[i % points.length]!;
    return { type: 'Point', coordinates: [p.x, p.y] };
  };
  return [
    await compare(
      'spatial',
      3,
      () =>
        timeEach('reverseGeocode(point, places: 5) via gateway', n, (i) =>
          post(gateway, REVERSE, { p: point(i) }, MPS),
        ),
      () =>
        timeEach('ST_Contains on divisions + KNN on place names, raw SQL', n, (i) =>
          raw(points[i % points.length]!),
        ),
    ),
  ];
}

const AGGREGATE = `query($a: GeoJSON!, $by: SpatialGrouping!, $level: DivisionLevel, $cell: Float, $r: Int) {
  spatialAggregate(subject: PERSONS, area: $a, by: $by, level: $level, cellMetres: $cell, resolution: $r) {
    total cells { key count } } }`;

interface AggregateResult {
  data: { spatialAggregate: { total: number; cells: { key: string; count: number }[] } };
}

async function benchAggregation(ctx: BenchContext): Promise<Comparison[]> {
  const { db, gateway, post } = ctx;
  const out: Comparison[] = [];
  const alive = `p.status = 'alive' AND p.residence_point IS NOT NULL AND p.residence_point && a.g AND ST_Intersects(a.g, p.residence_point)`;
  const area = `WITH a AS (SELECT ${CHINA_SQL} AS g)`;
  const cellMetres = 20_000;
  const resolution = 5;
  const [{ latitude, total: inArea } = { latitude: 36, total: 0 }] = await db.query<{
    latitude: number;
    total: number;
  }>(
    `${area} SELECT ST_Y(ST_Centroid(a.g)) AS latitude, (SELECT count(*)::int FROM persons p WHERE ${alive}) AS total FROM a`,
  );
  // The resolver's own grid: cells of cellMetres in latitude, and in longitude at the area's centre latitude.
  const grid = (metres: number) => `s AS (SELECT ${metres}::float8 / 111320.0 AS dy,
      ${metres}::float8 / (111320.0 * cos(radians(ST_Y(ST_Centroid(g))))) AS dx FROM a)`;
  const h3Side = Math.sqrt(getHexagonAreaAvg(resolution, UNITS.m2));
  const raws = {
    division: `${area} SELECT d.code AS key, count(*)::int AS count FROM persons p, a
                 JOIN divisions d ON d.level = 'province' AND d.valid_to IS NULL AND d.boundary IS NOT NULL
                WHERE ${alive} AND d.boundary && p.residence_point AND ST_Intersects(d.boundary, p.residence_point)
                GROUP BY 1 ORDER BY 1`,
    grid: `${area}, ${grid(cellMetres)}
           SELECT floor(ST_X(p.residence_point) / s.dx)::int || ',' || floor(ST_Y(p.residence_point) / s.dy)::int AS key,
                  count(*)::int AS count FROM persons p, a, s WHERE ${alive} GROUP BY 1`,
    // H3 has no SQL form here: its raw baseline is the GROUP BY of a square grid of the same mean cell area.
    h3: `${area}, ${grid(h3Side)}
         SELECT floor(ST_X(p.residence_point) / s.dx)::int || ',' || floor(ST_Y(p.residence_point) / s.dy)::int AS key,
                count(*)::int AS count FROM persons p, a, s WHERE ${alive} GROUP BY 1`,
  };
  const variables = {
    division: { a: CHINA, by: 'DIVISION_LEVEL', level: 'PROVINCE' },
    grid: { a: CHINA, by: 'SQUARE_GRID', cell: cellMetres },
    h3: { a: CHINA, by: 'H3', r: resolution },
  };
  const runs = ctx.quick ? 1 : 2;
  const rounds = 2;
  for (const by of ['division', 'grid', 'h3'] as const) {
    const answer = (await post(gateway, AGGREGATE, variables[by], MPS)) as AggregateResult;
    const found = await db.query<{ key: string; count: number }>(raws[by]);
    const { total, cells } = answer.data.spatialAggregate;
    if (by !== 'h3') {
      const expected = new Map(found.map((f) => [f.key, f.count]));
      const same = cells.length === found.length && cells.every((c) => expected.get(c.key) === c.count);
      if (!same) throw new Error(`bench: spatialAggregate by ${by} differs from the raw GROUP BY`);
    } else if (cells.reduce((sum, c) => sum + c.count, 0) !== total) {
      throw new Error('bench: spatialAggregate by H3 does not add up to its total');
    }
    if (total !== inArea) throw new Error(`bench: spatialAggregate by ${by}: total ${total}, SQL ${inArea}`);
    console.log(`spatial: aggregate by ${by}: ${total.toLocaleString()} persons in ${cells.length} cells`);
    out.push(
      await compare(
        'spatial',
        rounds,
        () =>
          timeEach(
            `spatialAggregate by ${by === 'division' ? 'province' : by === 'grid' ? `${cellMetres / 1000} km grid` : `H3 res ${resolution}`} (${total.toLocaleString()} persons)`,
            runs,
            () => post(gateway, AGGREGATE, variables[by], MPS),
            0,
          ),
        () =>
          timeEach(
            by === 'h3' ? 'raw GROUP BY, square grid of the same cell area' : 'same GROUP BY, raw SQL',
            runs,
            () => db.query(raws[by]),
            0,
          ),
      ),
    );
  }

  // H3: boxes grouped in SQL (now) against every point streamed to h3-js (before), and what the boxes save.
  const points = sql.raw(`${area}, p AS (SELECT p.residence_point AS pt FROM persons p, a WHERE ${alive})`);
  const boxed = await h3Aggregate(db, points, { resolution, latitude });
  const { dx: bx, dy: by } = boxDegrees(resolution, latitude);
  const streamed = async () => {
    const counts = new Map<string, number>();
    const all = await rows<{ x: number; y: number }>(
      db,
      sql`${points} SELECT ST_X(pt) AS x, ST_Y(pt) AS y FROM p`,
    );
    for (const p of all) {
      const h = latLngToCell(p.y, p.x, resolution);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    return counts;
  };
  const reference = await streamed();
  const same =
    reference.size === boxed.counts.size && [...reference].every(([k, v]) => boxed.counts.get(k) === v);
  if (!same) throw new Error('bench: H3 by boxes differs from H3 point by point');
  const s = boxed.stats;
  const note = `${s.boxes.toLocaleString()} boxes (${bx.toFixed(4)}°×${by.toFixed(4)}°): ${s.oneLocation.toLocaleString()} one location, ${s.provenInside.toLocaleString()} proven inside, ${s.straddling.toLocaleString()} straddling → ${s.locations.toLocaleString()} locations`;
  console.log(`spatial: H3 res ${resolution}: ${note}`);
  out.push(
    await compare(
      'spatial',
      rounds,
      () =>
        timeBulkEach(`H3 res ${resolution}: boxes in SQL, placed in TS`, runs, () =>
          h3Aggregate(db, points, { resolution, latitude }),
        ),
      () => timeBulkEach(`H3 res ${resolution}: every point streamed to h3-js`, runs, streamed),
      note,
    ),
  );
  return out;
}

/** `runs` sequential calls, no warm-up (the checks before warmed the caches). */
function timeBulkEach(name: string, runs: number, op: () => Promise<unknown>): Promise<Measurement> {
  return timeEach(name, runs, op, 0);
}

/** The spatial suite; `config` is the benchmark gateway's configuration. */
export async function benchSpatial(ctx: BenchContext, config: Config): Promise<Comparison[]> {
  const { db } = ctx;
  const t0 = performance.now();
  const manifest = await generateLayers(db, { seed: 1, perLayer: ctx.quick ? 1000 : 5000 });
  console.log(
    `spatial: layers generated in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${Object.values(
      manifest.features,
    )
      .reduce((a, b) => a + b, 0)
      .toLocaleString()} features, ${manifest.placeNames.toLocaleString()} place names`,
  );
  await db.exec('ANALYZE features; ANALYZE place_names; ANALYZE divisions; ANALYZE persons');
  const cached = createGateway({ db, config, routes: [ogcRoute(), tilesRoute()] });
  const uncached = createGateway({ db, config, routes: [tilesRoute({ cache: { maxEntries: 0 } })] });
  // The cached tile path with no principal lookup, access decisions or audit: what those cost.
  const open = createGateway({
    db,
    config,
    audit: false,
    fixedPrincipal: allowAllPrincipal(),
    routes: [tilesRoute()],
  });
  const out: Comparison[] = [];
  out.push(...(await benchTiles(ctx, config, cached, uncached, open)));
  out.push(...(await benchItems(ctx, config, cached)));
  out.push(...(await benchReverseGeocode(ctx)));
  out.push(...(await benchAggregation(ctx)));
  return out;
}
