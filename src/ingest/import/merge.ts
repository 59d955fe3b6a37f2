import { bitOf, entryOf, type MergeContext, mergeFragments, type RegistrySpec } from './spec.ts';

/**
 * The merge statements shared by the registries: the conflict policy (authority per field), the update of
 * records that really changed, and the insert of new ones, each writing lineage in the same statement.
 * History and the change log are written by the registry tables' triggers.
 */

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function count(ctx: MergeContext, text: string, params: unknown[]): Promise<number> {
  const [row] = await ctx.db.query<{ n: number }>(text, params);
  return Number(row?.n ?? 0);
}

/**
 * The conflict policy: a field whose catalogue entry names an authoritative kind of department may be
 * changed only by a department of that kind. A delivery from another kind that would change a value the
 * registry holds is refused, row by row, naming the field. Filling a field the registry lacks is allowed.
 */
export async function rejectLowerAuthority(spec: RegistrySpec, ctx: MergeContext): Promise<number> {
  const cases: string[] = [];
  for (const target of spec.targets) {
    const authority = entryOf(spec, target).authority;
    if (!authority || authority === ctx.source.kind) continue;
    const cmp = ctx.storage.compareColumn(spec.table, target.column);
    const reason =
      `may be changed only by a ${authority} department, its authoritative source ` +
      `(${ctx.source.code} is ${ctx.source.kind})`;
    cases.push(
      `((r.present & ${bitOf(spec, target.from)}::bigint) <> 0 AND t.${cmp} IS NOT NULL ` +
        `AND r.${cmp} IS DISTINCT FROM t.${cmp}, ${quote(target.from)}, ${quote(reason)})`,
    );
  }
  if (cases.length === 0) return 0;
  return count(
    ctx,
    `WITH refused AS (
       INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT DISTINCT r.row_no, v.field, v.reason
         FROM (${spec.resolved(ctx)}) r
         JOIN ${spec.table} t ON ${spec.keyMatch(ctx)('t', 'r')}
        CROSS JOIN LATERAL (VALUES ${cases.join(', ')}) v(hit, field, reason)
        WHERE v.hit
       RETURNING row_no)
     SELECT count(DISTINCT row_no)::int AS n FROM refused`,
    [],
  );
}

export interface MergeOptions {
  /** The table carries a version column (bumped by its history trigger). */
  versioned: boolean;
}

/** Updates the records whose supplied values really differ; returns how many changed. */
export async function updateChanged(
  spec: RegistrySpec,
  ctx: MergeContext,
  options: MergeOptions,
): Promise<number> {
  const m = mergeFragments(spec, ctx.storage);
  return count(
    ctx,
    `WITH upd AS (
       UPDATE ${spec.table} t SET ${m.set}, updated_at = now(), source_dept = $1, source_batch = $2
         FROM (${spec.resolved(ctx)}) r
        WHERE ${spec.keyMatch(ctx)('t', 'r')} AND (${m.changed})
          -- not a record this very merge has just inserted (its defaults would read as changes)
          AND t.source_batch IS DISTINCT FROM $2
       RETURNING t.id, ${options.versioned ? 't.version' : 'NULL::int AS version'}, r.row_no),
     lin AS (
       INSERT INTO import_lineage (batch_id, row_no, record_type, record_id, version, action)
       SELECT $2, row_no, ${quote(spec.recordType)}, id, version, 'updated' FROM upd
       RETURNING 1)
     SELECT count(*)::int AS n FROM lin`,
    [ctx.source.code, ctx.batchId],
  );
}

/**
 * Inserts the accepted rows whose key the registry does not hold (and that satisfy `where`, SQL over the
 * resolved row r); returns how many. The new ids are drawn before the insert, so lineage is written from
 * the same materialised rows instead of joining the inserted records back to their rows by key.
 */
export async function insertNew(
  spec: RegistrySpec,
  ctx: MergeContext,
  options: MergeOptions & { where?: string },
): Promise<number> {
  const m = mergeFragments(spec, ctx.storage);
  const keyColumns = spec.key.map((k) => ctx.storage.compareColumn(spec.table, k));
  const match = spec.keyMatch(ctx);
  return count(
    ctx,
    `WITH fresh AS MATERIALIZED (
       SELECT r.*, nextval(pg_get_serial_sequence(${quote(spec.table)}, 'id')) AS new_id
         FROM (${spec.resolved(ctx)}) r
        WHERE NOT EXISTS (SELECT 1 FROM ${spec.table} t WHERE ${match('t', 'r')})
              ${options.where ? `AND (${options.where})` : ''}
        -- In key order: the unique key index (a blind index is a random HMAC) then grows page by page
        -- instead of touching a random leaf per row, which at a million rows costs more than the sort.
        ORDER BY ${keyColumns.map((k) => `r.${k}`).join(', ')}),
     ins AS (
       INSERT INTO ${spec.table} (id, ${m.insertColumns}, source_dept, source_batch)
       SELECT r.new_id, ${m.insertValues}, $1, $2 FROM fresh r
       RETURNING 1),
     lin AS (
       INSERT INTO import_lineage (batch_id, row_no, record_type, record_id, version, action)
       SELECT $2, row_no, ${quote(spec.recordType)}, new_id, ${options.versioned ? '1' : 'NULL::int'}, 'inserted'
         FROM fresh
       RETURNING 1)
     SELECT (SELECT count(*) FROM ins)::int AS n, (SELECT count(*) FROM lin)::int AS lineage`,
    [ctx.source.code, ctx.batchId],
  );
}
