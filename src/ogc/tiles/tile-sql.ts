import { STORAGE_SRID } from '../../db/index.ts';
import { type CollectionAccess, rowScopeSql } from '../access.ts';
import type { Collection } from '../collections.ts';
import { defaultOrderSql } from '../items.ts';
import { and, ident, SqlBuilder, type SqlStatement } from '../sql.ts';

/**
 * The SQL of one vector tile (WebMercatorQuad z/x/y), for both encoders:
 *  - 'postgis': ST_AsMVT over ST_AsMVTGeom — the database encodes (PostgreSQL with PostGIS + protobuf);
 *  - 'typescript': the database selects, clips (ST_ClipByBox2D), simplifies, projects to tile pixels
 *    (ST_Affine), snaps (ST_SnapToGrid) and repairs; it returns GeoJSON in tile coordinates that vt-pbf
 *    encodes (PGlite's PostGIS has no protobuf). Uses only PostGIS ≤ 3.3 functions.
 * Both select the same features: those whose geometry (as the caller may see it) intersects the tile,
 * within the row scope, in the collection's order, at most the feature cap.
 */

export const TILE_EXTENT = 4096;
export const TILE_BUFFER = 64;
export const MAX_ZOOM = 24;
const DEFAULT_CELL = 256;
const DEFAULT_CAP = 5000;

export type Encoder = 'postgis' | 'typescript';

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** Simplification tolerance for zoom z, in tile units. */
export function toleranceAt(collection: Collection, z: number): number {
  const tiles = collection.tiles;
  if (!tiles) return 0;
  if (tiles.simplify) return tiles.simplify(z);
  return z >= tiles.maxZoom ? 0 : 1;
}

export function clusteredAt(collection: Collection, z: number): boolean {
  const cluster = collection.tiles ? collection.tiles.cluster : undefined;
  return !!cluster && z < cluster.belowZoom;
}

/** Longitude and latitude of a tile-grid position (fractions allowed) on WebMercatorQuad at zoom z. */
function gridToLonLat(z: number, gx: number, gy: number): [number, number] {
  const n = 2 ** z;
  const lon = Math.min(180, Math.max(-180, (gx / n) * 360 - 180));
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * gy) / n))) * 180) / Math.PI;
  return [lon, lat];
}

/**
 * `__b`: the tile envelope in 3857 (`__env`); the tile (`__q`, for the index) and the clip box with the
 * buffer (`__clip`) in the storage CRS; the affine terms to tile units (`__x0`, `__y1`, `__s`). The storage-CRS
 * boxes are computed here, not by ST_Transform, which wraps a buffered world-edge tile across ±180°.
 */
function tileCte(sql: SqlBuilder, t: TileAddress): string {
  const margin = (TILE_BUFFER * 1.25) / TILE_EXTENT;
  const box = (m: number) => {
    const [w, n] = gridToLonLat(t.z, t.x - m, t.y - m);
    const [e, s] = gridToLonLat(t.z, t.x + 1 + m, t.y + 1 + m);
    return `ST_MakeEnvelope(${[w, s, e, n].map((v) => sql.param(v, 'float8')).join(', ')}, ${STORAGE_SRID})`;
  };
  const env = `ST_TileEnvelope(${sql.param(t.z, 'int')}, ${sql.param(t.x, 'int')}, ${sql.param(t.y, 'int')})`;
  return `__b AS (
    SELECT __env, ${box(0)} AS __q, ${box(margin)}::box2d AS __clip,
           ST_XMin(__env) AS __x0, ST_YMax(__env) AS __y1, ${TILE_EXTENT}.0 / (ST_XMax(__env) - ST_XMin(__env)) AS __s
      FROM (SELECT ${env} AS __env) __t)`;
}

/** The geometry in 3857, clipped (buffer included) and simplified for zoom z. */
function mercatorGeometry(view: CollectionAccess, z: number, sql: SqlBuilder): string {
  const g = view.geometrySql!;
  const type = view.collection.geometry.type;
  if (type === 'Point' || type === 'MultiPoint') return `ST_Transform(${g}, 3857)`;
  const clipped = `ST_Transform(ST_ClipByBox2D(${g}, __clip), 3857)`;
  const tolerance = toleranceAt(view.collection, z);
  return tolerance > 0 ? `ST_Simplify(${clipped}, ${sql.param(tolerance, 'float8')} / __s, true)` : clipped;
}

/** Tile units: 3857 → pixels of a 4096 grid (y down), snapped to whole units, repaired, typed. */
function tileUnits(geometry: string, type: Collection['geometry']['type']): string {
  const snapped = `ST_SnapToGrid(ST_Affine(${geometry}, __s, 0, 0, -__s, -__x0 * __s, __y1 * __s), 1)`;
  switch (type) {
    case 'Point':
    case 'MultiPoint':
      return snapped;
    case 'LineString':
    case 'MultiLineString':
      return `ST_CollectionExtract(ST_MakeValid(${snapped}), 2)`;
    default:
      // Ring orientation and rings collapsed by rounding are settled in TypeScript (encode.ts: mvtRings).
      return `ST_CollectionExtract(ST_MakeValid(${snapped}), 3)`;
  }
}

function featureFrom(view: CollectionAccess, sql: SqlBuilder): string {
  const g = view.geometrySql!;
  return `FROM ${view.collection.source} AS src, __b
    WHERE ${and([`${g} && __q`, `ST_Intersects(${g}, __q)`, rowScopeSql(view.collection, view.ctx, sql)])}`;
}

function capOf(collection: Collection): number {
  return (collection.tiles ? collection.tiles.featureCap : undefined) ?? DEFAULT_CAP;
}

function tileIdSql(collection: Collection): string | null {
  return collection.tileIdColumn ?? (collection.idType === 'integer' ? collection.idColumn : null);
}

/** Properties carried by tiles: those served, with their SQL. */
function propertyColumns(view: CollectionAccess, served: readonly string[]): string[] {
  return served.map((name) => `${view.collection.properties[name]!.column} AS ${ident(name)}`);
}

/** The tile's feature SQL for one encoder. Returns text whose rows are one tile (postgis) or its features. */
export function tileSql(
  view: CollectionAccess,
  t: TileAddress,
  encoder: Encoder,
  served: readonly string[],
): SqlStatement {
  if (view.geometrySql === null)
    throw new Error(`collection '${view.collection.id}': geometry denied, no tile`);
  const sql = new SqlBuilder();
  const cte = tileCte(sql, t);
  const collection = view.collection;
  if (clusteredAt(collection, t.z)) return clusterSql(view, encoder, sql, cte);
  const idSql = tileIdSql(collection);
  const columns = [...(idSql ? [`(${idSql}) AS "__id"`] : []), ...propertyColumns(view, served)];
  const from = featureFrom(view, sql);
  const order = defaultOrderSql(collection);
  const cap = sql.param(capOf(collection), 'int');
  if (encoder === 'postgis') {
    const layer = sql.param(collection.id, 'text');
    const geometry = mercatorGeometry(view, t.z, sql);
    return sql.statement(`WITH ${cte}
      SELECT ST_AsMVT(__f, ${layer}, ${TILE_EXTENT}, '__geom'${idSql ? `, '__id'` : ''}) AS tile, count(*)::int AS n
        FROM (SELECT ${[...columns, `ST_AsMVTGeom(${geometry}, __env, ${TILE_EXTENT}, ${TILE_BUFFER}, true) AS __geom`].join(', ')}
                ${from} ORDER BY ${order} LIMIT ${cap}) __f
       WHERE __geom IS NOT NULL`);
  }
  const type = collection.geometry.type;
  const geometry = tileUnits(mercatorGeometry(view, t.z, sql), type);
  // Like ST_AsMVTGeom, drop what collapses at this resolution: polygons under one square unit (a snapped
  // ring's area is a multiple of ½), lines of no length.
  const visible = type.endsWith('Polygon')
    ? 'ST_Area(__g) >= 1'
    : type.endsWith('LineString')
      ? 'ST_Length(__g) > 0'
      : 'TRUE';
  return sql.statement(`WITH ${cte}
    SELECT ${[...(idSql ? ['"__id"'] : []), ...served.map(ident)].join(', ')}${served.length || idSql ? ', ' : ''}ST_AsGeoJSON(__g, 0, 0) AS "__geometry"
      FROM (SELECT ${[...columns, `${geometry} AS __g`].join(', ')} ${from} ORDER BY ${order} LIMIT ${cap}) __f
     WHERE __g IS NOT NULL AND NOT ST_IsEmpty(__g) AND ${visible}`);
}

/** Low zooms of point layers: one feature per grid cell, with the number of points and their centroid. */
function clusterSql(view: CollectionAccess, encoder: Encoder, sql: SqlBuilder, cte: string): SqlStatement {
  const collection = view.collection;
  const cell = (collection.tiles ? collection.tiles.cluster?.cellUnits : undefined) ?? DEFAULT_CELL;
  const perRow = Math.ceil(TILE_EXTENT / cell);
  const cellParam = sql.param(cell, 'float8');
  const last = sql.param(perRow - 1, 'int');
  const from = featureFrom(view, sql);
  const points = `__p AS (SELECT ST_Transform(${view.geometrySql}, 3857) AS __pt ${from}),
    __c AS (SELECT LEAST(floor((ST_X(__pt) - __x0) * __s / ${cellParam})::int, ${last}) AS __cx,
                   LEAST(floor((__y1 - ST_Y(__pt)) * __s / ${cellParam})::int, ${last}) AS __cy,
                   count(*)::int AS count, ST_Centroid(ST_Collect(__pt)) AS __center
              FROM __p, __b GROUP BY 1, 2)`;
  const id = `(__cy * ${perRow} + __cx)`;
  if (encoder === 'postgis') {
    const layer = sql.param(collection.id, 'text');
    return sql.statement(`WITH ${cte}, ${points}
      SELECT ST_AsMVT(__f, ${layer}, ${TILE_EXTENT}, '__geom', '__id') AS tile, count(*)::int AS n
        FROM (SELECT ${id} AS "__id", count, ST_AsMVTGeom(__center, __env, ${TILE_EXTENT}, ${TILE_BUFFER}, true) AS __geom
                FROM __c, __b) __f
       WHERE __geom IS NOT NULL`);
  }
  return sql.statement(`WITH ${cte}, ${points}
    SELECT ${id} AS "__id", count, ST_AsGeoJSON(${tileUnits('__center', 'Point')}, 0, 0) AS "__geometry"
      FROM __c, __b ORDER BY 1`);
}
