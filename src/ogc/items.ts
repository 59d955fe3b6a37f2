import type { Database } from '../db/index.ts';
import { STORAGE_SRID } from '../db/index.ts';
import { errors } from '../errors.ts';
import { applyHook, type CollectionAccess, maskProperties, rowScopeSql } from './access.ts';
import type { Collection, FeatureRecord } from './collections.ts';
import { type Cql2Node, compileCql2, type ResolvedQueryable } from './cql2.ts';
import { problems } from './problems.ts';
import type { Bbox, Crs, DatetimeInterval, SortKey } from './query-params.ts';
import { isLatLon } from './query-params.ts';
import { and, ident, SqlBuilder, type SqlStatement } from './sql.ts';

/**
 * The SQL of /collections/{id}/items and /items/{featureId}: one statement for the page, one for
 * numberMatched. Exported so benchmarks can run the raw statements against the endpoint.
 */

export interface ItemsRequest {
  bbox?: Bbox | null;
  datetime?: DatetimeInterval | null;
  filter?: Cql2Node | null;
  /** Coordinates of filter literals are lat, lon (filter-crs EPSG:4490). */
  filterLatLon?: boolean;
  sortby?: SortKey[] | null;
  limit: number;
  offset: number;
  /** Selected properties; null = every property the caller may see. */
  properties?: string[] | null;
  crs: Crs;
}

/** A filter or sort key on a property needs the right to read it in clear: 403 FORBIDDEN_FILTER otherwise. */
function queryable(view: CollectionAccess, name: string, argument: string): ResolvedQueryable {
  const { collection } = view;
  if (name === 'geometry') {
    if (view.geometrySql === null || view.geometryDecision.kind !== 'allow') {
      throw errors.forbiddenFilter(argument, `${collection.dataset.id}.${collection.geometry.field}`);
    }
    return { sql: collection.geometry.column, type: 'geometry' };
  }
  const property = collection.properties[name];
  if (!property || property.queryable === false) {
    const names = queryableNames(view);
    throw problems.badParameter(
      argument,
      `names unknown property '${name}' (queryables: ${names.join(', ') || 'none'})`,
    );
  }
  if (view.decisions[name]?.kind !== 'allow') {
    throw errors.forbiddenFilter(argument, `${collection.dataset.id}.${property.field}`);
  }
  return { sql: property.column, type: property.type };
}

/** The queryables this caller may use (clear right on the field), geometry included. */
export function queryableNames(view: CollectionAccess): string[] {
  const names = Object.entries(view.collection.properties)
    .filter(([name, p]) => p.queryable !== false && view.decisions[name]?.kind === 'allow')
    .map(([name]) => name);
  if (view.geometrySql !== null && view.geometryDecision.kind === 'allow') names.push('geometry');
  return names;
}

function dateParam(value: string, type: 'date' | 'date-time'): string {
  if (type === 'date-time') return value;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : new Date(value).toISOString().slice(0, 10);
}

/** WHERE of items: row scope, bbox, datetime, filter; every value a parameter. */
export function whereSql(
  view: CollectionAccess,
  request: Omit<ItemsRequest, 'limit' | 'offset' | 'crs'>,
  sql: SqlBuilder,
): string {
  const { collection } = view;
  const predicates: (string | null)[] = [rowScopeSql(collection, view.ctx, sql)];
  if (request.bbox) {
    // The bbox tests the geometry as the caller sees it (masked points are tested where they are shown).
    if (view.geometrySql === null)
      throw errors.forbiddenFilter('bbox', `${collection.dataset.id}.${collection.geometry.field}`);
    const { west, south, east, north } = request.bbox;
    const box = (w: number, e: number) =>
      `ST_Intersects(${view.geometrySql}, ST_MakeEnvelope(${sql.param(w, 'float8')}, ${sql.param(south, 'float8')}, ${sql.param(e, 'float8')}, ${sql.param(north, 'float8')}, ${STORAGE_SRID}))`;
    predicates.push(west <= east ? box(west, east) : `${box(west, 180)} OR ${box(-180, east)}`);
  }
  if (request.datetime) {
    const temporal = collection.temporal;
    if (!temporal)
      throw problems.badParameter(
        'datetime',
        `cannot be used: collection '${collection.id}' has no temporal property`,
      );
    const cast = temporal.type === 'date' ? 'date' : 'timestamptz';
    const { start, end } = request.datetime;
    if (end !== null)
      predicates.push(
        `${temporal.start} IS NULL OR ${temporal.start} <= ${sql.param(dateParam(end, temporal.type), cast)}`,
      );
    if (start !== null) {
      const s = sql.param(dateParam(start, temporal.type), cast);
      predicates.push(
        temporal.end ? `${temporal.end} IS NULL OR ${temporal.end} > ${s}` : `${temporal.start} >= ${s}`,
      );
    }
  }
  if (request.filter) {
    predicates.push(
      compileCql2(request.filter, sql, {
        resolve: (name) => queryable(view, name, 'filter'),
        latLon: request.filterLatLon ?? false,
        srid: STORAGE_SRID,
      }),
    );
  }
  return and(predicates);
}

/** The collection's own order (default sort, then id): used by items without sortby and by tiles. */
export function defaultOrderSql(collection: Collection): string {
  return [
    ...collection.sort.map(
      (k) => `${collection.properties[k.property]!.column} ${k.direction === 'desc' ? 'DESC' : 'ASC'}`,
    ),
    `${collection.idColumn} ASC`,
  ].join(', ');
}

function orderSql(view: CollectionAccess, sortby: SortKey[] | null | undefined): string {
  if (!sortby) return defaultOrderSql(view.collection);
  const { collection } = view;
  const parts = sortby.map((key) => {
    const column = queryable(view, key.property, 'sortby').sql;
    return `${column} ${key.direction === 'desc' ? 'DESC' : 'ASC'}`;
  });
  parts.push(`${collection.idColumn} ASC`);
  return parts.join(', ');
}

/** The selected properties the caller may see, in definition order. */
export function servedProperties(view: CollectionAccess, selected: string[] | null | undefined): string[] {
  return selected ? view.visible.filter((name) => selected.includes(name)) : view.visible;
}

function selectList(view: CollectionAccess, served: string[], crs: Crs): string {
  const { collection } = view;
  const columns = [`${collection.idColumn} AS "__id"`];
  for (const name of served) columns.push(`${collection.properties[name]!.column} AS ${ident(name)}`);
  if (view.geometrySql === null) {
    columns.push('NULL::text AS "__geometry"');
  } else {
    const axes = isLatLon(crs) ? `ST_FlipCoordinates(${view.geometrySql})` : view.geometrySql;
    columns.push(`ST_AsGeoJSON(ST_ForcePolygonCCW(${axes}), 7, 0) AS "__geometry"`);
  }
  return columns.join(', ');
}

export function itemsSql(
  view: CollectionAccess,
  request: ItemsRequest,
): { page: SqlStatement; count: SqlStatement } {
  const countBuilder = new SqlBuilder();
  const countWhere = whereSql(view, request, countBuilder);
  const count = countBuilder.statement(
    `SELECT count(*)::int AS n FROM ${view.collection.source} AS src WHERE ${countWhere}`,
  );
  const sql = new SqlBuilder();
  const where = whereSql(view, request, sql);
  const order = orderSql(view, request.sortby);
  const served = servedProperties(view, request.properties);
  const page = sql.statement(
    `SELECT ${selectList(view, served, request.crs)} FROM ${view.collection.source} AS src
      WHERE ${where} ORDER BY ${order} LIMIT ${sql.param(request.limit, 'int')} OFFSET ${sql.param(request.offset, 'int')}`,
  );
  return { page, count };
}

export function itemSql(
  view: CollectionAccess,
  featureId: string,
  crs: Crs,
  properties?: string[] | null,
): SqlStatement | null {
  const { collection } = view;
  if (collection.idType === 'integer' && !/^\d{1,18}$/.test(featureId)) return null;
  const sql = new SqlBuilder();
  const where = and([
    `${collection.idColumn} = ${sql.param(featureId, collection.idType === 'integer' ? 'bigint' : 'text')}`,
    rowScopeSql(collection, view.ctx, sql),
  ]);
  const served = servedProperties(view, properties);
  return sql.statement(
    `SELECT ${selectList(view, served, crs)} FROM ${collection.source} AS src WHERE ${where}`,
  );
}

/** A feature ready to serialise: geometry stays the GeoJSON text PostGIS wrote (no re-parsing). */
export interface FeatureOut extends FeatureRecord {
  geometryJson: string | null;
}

/** Rows → features: masks masked properties, then runs the collection's hook. */
export function toFeatures(
  view: CollectionAccess,
  rows: Record<string, unknown>[],
  served: string[],
): FeatureOut[] {
  const features = rows.map((row) => {
    const properties: Record<string, unknown> = {};
    for (const name of served) properties[name] = row[name] ?? null;
    maskProperties(view, properties);
    const id = row.__id as string | number;
    return {
      id: view.collection.idType === 'integer' ? Number(id) : String(id),
      properties,
      geometryJson: (row.__geometry as string | null) ?? null,
    };
  });
  applyHook(view, features);
  return features;
}

export function featureJson(f: FeatureOut, links?: unknown[]): string {
  return `{"type":"Feature","id":${JSON.stringify(f.id)},"geometry":${f.geometryJson ?? 'null'},"properties":${JSON.stringify(f.properties)}${links ? `,"links":${JSON.stringify(links)}` : ''}}`;
}

export interface ItemsResult {
  features: FeatureOut[];
  numberMatched: number;
  served: string[];
}

export async function queryItems(
  db: Database,
  view: CollectionAccess,
  request: ItemsRequest,
): Promise<ItemsResult> {
  const { page, count } = itemsSql(view, request);
  const [matched] = await db.query<{ n: number }>(count.text, count.params);
  const rows = await db.query<Record<string, unknown>>(page.text, page.params);
  const served = servedProperties(view, request.properties);
  return { features: toFeatures(view, rows, served), numberMatched: matched?.n ?? 0, served };
}

export async function queryItem(
  db: Database,
  view: CollectionAccess,
  featureId: string,
  crs: Crs,
  properties?: string[] | null,
): Promise<{ feature: FeatureOut; served: string[] } | null> {
  const statement = itemSql(view, featureId, crs, properties);
  if (!statement) return null;
  const rows = await db.query<Record<string, unknown>>(statement.text, statement.params);
  if (rows.length === 0) return null;
  const served = servedProperties(view, properties);
  return { feature: toFeatures(view, rows, served)[0]!, served };
}
