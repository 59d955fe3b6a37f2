import { type SQL, sql } from 'drizzle-orm';
import type { Geometry, Position } from '../../db/index.ts';
import { rows } from '../../db/index.ts';
import { GovError } from '../../errors.ts';
import type { GatewayContext } from '../../gateway/context.ts';

/** Most vertices an input geometry may have; more is an INVALID_GEOMETRY error, not a slow query. */
export const MAX_INPUT_VERTICES = 10_000;

export function invalidGeometry(argument: string, reason: string): GovError {
  return new GovError('INVALID_GEOMETRY', `Argument '${argument}' is not a valid geometry: ${reason}`, {
    argument,
    reason,
  });
}

/** Counts vertices and checks every position is a finite longitude/latitude pair. */
function vertices(geometry: Geometry, argument: string): number {
  const check = (p: Position): number => {
    const [x, y] = p;
    if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x) > 180 || Math.abs(y) > 90) {
      throw invalidGeometry(argument, `position ${JSON.stringify(p)} is not a longitude/latitude pair`);
    }
    return 1;
  };
  const sum = (items: number[]) => items.reduce((a, b) => a + b, 0);
  switch (geometry.type) {
    case 'Point':
      return check(geometry.coordinates);
    case 'MultiPoint':
    case 'LineString':
      return sum(geometry.coordinates.map(check));
    case 'MultiLineString':
    case 'Polygon':
      return sum(geometry.coordinates.map((ring) => sum(ring.map(check))));
    case 'MultiPolygon':
      return sum(geometry.coordinates.map((poly) => sum(poly.map((ring) => sum(ring.map(check))))));
    case 'GeometryCollection':
      return sum(geometry.geometries.map((g) => vertices(g, argument)));
  }
}

/** The SQL for a GeoJSON value in the storage SRID (4490). Only after `requireGeometry` validated it. */
export function geometrySql(geometry: Geometry): SQL {
  return sql`ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(geometry)}::text), 4490)`;
}

/**
 * Validates an input geometry: shape and size in TypeScript (≤ MAX_INPUT_VERTICES), validity in PostGIS
 * (`ST_IsValidReason`). Throws INVALID_GEOMETRY naming the argument and the reason; returns its SQL.
 */
export async function requireGeometry(
  ctx: GatewayContext,
  geometry: Geometry,
  argument: string,
  expect?: 'Point',
): Promise<SQL> {
  if (expect && geometry.type !== expect) throw invalidGeometry(argument, `must be a ${expect}`);
  const count = vertices(geometry, argument);
  if (count === 0) throw invalidGeometry(argument, 'has no coordinates');
  if (count > MAX_INPUT_VERTICES) {
    throw invalidGeometry(argument, `has ${count} vertices; at most ${MAX_INPUT_VERTICES} are accepted`);
  }
  const g = geometrySql(geometry);
  let reason: string | undefined;
  try {
    [{ reason } = { reason: undefined }] = await rows<{ reason: string }>(
      ctx.db,
      sql`SELECT ST_IsValidReason(${g}) AS reason`,
    );
  } catch (error) {
    throw invalidGeometry(argument, `PostGIS cannot parse it (${(error as Error).message})`);
  }
  if (reason !== 'Valid Geometry') throw invalidGeometry(argument, reason ?? 'unknown');
  return g;
}

/** A geometry as geography (CGCS2000 and WGS 84 agree to centimetres), for metres and square metres. */
export function geography(expression: SQL): SQL {
  return sql`ST_SetSRID(${expression}, 4326)::geography`;
}
