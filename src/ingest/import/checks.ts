import type { JurisdictionScope } from '../../access/principal.ts';
import { accepted, bitOf, type MergeContext, type RegistrySpec, recordExists, supplied } from './spec.ts';

/**
 * Set-based checks shared by the registries: each is one INSERT INTO the attempt's rejects table, run
 * after the whole delivery is staged, so a million rows cost a few joins, not a million lookups.
 */

export const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** How a row repeating an earlier row's key is refused (followed by that row's number). */
export const REPEATS = 'repeats the record of row ';

/** A key that repeats an earlier row of the delivery: the later rows are refused. */
export function duplicateKeys(spec: RegistrySpec, ctx: MergeContext): string {
  const keys = spec.key.map((k) => ctx.storage.compareColumn(spec.table, k));
  const join = keys.map((k) => `d.${k} = s.${k}`).join(' AND ');
  return `INSERT INTO ${ctx.rejects} (row_no, field, reason)
    SELECT s.row_no, ${sqlText(spec.key[0]!)}, ${sqlText(REPEATS)} || d.first
      FROM ${ctx.stage} s
      JOIN (SELECT ${keys.join(', ')}, min(row_no) AS first FROM ${ctx.stage}
             GROUP BY ${keys.join(', ')} HAVING count(*) > 1) d ON ${join}
     WHERE s.row_no <> d.first`;
}

/** A division code that names no division, or one abolished. */
export function divisionExists(ctx: MergeContext, column: string): string {
  return `INSERT INTO ${ctx.rejects} (row_no, field, reason)
    SELECT s.row_no, ${sqlText(column)},
           CASE WHEN d.code IS NULL THEN 'names no division of GB/T 2260'
                ELSE 'names a division abolished on ' || d.valid_to END
      FROM ${ctx.stage} s LEFT JOIN divisions d ON d.code = s.${column}
     WHERE s.${column} IS NOT NULL AND (d.code IS NULL OR d.valid_to IS NOT NULL)`;
}

/**
 * A staged person reference (`column`, holding the person's lookup key: the ID-number blind index when
 * encrypted) must name a living person of the population registry; refusals name `field`.
 */
export function livingPersonExists(ctx: MergeContext, field: string, column: string): string {
  const personKey = ctx.storage.compareColumn('persons', 'id_number');
  return `INSERT INTO ${ctx.rejects} (row_no, field, reason)
    SELECT s.row_no, ${sqlText(field)},
           CASE WHEN p.id IS NULL THEN 'names no person of the population registry'
                ELSE 'names a deceased person' END
      FROM ${ctx.stage} s LEFT JOIN persons p ON p.${personKey} = s.${column}
     WHERE s.${column} IS NOT NULL AND (p.id IS NULL OR p.status = 'deceased')`;
}

/** Fields a new record needs but the delivery did not supply (only rows whose key is new). */
export function requiredOnInsert(
  spec: RegistrySpec,
  ctx: MergeContext,
  presentInEveryRow: number,
): string | null {
  const missing = spec.columns.filter(
    (c) => c.requiredOnInsert && (presentInEveryRow & bitOf(spec, c.name)) === 0,
  );
  if (missing.length === 0) return null;
  const cases = missing.map((c) => `(NOT ${supplied(spec, c.name)}, ${sqlText(c.name)})`).join(', ');
  return `INSERT INTO ${ctx.rejects} (row_no, field, reason)
    SELECT s.row_no, v.field, 'is required for a new record'
      FROM ${ctx.stage} s CROSS JOIN LATERAL (VALUES ${cases}) v(hit, field)
     WHERE v.hit AND ${accepted(ctx)}
       AND NOT ${recordExists(spec, ctx)}`;
}

export const inScopeSql = (scope: JurisdictionScope, expr: string) =>
  `(${expr} BETWEEN ${sqlText(scope.lo)} AND ${sqlText(scope.hi)})`;

/**
 * A department writes only records of its jurisdiction: the record must belong to it before and after
 * the change (by any of `columns`: a person by registration or residence).
 */
export function withinJurisdiction(
  spec: RegistrySpec,
  ctx: MergeContext,
  columns: readonly string[],
): string | null {
  const scope = ctx.source.scope;
  if (!scope) return null;
  const after = columns
    .map((c) => inScopeSql(scope, `CASE WHEN ${supplied(spec, c)} THEN s.${c} ELSE t.${c} END`))
    .join(' OR ');
  const before = columns.map((c) => inScopeSql(scope, `t.${c}`)).join(' OR ');
  return `INSERT INTO ${ctx.rejects} (row_no, field, reason)
    SELECT s.row_no, ${sqlText(columns[0]!)},
           ${sqlText(`lies outside the jurisdiction of ${ctx.source.code} (${scope.code})`)}
      FROM ${ctx.stage} s LEFT JOIN ${spec.table} t ON ${spec.keyMatch(ctx)('t', 's')}
     WHERE ${accepted(ctx)} AND (NOT coalesce(${after}, false) OR (t.id IS NOT NULL AND NOT coalesce(${before}, false)))`;
}
