import { errors } from '../errors.ts';
import { problems } from './problems.ts';

/**
 * Query parameters of OGC API – Features, parsed and checked once. Every error names its parameter
 * (`Argument 'bbox' …`) and is a 400.
 */

/** OGC API – Features Part 2: the CRSs offered for every collection. Storage is CGCS2000 (EPSG:4490). */
export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
export const EPSG_4490 = 'http://www.opengis.net/def/crs/EPSG/0/4490';
export const SUPPORTED_CRS = [CRS84, EPSG_4490] as const;
export type Crs = (typeof SUPPORTED_CRS)[number];

/** Largest page. Part 1 lets a server clamp or refuse a larger limit: we refuse (400), so nobody is surprised. */
export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 10;

const CRS_ALIASES: Record<string, Crs> = {
  [CRS84]: CRS84,
  'https://www.opengis.net/def/crs/OGC/1.3/CRS84': CRS84,
  'OGC:CRS84': CRS84,
  '[OGC:CRS84]': CRS84,
  CRS84: CRS84,
  [EPSG_4490]: EPSG_4490,
  'https://www.opengis.net/def/crs/EPSG/0/4490': EPSG_4490,
  'EPSG:4490': EPSG_4490,
  '[EPSG:4490]': EPSG_4490,
};

/** A CRS URI (or its safe CURIE, e.g. `EPSG:4490`); anything else is a 400 listing what is offered. */
export function parseCrs(value: string | null, parameter: string): Crs {
  if (value === null || value === '') return CRS84;
  const crs = CRS_ALIASES[value.trim()];
  if (!crs)
    throw problems.badParameter(
      parameter,
      `('${value}') is not offered; use one of ${SUPPORTED_CRS.join(', ')}`,
    );
  return crs;
}

/** EPSG:4490 is a geographic CRS with latitude first; CRS84 has longitude first. */
export function isLatLon(crs: Crs): boolean {
  return crs === EPSG_4490;
}

function integer(value: string | null, parameter: string, min: number): number | null {
  if (value === null) return null;
  if (!/^\d+$/.test(value.trim()))
    throw problems.badParameter(parameter, `must be an integer ≥ ${min}, got '${value}'`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw problems.badParameter(parameter, `must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

export function parseLimit(value: string | null): number {
  const n = integer(value, 'limit', 1);
  if (n === null) return DEFAULT_LIMIT;
  if (n > MAX_LIMIT) throw errors.pageSizeTooLarge('limit', n, MAX_LIMIT);
  return n;
}

export function parseOffset(value: string | null): number {
  return integer(value, 'offset', 0) ?? 0;
}

/** A bounding box in storage axis order (longitude, latitude); `west > east` crosses the antimeridian. */
export interface Bbox {
  west: number;
  south: number;
  east: number;
  north: number;
}

/** bbox=a,b,c,d (or six numbers with heights, which are ignored), read in the axis order of `crs`. */
export function parseBbox(value: string | null, crs: Crs, parameter = 'bbox'): Bbox | null {
  if (value === null) return null;
  const parts = value.split(',').map((p) => p.trim());
  if (
    (parts.length !== 4 && parts.length !== 6) ||
    parts.some((p) => !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(p))
  ) {
    throw problems.badParameter(parameter, `must be four (or six) comma-separated numbers, got '${value}'`);
  }
  const n = parts.map(Number);
  const [a, b, c, d] = parts.length === 6 ? [n[0]!, n[1]!, n[3]!, n[4]!] : [n[0]!, n[1]!, n[2]!, n[3]!];
  const [west, south, east, north] = isLatLon(crs) ? [b, a, d, c] : [a, b, c, d];
  const order = isLatLon(crs) ? 'minLat,minLon,maxLat,maxLon' : 'minLon,minLat,maxLon,maxLat';
  if (south < -90 || north > 90 || south > north) {
    throw problems.badParameter(
      parameter,
      `has latitudes out of order or range (expects ${order} in ${crs})`,
    );
  }
  if (west < -180 || west > 180 || east < -180 || east > 180) {
    throw problems.badParameter(parameter, `has longitudes outside −180…180 (expects ${order} in ${crs})`);
  }
  return { west, south, east, north };
}

export interface DatetimeInterval {
  /** Inclusive bounds as RFC 3339 text; null = open. */
  start: string | null;
  end: string | null;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/i;

function instant(value: string, parameter: string): string {
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw problems.badParameter(
      parameter,
      `must be an RFC 3339 date or date-time (or an interval a/b with '..'), got '${value}'`,
    );
  }
  return value;
}

/** datetime=instant | start/end, either end '..' or empty for open. */
export function parseDatetime(value: string | null): DatetimeInterval | null {
  if (value === null) return null;
  const parts = value.split('/');
  if (parts.length === 1) {
    const at = instant(parts[0]!, 'datetime');
    return { start: at, end: at };
  }
  if (parts.length !== 2)
    throw problems.badParameter('datetime', `must be an instant or an interval a/b, got '${value}'`);
  const open = (p: string) => p === '..' || p === '';
  const start = open(parts[0]!) ? null : instant(parts[0]!, 'datetime');
  const end = open(parts[1]!) ? null : instant(parts[1]!, 'datetime');
  if (start === null && end === null) return null;
  if (start && end && Date.parse(start) > Date.parse(end)) {
    throw problems.badParameter('datetime', `has its start after its end ('${value}')`);
  }
  return { start, end };
}

export interface SortKey {
  property: string;
  direction: 'asc' | 'desc';
}

/** sortby=+name,-code (a bare name ascends). Names must be in `allowed`. */
export function parseSortby(value: string, allowed: ReadonlySet<string>, parameter = 'sortby'): SortKey[] {
  const keys: SortKey[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const direction = item.startsWith('-') ? 'desc' : 'asc';
    const property = item.replace(/^[+-]/, '').trim();
    if (!allowed.has(property)) {
      throw problems.badParameter(
        parameter,
        `names '${property}', which is not a sortable property (sortable: ${[...allowed].join(', ')})`,
      );
    }
    keys.push({ property, direction });
  }
  if (keys.length === 0) throw problems.badParameter(parameter, 'names no property');
  return keys;
}

/** properties=a,b: names must be properties of the collection. */
export function parseProperties(value: string | null, allowed: ReadonlySet<string>): string[] | null {
  if (value === null) return null;
  const names = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!allowed.has(name)) {
      throw problems.badParameter(
        'properties',
        `names '${name}', which is not a property of this collection (properties: ${[...allowed].join(', ')})`,
      );
    }
  }
  return names;
}

/** Rejects parameters that the resource does not define (Part 1, /req/core/query-param-unknown). */
export function rejectUnknown(params: URLSearchParams, allowed: readonly string[]): void {
  for (const name of params.keys()) {
    if (!allowed.includes(name)) throw problems.unknownParameter(name, allowed);
  }
}

/** A parameter given once; repeated parameters are ambiguous, so they are an error. */
export function single(params: URLSearchParams, name: string): string | null {
  const values = params.getAll(name);
  if (values.length > 1) throw problems.badParameter(name, 'is given more than once');
  return values[0] ?? null;
}
