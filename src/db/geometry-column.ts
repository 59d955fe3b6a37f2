import { sql } from 'drizzle-orm';
import { customType } from 'drizzle-orm/pg-core';
import { type Geometry, geometryFromWkbHex } from './geojson.ts';

/**
 * The storage datum: CGCS2000 geographic (EPSG:4490), the national geodetic datum. CGCS2000 and WGS 84
 * agree to a few centimetres, far below our data's accuracy, so CRS84 output is the same coordinates
 * relabelled; see docs in README ("Coordinates").
 */
export const STORAGE_SRID = 4490;

export type GeometryKind =
  | 'Point'
  | 'MultiPoint'
  | 'LineString'
  | 'MultiLineString'
  | 'Polygon'
  | 'MultiPolygon'
  | 'Geometry';

/**
 * A PostGIS geometry column with GeoJSON in and out. Drizzle's built-in PostGIS column covers points
 * only; this one covers every type. Writes go through ST_GeomFromGeoJSON so PostGIS parses them.
 */
export const geometry = (name: string, kind: GeometryKind, srid: number = STORAGE_SRID) =>
  customType<{ data: Geometry; driverData: string }>({
    dataType: () => `geometry(${kind},${srid})`,
    toDriver: (value) => sql`ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(value)}), ${srid})`,
    fromDriver: (value) => geometryFromWkbHex(value),
  })(name);
