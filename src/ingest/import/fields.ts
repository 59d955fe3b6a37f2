import { parseDivisionCode, parseIdNumber, parseUscc } from '../../codes/index.ts';
import type { StagedValue } from './storage-row.ts';

/**
 * Per-row validation: each field of an import is parsed from what the file holds (CSV text, JSON values,
 * GeoJSON geometry) to the text COPY writes into the staging table, or refused with a reason. Parsers
 * are plain functions over one value, so the streaming stage stays fast; references to other registries
 * are checked afterwards, set-based in SQL.
 */

/** A refusal: the reason names what is wrong, never the value (reject files travel further than data). */
export class Invalid {
  constructor(readonly reason: string) {}
}

export type Parsed = StagedValue | Invalid;
export type Parser = (raw: unknown, env: ParseEnv) => Parsed;

/** What parsers may consult: today's date, the code lists, the declared CRS. */
export interface ParseEnv {
  /** 'YYYY-MM-DD', fixed for the whole run. */
  today: string;
  /** Code list id → codes (GB/T 3304 ethnicity, GB/T 2261.2 marital status, …). */
  codeLists: ReadonlyMap<string, ReadonlySet<string>>;
  /** EPSG code of coordinates that carry no CRS of their own (4490 or 4326). */
  srid: number;
}

export const invalid = (reason: string) => new Invalid(reason);

/** Empty text (after trimming) and JSON null are "no value". */
export function textOf(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string') {
    const t = raw.trim();
    return t === '' ? null : t;
  }
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return null;
}

function nonText(raw: unknown): boolean {
  return raw !== null && raw !== undefined && typeof raw === 'object';
}

export function text(maxLength = 500): Parser {
  return (raw) => {
    if (nonText(raw)) return invalid('must be text');
    const t = textOf(raw);
    if (t !== null && t.length > maxLength) return invalid(`is longer than ${maxLength} characters`);
    return t;
  };
}

export function oneOf(values: readonly string[]): Parser {
  const allowed = new Set(values);
  return (raw) => {
    const t = textOf(raw);
    if (t === null) return null;
    return allowed.has(t) ? t : invalid(`must be one of ${values.join(', ')}`);
  };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date 'YYYY-MM-DD'; with `past`, not after today. */
export function date(options: { past?: boolean } = {}): Parser {
  return (raw, env) => {
    const t = textOf(raw);
    if (t === null) return null;
    const m = DATE.exec(t);
    if (!m) return invalid('must be a date YYYY-MM-DD');
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    const dt = new Date(Date.UTC(y, mo - 1, d));
    if (y < 1800 || dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) {
      return invalid('is not a calendar date');
    }
    if (options.past && t > env.today) return invalid('lies in the future');
    return t;
  };
}

/** Decimal number as text (exact), with at most `scale` decimals and `precision` digits. */
export function decimal(precision: number, scale: number, options: { min?: number } = {}): Parser {
  const pattern = new RegExp(`^-?\\d{1,${precision - scale}}(\\.\\d{1,${scale}})?$`);
  return (raw) => {
    const t = textOf(raw);
    if (t === null) return null;
    if (!pattern.test(t)) return invalid(`must be a decimal number with at most ${scale} decimals`);
    if (options.min !== undefined && Number(t) < options.min)
      return invalid(`must be at least ${options.min}`);
    return t;
  };
}

export function codeList(list: string): Parser {
  return (raw, env) => {
    const t = textOf(raw);
    if (t === null) return null;
    const codes = env.codeLists.get(list);
    if (!codes) return invalid(`code list ${list} is not loaded`);
    return codes.has(t) ? t : invalid(`is not a code of the ${list} code list`);
  };
}

/** A GB/T 2260 division code, structurally; that it exists is checked in SQL. */
export const divisionCode: Parser = (raw) => {
  const t = textOf(raw);
  if (t === null) return null;
  const parsed = parseDivisionCode(t);
  return parsed.ok ? parsed.value.code : invalid(`is not a GB/T 2260 division code (${parsed.message})`);
};

/** A citizen ID number (GB 11643), 15-digit legacy numbers upgraded to 18. */
export const idNumber: Parser = (raw, env) => {
  const t = textOf(raw);
  if (t === null) return null;
  const parsed = parseIdNumber(t, env.today);
  if (parsed.ok) return parsed.value.idNumber;
  const why =
    parsed.reason === 'check_digit'
      ? 'check digit is wrong'
      : parsed.reason === 'birth_date'
        ? 'embedded birth date is not valid'
        : 'must be 18 characters (17 digits and a digit or X)';
  return invalid(`is not a valid citizen ID number: ${why}`);
};

/** A unified social credit code (GB 32100); early pilot codes pass (they are flagged, not refused). */
export const uscc: Parser = (raw) => {
  const t = textOf(raw);
  if (t === null) return null;
  const parsed = parseUscc(t);
  return parsed.ok
    ? parsed.value.uscc
    : invalid(`is not a valid unified social credit code: ${parsed.message}`);
};

const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^0\d{2,3}-?\d{7,8}$/;

export const phone: Parser = (raw) => {
  const t = textOf(raw);
  if (t === null) return null;
  const compact = t.replace(/^\+?86[- ]?/, '').replace(/ /g, '');
  return MOBILE.test(compact) || LANDLINE.test(compact)
    ? compact
    : invalid('is not a mobile (11 digits from 13–19) or landline number');
};

export const currency: Parser = (raw) => {
  const t = textOf(raw);
  if (t === null) return null;
  return /^[A-Z]{3}$/.test(t) ? t : invalid('must be an ISO 4217 code (3 capital letters)');
};

/** GB/T 4754-2017: a section letter, then up to 4 digits; the section must exist. */
export const industryCode: Parser = (raw, env) => {
  const t = textOf(raw);
  if (t === null) return null;
  if (!/^[A-T]\d{0,4}$/.test(t))
    return invalid('is not a GB/T 4754-2017 code (section letter and up to 4 digits)');
  const sections = env.codeLists.get('industry_section');
  if (sections && !sections.has(t[0]!)) return invalid('names no GB/T 4754-2017 section');
  return t;
};

// ---------------------------------------------------------------------------------------------------------
// Geometry: GeoJSON objects or (E)WKT text in, EWKT in the storage SRID (4490) out. Structure, coordinate
// ranges and the CRS are checked here; topology (self-intersection, …) by ST_IsValidReason in SQL.

/** Where coordinates of Chinese base data can lie (the South China Sea islands included). */
const CHINA = { minLon: 72, maxLon: 137, minLat: 0, maxLat: 56 };
const GEOGRAPHIC_SRIDS = new Set([4490, 4326]);

type Position = number[];

function positionError(p: unknown): string | null {
  if (!Array.isArray(p) || p.length < 2) return 'a position must be [longitude, latitude]';
  const [x, y] = p as number[];
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
    return 'a coordinate is not a finite number';
  }
  if (Math.abs(x) <= 90 && Math.abs(y) > 90 && Math.abs(y) <= 180) {
    return `coordinates (${x}, ${y}) are latitude, longitude: GeoJSON and WKT put longitude first`;
  }
  if (Math.abs(x) > 180 || Math.abs(y) > 90) {
    return `coordinates (${x}, ${y}) are not longitude/latitude: projected coordinates, or the wrong CRS`;
  }
  if (x < CHINA.minLon || x > CHINA.maxLon || y < CHINA.minLat || y > CHINA.maxLat) {
    return `coordinates (${x}, ${y}) lie outside China: a wrong coordinate or the wrong CRS`;
  }
  return null;
}

function ring(points: unknown, closed: boolean, min: number): string | null {
  if (!Array.isArray(points) || points.length < min) {
    return closed ? `a ring needs at least ${min} positions` : `a line needs at least ${min} positions`;
  }
  for (const p of points) {
    const e = positionError(p);
    if (e) return e;
  }
  if (closed) {
    const a = points[0] as Position;
    const b = points.at(-1) as Position;
    if (a[0] !== b[0] || a[1] !== b[1]) return 'a ring is not closed (first and last positions differ)';
  }
  return null;
}

const fmt = (p: Position) => `${p[0]} ${p[1]}`;
const lineWkt = (ps: Position[]) => `(${ps.map(fmt).join(',')})`;
const polyWkt = (rings: Position[][]) => `(${rings.map(lineWkt).join(',')})`;

export interface GeometryOptions {
  /** Accepted GeoJSON types; others are refused. */
  types: readonly string[];
}

/** GeoJSON geometry → EWKT (SRID=4490), or the reason it is refused. */
export function geoJsonToEwkt(g: unknown, options: GeometryOptions): string | Invalid {
  if (g === null || typeof g !== 'object') return invalid('must be a GeoJSON geometry object');
  const { type, coordinates } = g as { type?: unknown; coordinates?: unknown };
  if (typeof type !== 'string') return invalid('has no GeoJSON type');
  if (!options.types.includes(type)) return invalid(`must be a ${options.types.join(' or ')}, not a ${type}`);
  let error: string | null = null;
  let wkt: string;
  switch (type) {
    case 'Point': {
      error = positionError(coordinates);
      wkt = error ? '' : `POINT(${fmt(coordinates as Position)})`;
      break;
    }
    case 'MultiPoint':
    case 'LineString': {
      error = ring(coordinates, false, type === 'LineString' ? 2 : 1);
      wkt = error ? '' : `${type.toUpperCase()}${lineWkt(coordinates as Position[])}`;
      break;
    }
    case 'MultiLineString':
    case 'Polygon': {
      const closed = type === 'Polygon';
      if (!Array.isArray(coordinates) || coordinates.length === 0) error = 'has no coordinates';
      else for (const r of coordinates) error ??= ring(r, closed, closed ? 4 : 2);
      wkt = error ? '' : `${type.toUpperCase()}${polyWkt(coordinates as Position[][])}`;
      break;
    }
    case 'MultiPolygon': {
      if (!Array.isArray(coordinates) || coordinates.length === 0) error = 'has no coordinates';
      else
        for (const poly of coordinates) {
          if (!Array.isArray(poly) || poly.length === 0) error ??= 'a polygon has no rings';
          else for (const r of poly) error ??= ring(r, true, 4);
        }
      wkt = error ? '' : `MULTIPOLYGON(${(coordinates as Position[][][]).map(polyWkt).join(',')})`;
      break;
    }
    default:
      return invalid(`GeoJSON type ${type} is not supported here`);
  }
  return error ? invalid(error) : `SRID=4490;${wkt}`;
}

const POINT_WKT = /^(?:SRID=(\d+);)?\s*POINT\s*\(\s*(-?[\d.]+(?:e-?\d+)?)\s+(-?[\d.]+(?:e-?\d+)?)\s*\)$/i;

/**
 * A point: a GeoJSON Point object (NDJSON) or WKT/EWKT text (CSV: `POINT(116.4 39.9)`,
 * `SRID=4326;POINT(…)`). Geographic CGCS2000 (4490) and WGS 84 (4326) agree to centimetres and are stored
 * as 4490; any other CRS is refused.
 */
export const point: Parser = (raw, env) => {
  if (raw !== null && typeof raw === 'object') {
    const r = geoJsonToEwkt(raw, { types: ['Point'] });
    return r;
  }
  const t = textOf(raw);
  if (t === null) return null;
  const m = POINT_WKT.exec(t);
  if (!m) return invalid('must be a point as WKT, e.g. POINT(116.40 39.90)');
  const srid = m[1] ? Number(m[1]) : env.srid;
  if (!GEOGRAPHIC_SRIDS.has(srid))
    return invalid(`has CRS EPSG:${srid}; only EPSG:4490 or EPSG:4326 is accepted`);
  const p = [Number(m[2]), Number(m[3])];
  const e = positionError(p);
  return e ? invalid(e) : `SRID=4490;POINT(${fmt(p)})`;
};

/** The SRID a GeoJSON `crs` member or a --crs option names (4490, 4326/CRS84), or null if unsupported. */
export function sridOf(name: string): number | null {
  const t = name.trim().toUpperCase();
  if (/CRS84$/.test(t) || /(^|[:/])4326$/.test(t)) return 4326;
  if (/(^|[:/])4490$/.test(t)) return 4490;
  return null;
}

/**
 * A GeoJSON geometry (GeoJSON and NDJSON deliveries) of one of `types`, in the delivery's CRS: a
 * collection that declares a CRS other than EPSG:4490 or EPSG:4326 is refused row by row.
 */
export function geometry(types: readonly string[]): Parser {
  return (raw, env) => {
    if (raw === null || raw === undefined) return null;
    if (typeof raw !== 'object')
      return invalid('must be a GeoJSON geometry object (WKT text is not read here)');
    if (env.srid !== 4490 && env.srid !== 4326) {
      return invalid('is in a CRS other than EPSG:4490 or EPSG:4326 (the collection’s crs member)');
    }
    return geoJsonToEwkt(raw, { types });
  };
}

/** A JSON object, kept as jsonb text. */
export const jsonObject: Parser = (raw) => {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) return invalid('must be a JSON object');
  return JSON.stringify(raw);
};
