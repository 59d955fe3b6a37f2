/** RFC 7946 geometry types, and a reader for the (E)WKB that PostGIS sends for geometry columns. */

export type Position = [number, number] | [number, number, number];
export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] }
  | { type: 'GeometryCollection'; geometries: Geometry[] };

export const GEOMETRY_TYPES = [
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
  'GeometryCollection',
] as const;

const EWKB_Z = 0x80000000;
const EWKB_M = 0x40000000;
const EWKB_SRID = 0x20000000;

/** Decodes hex (E)WKB as PostGIS returns it for a geometry column. ISO Z/M type codes are accepted too. */
export function geometryFromWkbHex(hex: string): Geometry {
  const bytes = Buffer.from(hex, 'hex');
  let offset = 0;

  function read(): Geometry {
    const littleEndian = bytes.readUInt8(offset) === 1;
    offset += 1;
    const u32 = () => {
      const v = littleEndian ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset);
      offset += 4;
      return v;
    };
    const f64 = () => {
      const v = littleEndian ? bytes.readDoubleLE(offset) : bytes.readDoubleBE(offset);
      offset += 8;
      return v;
    };
    let typeWord = u32();
    let hasZ = (typeWord & EWKB_Z) !== 0;
    let hasM = (typeWord & EWKB_M) !== 0;
    if (typeWord & EWKB_SRID) u32();
    typeWord &= 0x0fffffff;
    // ISO WKB encodes dimensions as thousands: 1001 = Point Z, 2001 = Point M, 3001 = Point ZM.
    const iso = Math.floor(typeWord / 1000);
    if (iso === 1 || iso === 3) hasZ = true;
    if (iso === 2 || iso === 3) hasM = true;
    const base = typeWord % 1000;

    const point = (): Position => {
      const x = f64();
      const y = f64();
      const z = hasZ ? f64() : undefined;
      if (hasM) f64();
      return z === undefined ? [x, y] : [x, y, z];
    };
    const points = (): Position[] => Array.from({ length: u32() }, point);
    const rings = (): Position[][] => Array.from({ length: u32() }, points);

    switch (base) {
      case 1:
        return { type: 'Point', coordinates: point() };
      case 2:
        return { type: 'LineString', coordinates: points() };
      case 3:
        return { type: 'Polygon', coordinates: rings() };
      case 4:
        return { type: 'MultiPoint', coordinates: children('Point').map((g) => g.coordinates) };
      case 5:
        return { type: 'MultiLineString', coordinates: children('LineString').map((g) => g.coordinates) };
      case 6:
        return { type: 'MultiPolygon', coordinates: children('Polygon').map((g) => g.coordinates) };
      case 7:
        return { type: 'GeometryCollection', geometries: Array.from({ length: u32() }, read) };
      default:
        throw new Error(`unsupported WKB geometry type ${typeWord}`);
    }

    function children<T extends Geometry['type']>(type: T): Extract<Geometry, { type: T }>[] {
      return Array.from({ length: u32() }, () => {
        const g = read();
        if (g.type !== type) throw new Error(`WKB: expected ${type} inside a multi-geometry, got ${g.type}`);
        return g as Extract<Geometry, { type: T }>;
      });
    }
  }

  return read();
}
