import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import {
  cellToBoundary,
  cellToLatLng,
  getHexagonEdgeLengthAvg,
  getIcosahedronFaces,
  isPentagon,
  latLngToCell,
  UNITS,
} from 'h3-js';
import type { Database, Queryable } from '../../db/index.ts';

/**
 * H3 counts of points without an H3 extension (PGlite cannot load h3-pg), exact per point: every point
 * is counted in `latLngToCell(lat, lon, resolution)` of h3-js, as if each were sent to TypeScript, but
 * TypeScript only sees one row per occupied box and the points of the few boxes that straddle a cell edge.
 *
 * 1. SQL groups the points into small boxes (side ≈ 1/16 of the resolution's hexagon edge) and returns,
 *    per box, the count and the bounding rectangle of its points — set-based, streamed by a cursor.
 * 2. A box whose points share one location is counted in that location's cell (exact by definition).
 *    Otherwise the rectangle is counted in one cell only when it provably lies inside it: the spherical
 *    cap around its centre that holds the rectangle stays more than MARGIN_RAD (≈ 6 mm) inside every edge
 *    great circle of the centre's cell. An H3 hexagon that lies on one icosahedron face is the gnomonic
 *    image of a plane hexagon, so its edges are great-circle arcs and it is the intersection of six
 *    hemispheres; pentagons and cells that span two faces are never tested, their boxes go to step 3.
 * 3. The boxes that failed are fetched again as distinct locations with their counts (one SQL pass with
 *    the boxes as an array join) and each location is placed by `latLngToCell`.
 * Memory holds one cursor chunk, the list of failed boxes and the result; test/spatial-aggregate.test.ts
 * checks the cap test against `latLngToCell` on sampled points and the counts against per-point H3.
 */

const DEG = Math.PI / 180;
/** Margin kept from every cell edge, in radians on the unit sphere (≈ 6 mm), far above rounding (~1e-15). */
export const MARGIN_RAD = 1e-9;
/** Box side as a fraction of the resolution's average hexagon edge. */
export const BOX_FRACTION = 1 / 16;
/** Rows per FETCH. */
const CHUNK = 20_000;
const METRES_PER_DEGREE = 111_320;

type Vec = [number, number, number];

function unit(lat: number, lng: number): Vec {
  const phi = lat * DEG;
  const lambda = lng * DEG;
  const c = Math.cos(phi);
  return [c * Math.cos(lambda), c * Math.sin(lambda), Math.sin(phi)];
}

const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Angle between two unit vectors, accurate for small angles (chord form). */
function angle(a: Vec, b: Vec): number {
  const chord = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  return 2 * Math.asin(Math.min(1, chord / 2));
}

/**
 * Unit normals of a cell's six edge great circles, pointing inside; null for a pentagon or a cell on more
 * than one icosahedron face (its region is not one gnomonic hexagon, so no box is placed in it whole).
 */
function edgeNormals(cell: string): Float64Array | null {
  if (isPentagon(cell) || getIcosahedronFaces(cell).length !== 1) return null;
  const ring = cellToBoundary(cell);
  if (ring.length !== 6) return null;
  const [clat, clng] = cellToLatLng(cell);
  const centre = unit(clat, clng);
  const v = ring.map(([lat, lng]) => unit(lat, lng));
  const normals = new Float64Array(18);
  for (let i = 0; i < 6; i++) {
    const a = v[i]!;
    const b = v[(i + 1) % 6]!;
    const n: Vec = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    const length = Math.hypot(n[0], n[1], n[2]);
    if (!(length > 0)) return null;
    const sign = dot(n, centre) < 0 ? -1 : 1;
    normals.set([(sign * n[0]) / length, (sign * n[1]) / length, (sign * n[2]) / length], i * 3);
  }
  return normals;
}

export interface H3Stats {
  /** Box rows read from SQL. */
  boxes: number;
  /** Boxes whose points share one location (placed by latLngToCell of it). */
  oneLocation: number;
  /** Boxes of several locations proven inside one cell. */
  provenInside: number;
  /** Boxes left for step 3. */
  straddling: number;
  /** Distinct locations read from SQL for the straddling boxes. */
  locations: number;
}

/** Counts per H3 cell at one resolution, fed with boxes of points and single locations. */
export class H3Counts {
  readonly counts = new Map<string, number>();
  readonly stats: H3Stats = { boxes: 0, oneLocation: 0, provenInside: 0, straddling: 0, locations: 0 };
  private readonly normals = new Map<string, Float64Array | null>();

  constructor(readonly resolution: number) {}

  private add(cell: string, n: number): void {
    this.counts.set(cell, (this.counts.get(cell) ?? 0) + n);
  }

  /** n points at one location. */
  addLocation(lng: number, lat: number, n: number): void {
    this.add(latLngToCell(lat, lng, this.resolution), n);
  }

  /**
   * The cell holding every point of the rectangle [x0, x1] × [y0, y1] (degrees), or null when that is not
   * proven. The farthest point of a lon/lat rectangle (under 90° wide) from its centre is a corner.
   */
  cellOfBox(x0: number, y0: number, x1: number, y1: number): string | null {
    const lat = (y0 + y1) / 2;
    const lng = (x0 + x1) / 2;
    const cell = latLngToCell(lat, lng, this.resolution);
    let normals = this.normals.get(cell);
    if (normals === undefined) {
      normals = edgeNormals(cell);
      this.normals.set(cell, normals);
    }
    if (normals === null) return null;
    const c = unit(lat, lng);
    const radius = Math.max(
      angle(c, unit(y0, x0)),
      angle(c, unit(y0, x1)),
      angle(c, unit(y1, x0)),
      angle(c, unit(y1, x1)),
    );
    if (radius > 0.1) return null;
    const needed = Math.sin(radius + MARGIN_RAD);
    for (let i = 0; i < 18; i += 3) {
      if (c[0] * normals[i]! + c[1] * normals[i + 1]! + c[2] * normals[i + 2]! <= needed) return null;
    }
    return cell;
  }

  /** n points inside [x0, x1] × [y0, y1]: counted and true when they provably share one cell, else false. */
  addBox(x0: number, y0: number, x1: number, y1: number, n: number): boolean {
    this.stats.boxes++;
    if (x0 === x1 && y0 === y1) {
      this.stats.oneLocation++;
      this.addLocation(x0, y0, n);
      return true;
    }
    const cell = this.cellOfBox(x0, y0, x1, y1);
    if (cell === null) {
      this.stats.straddling++;
      return false;
    }
    this.stats.provenInside++;
    this.add(cell, n);
    return true;
  }
}

/** Box side in degrees of latitude and of longitude at `latitude`, for a resolution. */
export function boxDegrees(resolution: number, latitude: number): { dx: number; dy: number } {
  const side = getHexagonEdgeLengthAvg(resolution, UNITS.m) * BOX_FRACTION;
  const dy = side / METRES_PER_DEGREE;
  return { dy, dx: dy / Math.max(0.05, Math.cos(latitude * DEG)) };
}

const dialect = new PgDialect();

/** Runs `query` through a cursor, handing its rows to `each` CHUNK at a time (bounded memory). */
async function forEachChunk<T>(
  db: Database,
  query: SQL,
  each: (rows: T[]) => void | Promise<void>,
): Promise<void> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  await db.transaction(async (tx: Queryable) => {
    await tx.query(`DECLARE h3_rows NO SCROLL CURSOR FOR ${text}`, params);
    for (;;) {
      const chunk = await tx.query<T>(`FETCH ${CHUNK} FROM h3_rows`);
      if (chunk.length === 0) break;
      await each(chunk);
      if (chunk.length < CHUNK) break;
    }
    await tx.query('CLOSE h3_rows');
  });
}

export interface H3AggregateOptions {
  resolution: number;
  /** Latitude whose longitude degrees size the boxes (the area's centre); only efficiency depends on it. */
  latitude: number;
  /** Called after each chunk with the number of cells so far: throw to stop (a cell cap). */
  onCells?: (cells: number) => void;
}

/**
 * Points per H3 cell. `points` is a `WITH …` prefix that defines a relation `p` with a point column `pt`
 * (SRID 4490, longitude/latitude); it is used twice, so it must be deterministic.
 */
export async function h3Aggregate(db: Database, points: SQL, options: H3AggregateOptions): Promise<H3Counts> {
  const counts = new H3Counts(options.resolution);
  const { dx, dy } = boxDegrees(options.resolution, options.latitude);
  const i = sql`floor(ST_X(p.pt) / ${dx}::float8)::bigint`;
  const j = sql`floor(ST_Y(p.pt) / ${dy}::float8)::bigint`;
  const straddling: { i: number[]; j: number[] } = { i: [], j: [] };
  await forEachChunk<{ i: number; j: number; n: number; x0: number; y0: number; x1: number; y1: number }>(
    db,
    sql`${points}
        SELECT ${i} AS i, ${j} AS j, count(*)::int AS n, min(ST_X(p.pt)) AS x0, min(ST_Y(p.pt)) AS y0,
               max(ST_X(p.pt)) AS x1, max(ST_Y(p.pt)) AS y1
          FROM p GROUP BY 1, 2`,
    (rows) => {
      for (const r of rows) {
        if (!counts.addBox(r.x0, r.y0, r.x1, r.y1, r.n)) {
          straddling.i.push(r.i);
          straddling.j.push(r.j);
        }
      }
      options.onCells?.(counts.counts.size);
    },
  );
  if (straddling.i.length > 0) {
    await forEachChunk<{ x: number; y: number; n: number }>(
      db,
      sql`${points}, b AS (SELECT * FROM unnest(${sql.param(straddling.i)}::bigint[], ${sql.param(straddling.j)}::bigint[]) AS b(i, j))
          SELECT ST_X(p.pt) AS x, ST_Y(p.pt) AS y, count(*)::int AS n
            FROM p JOIN b ON b.i = ${i} AND b.j = ${j}
           GROUP BY 1, 2`,
      (rows) => {
        counts.stats.locations += rows.length;
        for (const r of rows) counts.addLocation(r.x, r.y, r.n);
        options.onCells?.(counts.counts.size);
      },
    );
  }
  return counts;
}
