import { Kind } from 'graphql';
import { GEOMETRY_TYPES, type Geometry } from '../db/geojson.ts';
import { errors } from '../errors.ts';
import { builder } from './builder.ts';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw errors.invalidArgument(
      '(Date)',
      `must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`,
    );
  }
  const roundTrip = new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10);
  if (roundTrip !== value) throw errors.invalidArgument('(Date)', `${value} is not a real calendar date`);
  return value;
}

builder.scalarType('Date', {
  description: 'An ISO 8601 calendar date, YYYY-MM-DD. A date masked to its year is served as YYYY.',
  serialize: (value) => String(value),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType('DateTime', {
  description: 'An ISO 8601 instant with time zone',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime()))
      throw errors.invalidArgument('(DateTime)', `is not an ISO 8601 instant`);
    return date;
  },
});

function parseGeometry(value: unknown): Geometry {
  const candidate = value as { type?: unknown; coordinates?: unknown; geometries?: unknown } | null;
  if (!candidate || typeof candidate !== 'object' || !GEOMETRY_TYPES.includes(candidate.type as never)) {
    throw new Error('GeoJSON geometry must be an object with a geometry "type" (RFC 7946)');
  }
  if (
    candidate.type === 'GeometryCollection'
      ? !Array.isArray(candidate.geometries)
      : !Array.isArray(candidate.coordinates)
  ) {
    throw new Error(`GeoJSON ${String(candidate.type)} lacks its coordinates`);
  }
  return candidate as Geometry;
}

builder.scalarType('GeoJSON', {
  description: 'An RFC 7946 GeoJSON geometry, longitude/latitude in CGCS2000 (≈ WGS 84)',
  serialize: (value) => value,
  parseValue: parseGeometry,
});
