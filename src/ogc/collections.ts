import type { Dataset, FieldEntry } from '../../schema/catalogue.ts';
import { divisionsDataset } from '../../schema/spatial.ts';
import type { Principal } from '../access/principal.ts';
import type { RequestAccess } from '../access/request-access.ts';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/index.ts';
import { parseSortby, type SortKey } from './query-params.ts';

/**
 * The collection registry: every layer served by OGC API – Features (/ogc) and the vector tiles (/tiles)
 * is one `CollectionDefinition`. Adding a layer is a `registerCollection({...})` call in a module that
 * `src/ogc/index.ts` imports; access decisions, filtering, paging, tiles, caching and audit follow from it.
 *
 * SQL in a definition (source, columns, row scope) is trusted text written by engineers; request values
 * never reach it except as parameters.
 */

export type PropertyType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'date-time';
export type GeometryType =
  | 'Point'
  | 'MultiPoint'
  | 'LineString'
  | 'MultiLineString'
  | 'Polygon'
  | 'MultiPolygon';

export interface PropertyDefinition {
  /** SQL expression over the source's columns, e.g. `parent_code`. */
  column: string;
  /** The catalogue entry (a column or derived value of the collection's dataset) deciding who sees it. */
  field: string;
  type: PropertyType;
  title?: string;
  /** @default the catalogue entry's description */
  description?: string;
  /**
   * Whether filter= and sortby= may use it (a caller also needs the clear right on its field). Turn it
   * off for values a hook rewrites (suppressed counts), since filtering on the raw value would reveal it.
   * @default true
   */
  queryable?: boolean;
  /**
   * A classification of its own instead of the catalogue entry of `field` (an attribute's definition,
   * src/attributes/ogc.ts), decided by the same policy function, with `owner` as the owning department.
   */
  entry?: FieldEntry;
  owner?: string;
}

/** Who is asking, for hooks: the principal, its per-request access state and the configuration. */
export interface CollectionContext {
  principal: Principal;
  access: RequestAccess;
  config: Config;
}

/** A feature as hooks see it: its id and its (already masked) properties. */
export interface FeatureRecord {
  id: string | number;
  properties: Record<string, unknown>;
}

/** Rewrites features after access decisions, e.g. small-cell suppression of aggregate counts. */
export interface FeatureHook {
  /**
   * What about the caller changes the hook's output (e.g. 'cleared' or 'suppressed'). It becomes part of
   * the tile cache key, so two callers share a cached tile only when their hook output is the same.
   */
  profile(ctx: CollectionContext): string;
  apply(features: FeatureRecord[], ctx: CollectionContext): void;
}

export interface TileSettings {
  minZoom: number;
  maxZoom: number;
  /**
   * Simplification tolerance at zoom z, in tile units (a tile is 4096 units wide).
   * @default 1 below maxZoom, 0 from maxZoom on
   */
  simplify?: (z: number) => number;
  /** Most features in one tile; the rest (in the collection's default order) are left out. @default 5000 */
  featureCap?: number;
  /**
   * Point collections only: below `belowZoom` the points of a tile are aggregated into grid cells of
   * `cellUnits` tile units (default 256, i.e. 16 × 16 cells a tile); each cell is one point feature with a
   * `count`, placed at the centroid of its points.
   */
  cluster?: { belowZoom: number; cellUnits?: number };
}

export interface CollectionDefinition {
  /** URL-safe id: lower-case letters, digits, '-' and '_'. Also the vector tile layer name. */
  id: string;
  title: string;
  description: string;
  keywords?: string[];
  /** The catalogue dataset exposed: grants and the per-field decisions come from it. */
  dataset: Dataset;
  /** A table name or a parenthesised subquery, e.g. `(SELECT … FROM divisions WHERE …)`. */
  source: string;
  /** The feature id: an SQL expression and its type. */
  idColumn: string;
  idType: 'string' | 'integer';
  /**
   * An SQL expression giving a non-negative integer id for vector tiles (MVT ids are unsigned integers).
   * @default idColumn when idType is 'integer'; tiles carry no id otherwise
   */
  tileIdColumn?: string;
  /** The geometry column, in SRID 4490 (CGCS2000), and the catalogue entry deciding who sees it. */
  geometry: { column: string; field: string; type: GeometryType };
  /** Property name (as served) → its SQL expression, catalogue field and type. */
  properties: Record<string, PropertyDefinition>;
  /** Columns (date or timestamptz) that the `datetime` parameter is matched against: [start, end). */
  temporal?: { start: string; end?: string; type: 'date' | 'date-time' };
  /** Default order, in sortby syntax (`+name,-code`); the id always breaks ties. @default by id */
  defaultSort?: string;
  /**
   * Rows the principal may see: an SQL predicate over the source's columns, or null for all rows. Use
   * `param` for every value (it returns the placeholder). Default: no row restriction.
   */
  rowScope?: (principal: Principal, param: (value: unknown, cast?: string) => string) => string | null;
  /**
   * Whether the caller may see the collection at all. @default `access.canReadDataset(dataset)` and
   * a geometry that is not denied
   */
  canRead?: (ctx: CollectionContext) => boolean;
  hook?: FeatureHook;
  /**
   * Properties read per request from the database (attributes defined on demand for a layer): added to the
   * collection's items, queryables and filters without a restart. Each must carry its own `entry`.
   */
  dynamicProperties?: (db: Queryable) => Promise<Record<string, PropertyDefinition>>;
  /** Vector tile settings; false for a collection served by OGC API – Features only. */
  tiles: TileSettings | false;
}

/** A registered collection: the definition, checked and normalised once. */
export interface Collection extends CollectionDefinition {
  sort: SortKey[];
  fieldEntries: Record<string, FieldEntry>;
}

const registry = new Map<string, Collection>();

function catalogueEntry(dataset: Dataset, field: string): FieldEntry | undefined {
  return (
    (dataset.fields as Record<string, FieldEntry | undefined>)[field] ??
    (dataset.derived as Record<string, FieldEntry | undefined>)[field]
  );
}

/**
 * Adds a collection; returns a function that removes it again (tests register fakes). A definition that
 * names a field missing from its dataset's catalogue, or has bad tile settings, fails here, at start-up.
 */
export function registerCollection(definition: CollectionDefinition): () => void {
  const { id } = definition;
  const problem = (what: string) => new Error(`collection '${id}': ${what}`);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(id)) throw problem('id must be lower-case letters, digits, - and _');
  if (registry.has(id)) throw problem('is already registered');
  const fieldEntries: Record<string, FieldEntry> = {};
  for (const [name, property] of Object.entries(definition.properties)) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw problem(`property name '${name}' is not a plain name`);
    if (name === 'geometry') throw problem(`'geometry' is reserved for the geometry queryable`);
    const entry = property.entry ?? catalogueEntry(definition.dataset, property.field);
    if (!entry)
      throw problem(`property '${name}' names '${property.field}', not in ${definition.dataset.id}`);
    fieldEntries[name] = entry;
  }
  const geometryEntry = catalogueEntry(definition.dataset, definition.geometry.field);
  if (!geometryEntry) throw problem(`geometry field '${definition.geometry.field}' is not in the catalogue`);
  fieldEntries.geometry = geometryEntry;
  const tiles = definition.tiles;
  if (tiles) {
    if (!(tiles.minZoom >= 0 && tiles.minZoom <= tiles.maxZoom && tiles.maxZoom <= 24)) {
      throw problem('tiles need 0 ≤ minZoom ≤ maxZoom ≤ 24');
    }
    if (tiles.cluster && definition.geometry.type !== 'Point') throw problem('only points can be clustered');
  }
  const names = new Set(Object.keys(definition.properties));
  const sort = definition.defaultSort ? parseSortby(definition.defaultSort, names, 'defaultSort') : [];
  registry.set(id, { ...definition, sort, fieldEntries });
  return () => {
    registry.delete(id);
  };
}

/**
 * The collection with per-request properties added (dynamicProperties): names that clash with a declared
 * property or are not plain names are left out; each added property is classified by its own entry.
 */
export function extendCollection(
  collection: Collection,
  extra: Record<string, PropertyDefinition>,
): Collection {
  const properties = { ...collection.properties };
  const fieldEntries = { ...collection.fieldEntries };
  for (const [name, property] of Object.entries(extra)) {
    if (name in properties || name === 'geometry' || !property.entry || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name))
      continue;
    properties[name] = property;
    fieldEntries[name] = property.entry;
  }
  return { ...collection, properties, fieldEntries };
}

export function getCollection(id: string): Collection | undefined {
  return registry.get(id);
}

/** All registered collections, in registration order. */
export function listCollections(): Collection[] {
  return [...registry.values()];
}

// ---------------------------------------------------------------------------------------------------------
// Built-in collections: the current administrative divisions with boundaries, one collection per level.

const DIVISION_LEVELS = {
  province: { title: '省级行政区 Provinces', tiles: { minZoom: 0, maxZoom: 10 } },
  city: { title: '地级行政区 Prefecture-level divisions', tiles: { minZoom: 2, maxZoom: 12 } },
  county: { title: '县级行政区 County-level divisions', tiles: { minZoom: 4, maxZoom: 14 } },
} as const;

function divisionCollection(level: keyof typeof DIVISION_LEVELS): CollectionDefinition {
  const settings = DIVISION_LEVELS[level];
  return {
    id: `divisions-${level}`,
    title: settings.title,
    description: `Current ${level}-level administrative divisions (GB/T 2260) with their boundaries, CGCS2000`,
    keywords: ['administrative divisions', 'GB/T 2260', level],
    dataset: divisionsDataset as unknown as Dataset,
    source: `(SELECT code, name, level, parent_code, valid_from, valid_to, boundary FROM divisions
               WHERE level = '${level}' AND valid_to IS NULL AND boundary IS NOT NULL)`,
    idColumn: 'code',
    idType: 'string',
    tileIdColumn: 'code::bigint',
    geometry: { column: 'boundary', field: 'boundary', type: 'MultiPolygon' },
    properties: {
      code: { column: 'code', field: 'code', type: 'string', title: 'Division code' },
      name: { column: 'name', field: 'name', type: 'string', title: 'Name' },
      level: { column: 'level', field: 'level', type: 'string', title: 'Level' },
      parent_code: { column: 'parent_code', field: 'parentCode', type: 'string', title: 'Parent division' },
      valid_from: { column: 'valid_from', field: 'validFrom', type: 'date', title: 'Valid from' },
    },
    temporal: { start: 'valid_from', end: 'valid_to', type: 'date' },
    defaultSort: '+code',
    tiles: { ...settings.tiles, featureCap: 5000 },
  };
}

for (const level of ['province', 'city', 'county'] as const) registerCollection(divisionCollection(level));
