import type { Dataset, DatasetMeta, FieldEntry } from '../../schema/catalogue.ts';
import type { Principal } from '../access/principal.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../gateway/pagination.ts';
import {
  type CollectionDefinition,
  type GeometryType,
  getCollection,
  type PropertyDefinition,
  type PropertyType,
  registerCollection,
} from '../ogc/collections.ts';
import { requireDivision } from '../registries/spatial/division-directory.ts';

/**
 * A subject (专题): a named, documented view for a scenario that joins registries — elderly care,
 * enterprise credit, ecological protection. It is declared once (one module under src/subjects/) as a
 * SELECT over the registry tables whose every output column names its place in the field catalogue:
 *  - a column copied or computed from a registry field names that field (`source`), and is decided by it,
 *    against the grant on that field's own dataset, exactly as in the registry's own types;
 *  - a value the subject computes itself (a distance, a count) declares its own entry (`derived`),
 *    decided against the grant on the subject's anchor dataset.
 * From the declaration follow the GraphQL type and query (through the access plugin, so masking, denial
 * and audit are the registries' own), the OGC collection where the subject has a geometry, and the
 * subject's entry in the data-resource catalogue (src/catalogue).
 *
 * SQL in a declaration is trusted text written by engineers; request values reach it only as parameters.
 */

export type ColumnType = 'id' | 'string' | 'int' | 'float' | 'date' | 'boolean' | 'geometry';

export type ColumnSource = { dataset: Dataset; field: string } | { derived: FieldEntry };

export interface SubjectColumn {
  /** SQL expression over the subject's FROM items. */
  expr: string;
  type: ColumnType;
  source: ColumnSource;
  /** @default the catalogue entry's description */
  description?: string;
  /** The expression reads the subject's lateral join (left out of counts and of views that do not ask for it). */
  lateral?: boolean;
}

export interface SubjectDefinition {
  /** snake_case id; the catalogue lists the subject as `subject.<id>`. */
  id: string;
  /** GraphQL names: the record type and the query field. */
  typeName: string;
  queryName: string;
  name: string;
  description: string;
  /** The department responsible for the view. */
  owner: string;
  updateFrequency: DatasetMeta['updateFrequency'];
  /** The dataset whose rows the subject lists: its grant opens the query and decides derived values. */
  anchor: Dataset;
  /** FROM items and the WHERE condition that make one row per subject record. */
  from: string;
  where: string;
  /** A `LEFT JOIN LATERAL (…) alias ON TRUE` for per-row lookups (nearest facility); only when selected. */
  lateral?: string;
  /** The row key (an integer column) and the division column queries filter on. */
  key: string;
  division: string;
  /** The caller's rows, over the columns' expressions, values through `param`; null for all rows. */
  scope(principal: Principal, param: (value: unknown) => string): string | null;
  columns: Record<string, SubjectColumn>;
  /** Person key written to the audit when a sensitive personal column of a row is read. */
  auditSubject?: (row: Record<string, unknown>) => string | null;
  /** The OGC collection of a subject with a geometry. */
  ogc?: {
    geometry: string;
    geometryType: GeometryType;
    /** Columns served as properties (anchor fields, public fields, or the subject's own values). */
    properties: readonly string[];
    tiles?: CollectionDefinition['tiles'];
  };
}

export function entryOf(subject: SubjectDefinition, column: string): FieldEntry {
  const source = subject.columns[column]?.source;
  if (!source) throw new Error(`subject ${subject.id}: no column '${column}'`);
  if ('derived' in source) return source.derived;
  const { dataset, field } = source;
  const entry =
    (dataset.fields as Record<string, FieldEntry | undefined>)[field] ??
    (dataset.derived as Record<string, FieldEntry | undefined>)[field];
  if (!entry)
    throw new Error(`subject ${subject.id}.${column}: '${field}' is not in the catalogue of ${dataset.id}`);
  return entry;
}

/** The key a subject's own value is classified under in its decision dataset. */
export function derivedKey(subject: SubjectDefinition, column: string): string {
  return `subject.${subject.id}.${column}`;
}

/**
 * The dataset a subject's own values (and its OGC properties) are decided in: the anchor's id and owner,
 * so the anchor's grants apply, with one entry per column under a key that no registry field has.
 */
export function decisionDataset(subject: SubjectDefinition): Dataset {
  const derived: Record<string, FieldEntry> = {};
  for (const column of Object.keys(subject.columns))
    derived[derivedKey(subject, column)] = entryOf(subject, column);
  return { ...subject.anchor, fields: {}, derived } as Dataset;
}

/** The subject's SELECT: the named columns (default all), geometry as raw geometry or GeoJSON. */
export function subjectSelect(
  subject: SubjectDefinition,
  options: { columns?: readonly string[]; geojson?: boolean } = {},
): string {
  const names = options.columns ?? Object.keys(subject.columns);
  const needsLateral = names.some((n) => subject.columns[n]!.lateral);
  const list = names.map((name) => {
    const column = subject.columns[name]!;
    const expr =
      column.type === 'geometry' && options.geojson
        ? `ST_AsGeoJSON(${column.expr}, 7, 0)::json`
        : column.expr;
    return `${expr} AS ${name}`;
  });
  return `SELECT ${list.join(', ')} FROM ${subject.from}${needsLateral && subject.lateral ? ` ${subject.lateral}` : ''} WHERE ${subject.where}`;
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const SCALARS: Record<ColumnType, string> = {
  id: 'ID',
  string: 'String',
  int: 'Int',
  float: 'Float',
  date: 'Date',
  boolean: 'Boolean',
  geometry: 'GeoJSON',
};

const OGC_TYPES: Record<Exclude<ColumnType, 'geometry'>, PropertyType> = {
  id: 'integer',
  string: 'string',
  int: 'integer',
  float: 'number',
  date: 'date',
  boolean: 'boolean',
};

export type SubjectRow = Record<string, unknown>;

/** Registers a subject's GraphQL type and query, and its OGC collection; returns the type's ref. */
export function defineSubject(subject: SubjectDefinition) {
  const decisions = decisionDataset(subject);
  const ref = builder.objectRef<SubjectRow>(subject.typeName);
  ref.implement({
    description: `${subject.name}: ${subject.description}`,
    ...(subject.auditSubject ? { auditSubject: subject.auditSubject } : {}),
    fields: (t) =>
      Object.fromEntries(
        Object.entries(subject.columns).map(([name, column]) => {
          const access =
            'derived' in column.source
              ? { dataset: decisions, field: derivedKey(subject, name) }
              : { dataset: column.source.dataset, field: column.source.field };
          return [
            camel(name),
            t.field({
              type: SCALARS[column.type] as 'String',
              nullable: true,
              description: column.description ?? entryOf(subject, name).description,
              access,
              resolve: (row) => row[name] as never,
            }),
          ];
        }),
      ),
  });

  builder.queryField(subject.queryName, (t) =>
    t.connection(
      {
        type: ref,
        description: `${subject.name} — ${subject.description}`,
        args: {
          divisionCode: t.arg.string({ description: 'Rows in this division subtree' }),
        },
        requiresDataset: subject.anchor,
        resolve: async (_root, args, ctx) => {
          const first = pageSize(args, ctx.config.maxPageSize);
          const afterId = args.after ? decodeCursor(args.after, 'after', subject.id) : 0;
          const { where, params } = await subjectWhere(ctx, subject, args.divisionCode ?? null);
          const select = subjectSelect(subject, { geojson: true });
          const page = await ctx.db.query<SubjectRow>(
            `SELECT * FROM (${select}) s WHERE ${where} AND s.${subject.key} > $${params.length + 1}
              ORDER BY s.${subject.key} LIMIT $${params.length + 2}`,
            [...params, afterId, first + 1],
          );
          const hasNextPage = page.length > first;
          const nodes = hasNextPage ? page.slice(0, first) : page;
          const cursor = (row: SubjectRow) => encodeCursor(subject.id, Number(row[subject.key]));
          let total: Promise<number> | undefined;
          return {
            edges: nodes.map((node) => ({ cursor: cursor(node), node })),
            pageInfo: {
              hasNextPage,
              hasPreviousPage: afterId > 0,
              startCursor: nodes[0] ? cursor(nodes[0]) : null,
              endCursor: nodes.at(-1) ? cursor(nodes.at(-1)!) : null,
            },
            totalCount: () => {
              const base = Object.keys(subject.columns).filter((n) => !subject.columns[n]!.lateral);
              total ??= ctx.db
                .query<{ n: number }>(
                  `SELECT count(*)::int AS n FROM (${subjectSelect(subject, { columns: base })}) s WHERE ${where}`,
                  params,
                )
                .then((r) => Number(r[0]?.n ?? 0));
              return total;
            },
          };
        },
      },
      {
        fields: (c) => ({
          totalCount: c.int({
            description: 'How many rows match, across all pages',
            resolve: (connection) =>
              (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
          }),
        }),
      },
    ),
  );

  if (subject.ogc) registerSubjectCollection(subject, decisions);
  return ref;
}

/** The WHERE over the subject's columns (aliased `s`): the division subtree and the caller's scope. */
async function subjectWhere(ctx: GatewayContext, subject: SubjectDefinition, divisionCode: string | null) {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const conditions: string[] = ['TRUE'];
  if (divisionCode) {
    const division = await requireDivision(ctx, divisionCode, 'divisionCode');
    conditions.push(
      `s.${subject.division} BETWEEN ${param(division.prefix)} AND ${param(division.prefix + '9'.repeat(12 - division.prefix.length))}`,
    );
  }
  const scope = subject.scope(ctx.access.principal, param);
  if (scope) conditions.push(`(${scope})`);
  // The scope is written over column names; the view is aliased `s`.
  return { where: conditions.join(' AND ').replace(/\{(\w+)\}/g, 's.$1'), params };
}

function registerSubjectCollection(subject: SubjectDefinition, decisions: Dataset): void {
  const ogc = subject.ogc!;
  const id = `subject-${subject.id.replace(/_/g, '-')}`;
  if (getCollection(id)) return;
  const properties: Record<string, PropertyDefinition> = {};
  for (const name of ogc.properties) {
    const column = subject.columns[name];
    if (!column || column.type === 'geometry')
      throw new Error(`subject ${subject.id}: OGC property '${name}'`);
    const source = column.source;
    // Decided against the anchor's grant: only the anchor's own fields, public fields or the subject's
    // own values may be served this way.
    if (
      !('derived' in source) &&
      source.dataset.id !== subject.anchor.id &&
      entryOf(subject, name).level !== 'public'
    )
      throw new Error(
        `subject ${subject.id}: OGC property '${name}' comes from ${source.dataset.id} and is not public`,
      );
    properties[name] = {
      column: name,
      field: derivedKey(subject, name),
      type: OGC_TYPES[column.type],
      title: column.description ?? entryOf(subject, name).description,
    };
  }
  // Every column the row scope may name, the geometry and the properties; per-row lookups only when served.
  const base = Object.keys(subject.columns).filter((n) => !subject.columns[n]!.lateral);
  const columns = [...base, ...ogc.properties];
  registerCollection({
    id,
    title: subject.name,
    description: subject.description,
    keywords: ['subject', subject.id],
    dataset: decisions,
    source: `(${subjectSelect(subject, { columns: [...new Set(columns)] })})`,
    idColumn: subject.key,
    idType: 'integer',
    geometry: { column: ogc.geometry, field: derivedKey(subject, ogc.geometry), type: ogc.geometryType },
    properties,
    rowScope: (principal, param) => {
      const scope = subject.scope(principal, (v) => param(v));
      return scope ? scope.replace(/\{(\w+)\}/g, '$1') : null;
    },
    canRead: (ctx) =>
      ctx.access.canReadDataset(subject.anchor) &&
      ctx.access.decide(decisions, derivedKey(subject, ogc.geometry)).kind !== 'deny',
    tiles: ogc.tiles ?? false,
  });
}

/** Row scope helper: division columns `{col}` inside the principal's jurisdiction, or null for national callers. */
export function jurisdictionScope(columns: readonly string[]) {
  return (principal: Principal, param: (value: unknown) => string): string | null => {
    const scope = principal.scope;
    if (!scope) return null;
    const lo = param(scope.lo);
    const hi = param(scope.hi);
    return `(${columns.map((c) => `{${c}} BETWEEN ${lo} AND ${hi}`).join(' OR ')})`;
  };
}
