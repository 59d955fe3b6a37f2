import { fromGeojsonVt, type VtFeature } from 'vt-pbf';
import type { Database } from '../../db/index.ts';
import { applyHook, type CollectionAccess, maskProperties } from '../access.ts';
import type { FeatureRecord } from '../collections.ts';
import { clusteredAt, type Encoder, TILE_EXTENT, type TileAddress, tileSql } from './tile-sql.ts';

/** One encoded tile: its bytes, how many features it holds, and the properties it carries. */
export interface EncodedTile {
  bytes: Uint8Array;
  features: number;
  served: string[];
}

type Position = [number, number];
type TileGeometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };

function signedArea(ring: Position[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++)
    sum += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1];
  return sum / 2;
}

/** Consecutive duplicates removed (rounding to whole tile units creates them). */
function dedupe(points: Position[]): Position[] {
  return points.filter((p, i) => i === 0 || p[0] !== points[i - 1]![0] || p[1] !== points[i - 1]![1]);
}

/**
 * A polygon's rings as MVT wants them: closed, no zero-area rings (ST_MakeValid may add fractional nodes
 * that rounding to whole units collapses), exterior with positive area in tile coordinates (y down, as
 * ST_AsMVTGeom writes it), holes negative. Null when the exterior collapsed.
 */
export function mvtRings(polygon: Position[][]): Position[][] | null {
  const rings: Position[][] = [];
  for (const [index, raw] of polygon.entries()) {
    const ring = dedupe(raw);
    if (
      ring.length > 1 &&
      (ring[0]![0] !== ring[ring.length - 1]![0] || ring[0]![1] !== ring[ring.length - 1]![1])
    ) {
      ring.push(ring[0]!);
    }
    const area = ring.length >= 4 ? signedArea(ring) : 0;
    if (area === 0) {
      if (index === 0) return null;
      continue;
    }
    const wanted = index === 0 ? area > 0 : area < 0;
    rings.push(wanted ? ring : ring.reverse());
  }
  return rings;
}

/** GeoJSON in tile units → the geojson-vt feature shape vt-pbf encodes. */
export function toVtGeometry(g: TileGeometry): Pick<VtFeature, 'type' | 'geometry'> | null {
  switch (g.type) {
    case 'Point':
      return { type: 1, geometry: [g.coordinates] };
    case 'MultiPoint':
      return g.coordinates.length ? { type: 1, geometry: g.coordinates } : null;
    case 'LineString':
    case 'MultiLineString': {
      const lines = (g.type === 'LineString' ? [g.coordinates] : g.coordinates)
        .map(dedupe)
        .filter((l) => l.length >= 2);
      return lines.length ? { type: 2, geometry: lines } : null;
    }
    case 'Polygon':
    case 'MultiPolygon': {
      const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      const rings = polygons.map(mvtRings).filter((r): r is Position[][] => r !== null);
      return rings.length ? { type: 3, geometry: rings.flat() } : null;
    }
    default:
      return null;
  }
}

function tileValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/**
 * Encodes one tile. 'postgis' needs nothing from TypeScript (masked properties and hooks are not possible
 * there, so the route picks 'typescript' for those views); 'typescript' masks, runs the hook and encodes.
 */
export async function encodeTile(
  db: Database,
  view: CollectionAccess,
  t: TileAddress,
  encoder: Encoder,
): Promise<EncodedTile> {
  const clustered = clusteredAt(view.collection, t.z);
  const served = clustered ? ['count'] : view.visible;
  const statement = tileSql(view, t, encoder, clustered ? [] : served);
  if (encoder === 'postgis') {
    // ST_AsMVT writes values as the database holds them: masked properties and hooks need the TypeScript
    // encoder (chooseEncoder picks it); refuse rather than leak clear values if forced.
    if (view.collection.hook || served.some((name) => view.decisions[name]?.kind === 'mask')) {
      throw new Error(`collection '${view.collection.id}': this view needs the typescript tile encoder`);
    }
    const [row] = await db.query<{ tile: Uint8Array | null; n: number }>(statement.text, statement.params);
    const tile = row?.tile;
    return {
      bytes: tile ? new Uint8Array(tile.buffer, tile.byteOffset, tile.byteLength) : new Uint8Array(0),
      features: row?.n ?? 0,
      served,
    };
  }
  const rows = await db.query<Record<string, unknown>>(statement.text, statement.params);
  const records: (FeatureRecord & { geometry: TileGeometry })[] = rows.map((row) => {
    const properties: Record<string, unknown> = {};
    for (const name of served) properties[name] = row[name] ?? null;
    return {
      id: (row.__id as number | undefined) ?? 0,
      properties,
      geometry: JSON.parse(row.__geometry as string),
    };
  });
  if (!clustered) {
    for (const r of records) maskProperties(view, r.properties);
    applyHook(view, records);
  }
  const features: VtFeature[] = [];
  for (const r of records) {
    const geometry = toVtGeometry(r.geometry);
    if (!geometry) continue;
    const tags: VtFeature['tags'] = {};
    for (const [k, v] of Object.entries(r.properties)) tags[k] = tileValue(v);
    features.push({
      ...(typeof r.id === 'number' && rows[0] && '__id' in rows[0] ? { id: r.id } : {}),
      ...geometry,
      tags,
    });
  }
  const bytes = features.length
    ? fromGeojsonVt({ [view.collection.id]: { features } }, { version: 2, extent: TILE_EXTENT })
    : new Uint8Array(0);
  return { bytes, features: features.length, served };
}
