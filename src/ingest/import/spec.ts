import type { Dataset, FieldEntry } from '../../../schema/catalogue.ts';
import type { JurisdictionScope } from '../../access/principal.ts';
import type { Queryable } from '../../db/index.ts';
import type { DirectDeclaration } from './direct.ts';
import type { Parser } from './fields.ts';
import type { StagedRow, StorageRows } from './storage-row.ts';

/**
 * What an importable registry declares: the columns a delivery may carry (with their per-row parsers),
 * how they map onto the registry table, the set-based reference checks, and the merge. The pipeline
 * (pipeline.ts) is the same for every registry.
 */

/** A column of the staging table, read from the record field of the same name unless derived. */
export interface StageColumn {
  name: string;
  /** SQL type in the staging table (values are COPY text in this type). */
  type: string;
  /** Reads the record field `name`; absent for columns derived by `derive`. */
  parse?: Parser;
  /** Supplied but empty is refused. */
  notEmpty?: boolean;
  /** A new record needs it (checked set-based, since only the database knows what is new). */
  requiredOnInsert?: boolean;
  /** Derived columns count as supplied when this field is. */
  presentWith?: string;
}

/** A column of the registry table the merge writes, from an expression over the resolved staged row. */
export interface TargetColumn {
  column: string;
  /** Field of the catalogue (camelCase) — where the conflict policy is declared. */
  catalogue: string;
  /** The staging field whose presence means "this delivery sets the column". */
  from: string;
  /** SQL producing the value from the resolved row `s` and the joins of `resolveJoins`; default s.<column>. */
  expr?: string;
  /** SQL used on insert when the field is absent or empty (a column default). */
  insertDefault?: string;
}

export interface ImportSource {
  code: string;
  name: string;
  kind: string;
  scope: JurisdictionScope | null;
}

export interface StageTables {
  /** Staged rows: row_no, present (bitmask), and the columns. */
  stage: string;
  /** Refusals: row_no, field, reason. */
  rejects: string;
}

export interface MergeContext extends StageTables {
  db: Queryable;
  batchId: string;
  source: ImportSource;
  storage: StorageRows;
}

export interface MergeCounts {
  inserted: number;
  changed: number;
}

export interface RegistrySpec {
  /** CLI name: persons, entities, features, … */
  name: string;
  /** The change log's and lineage's record type: person, entity, feature. */
  recordType: string;
  /** Registry the batches are listed under (change-log registry name). */
  registry: string;
  dataset: Dataset;
  /** The registry table. */
  table: string;
  /** Staging columns that identify a record (the natural key). */
  key: readonly string[];
  columns: readonly StageColumn[];
  targets: readonly TargetColumn[];
  /** The column a GeoJSON feature's geometry goes to (persons' residence_point, an entity's point, …). */
  geometryColumn?: string;
  /** The column a GeoJSON feature's id goes to, unless its properties carry that column. */
  featureIdColumn?: string;
  /** The column that receives, as one object, every record field that is not a column (features'
   * properties); without it an unknown field is refused. */
  restColumn?: string;
  /** Checks across fields of one row; calls reject for each defect. */
  rowCheck?(
    row: StagedRow,
    present: (field: string) => boolean,
    reject: (field: string, reason: string) => void,
  ): void;
  /** Fills derived columns of an accepted row (lookup keys through `storage`). */
  derive?(row: StagedRow, storage: StorageRows): void;
  /** Set-based checks before the merge: INSERT INTO rejects statements. */
  referenceChecks(ctx: MergeContext): string[];
  /**
   * SQL of the accepted rows resolved for the merge: row_no, present, the stored target columns (by
   * `mergeFragments(...).resolvedColumns`) and what `keyMatch` needs.
   */
  resolved(ctx: MergeContext): string;
  /** SQL condition matching a registry row (alias `t`) to a resolved or staged row (alias `r`). */
  keyMatch(ctx: MergeContext): (t: string, r: string) => string;
  /** SQL condition: the staged row `s` names a record the registry holds (default: by `keyMatch`). */
  recordExists?(ctx: MergeContext, s: string): string;
  /** New records Node can vouch for are written straight into the table (direct.ts); absent: all staged. */
  direct?: DirectDeclaration;
  /** The merge: inserts and updates inside the batch's transaction; writes lineage. */
  merge(ctx: MergeContext): Promise<MergeCounts>;
}

export function bitOf(spec: RegistrySpec, field: string): number {
  const i = spec.columns.findIndex((c) => c.name === field);
  if (i < 0) throw new Error(`${spec.name}: no column ${field}`);
  return 2 ** i;
}

/** SQL: the staged row `alias` supplies `field`. */
export function supplied(spec: RegistrySpec, field: string, alias = 's'): string {
  return `(${alias}.present & ${bitOf(spec, field)}::bigint) <> 0`;
}

/** Catalogue entry of a target column, for its declared authority. */
export function entryOf(spec: RegistrySpec, target: TargetColumn): FieldEntry {
  const entry = (spec.dataset.fields as Record<string, FieldEntry | undefined>)[target.catalogue];
  if (!entry)
    throw new Error(`${spec.name}: ${target.catalogue} is not in the catalogue of ${spec.dataset.id}`);
  return entry;
}

/** The staging-table columns: stored form (with blind indexes) of table columns, helpers as they are. */
export function stagePhysicalColumns(
  spec: RegistrySpec,
  storage: StorageRows,
): { name: string; type: string }[] {
  const targetNames = new Set(spec.targets.map((t) => t.column));
  const out: { name: string; type: string }[] = [];
  for (const c of spec.columns) {
    if (targetNames.has(c.name)) {
      for (const stored of storage.storedColumns(spec.table, c.name)) {
        out.push({ name: stored, type: stored === c.name ? c.type : 'text' });
      }
    } else out.push(c);
  }
  return out;
}

/**
 * SQL: keeps accepted rows only. NOT IN over the refused row numbers (never NULL) is one hashed subplan;
 * the NOT EXISTS it replaces was planned, for an empty rejects table, as a scan started once per staged row
 * (6 s of a million-row merge).
 */
export function accepted(ctx: StageTables, alias = 's'): string {
  return `${alias}.row_no NOT IN (SELECT x.row_no FROM ${ctx.rejects} x)`;
}

/**
 * SQL fragments for the merge of a target table `t` with resolved rows `r`: the SET list (a column takes
 * the delivered value only when the delivery supplies it), the changed-row predicate (only a real change
 * of a supplied value, compared on blind indexes for encrypted columns), and the insert list.
 */
export function mergeFragments(spec: RegistrySpec, storage: StorageRows) {
  const set: string[] = [];
  const changed: string[] = [];
  const insertColumns: string[] = [];
  const insertValues: string[] = [];
  const resolvedColumns: string[] = [];
  for (const target of spec.targets) {
    const bit = `(r.present & ${bitOf(spec, target.from)}::bigint) <> 0`;
    for (const stored of storage.storedColumns(spec.table, target.column)) {
      const expr = stored === target.column ? (target.expr ?? `s.${stored}`) : `s.${stored}`;
      resolvedColumns.push(`${expr} AS ${stored}`);
      set.push(`${stored} = CASE WHEN ${bit} THEN r.${stored} ELSE t.${stored} END`);
      insertColumns.push(stored);
      insertValues.push(
        target.insertDefault && stored === target.column
          ? `coalesce(r.${stored}, ${target.insertDefault})`
          : `r.${stored}`,
      );
    }
    const cmp = storage.compareColumn(spec.table, target.column);
    changed.push(`(${bit} AND r.${cmp} IS DISTINCT FROM t.${cmp})`);
  }
  return {
    set: set.join(', '),
    changed: changed.join(' OR '),
    insertColumns: insertColumns.join(', '),
    insertValues: insertValues.join(', '),
    resolvedColumns: resolvedColumns.join(', '),
  };
}

/** SQL condition: the staged row `s` names a record the registry already holds. */
export function recordExists(spec: RegistrySpec, ctx: MergeContext, s = 's'): string {
  return spec.recordExists
    ? spec.recordExists(ctx, s)
    : `EXISTS (SELECT 1 FROM ${spec.table} t WHERE ${spec.keyMatch(ctx)('t', s)})`;
}
