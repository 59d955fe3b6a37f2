import type { Database, Queryable } from '../db/index.ts';
import {
  bindAsOf,
  type ManualTag,
  RULE_TAGS,
  type RuleTag,
  TAGS,
  type TagDefinition,
} from './definitions.ts';
import { REGISTRIES } from './registries.ts';

/**
 * Writes of tags: the definitions, set-based recomputes of rule tags, and manual assignments. Every write
 * keeps history: an assignment that stops applying is closed (`valid_to`), never deleted.
 */

/** Writes the declared definitions to `tags` (idempotent); the last-applied rule columns are kept. */
export async function syncTagDefinitions(db: Queryable, definitions: readonly TagDefinition[] = TAGS) {
  await db.query(
    `INSERT INTO tags (code, name, description, registry, owner_dept, level, share, mask, kind)
     SELECT code, name, description, registry, owner_dept, level, share, mask, kind
       FROM jsonb_to_recordset($1::jsonb) AS t(code text, name text, description text, registry text,
            owner_dept text, level text, share text, mask text, kind text)
     ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
            registry = EXCLUDED.registry, owner_dept = EXCLUDED.owner_dept, level = EXCLUDED.level,
            share = EXCLUDED.share, mask = EXCLUDED.mask, kind = EXCLUDED.kind, updated_at = now()
      WHERE (tags.name, tags.description, tags.registry, tags.owner_dept, tags.level, tags.share, tags.mask, tags.kind)
            IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.registry, EXCLUDED.owner_dept,
            EXCLUDED.level, EXCLUDED.share, EXCLUDED.mask, EXCLUDED.kind)`,
    [
      JSON.stringify(
        definitions.map((t) => ({
          code: t.code,
          name: t.name,
          description: t.description,
          registry: t.registry,
          owner_dept: t.owner,
          level: t.level,
          share: t.share,
          mask: t.mask,
          kind: t.kind,
        })),
      ),
    ],
  );
}

/** `SELECT r.id FROM <table> r WHERE (<predicate>)`, `:as_of` bound to `$n`. */
export function matchSql(tag: RuleTag, asOfParameter = 1): string {
  const { table } = REGISTRIES[tag.registry];
  return `SELECT r.id FROM ${table} r WHERE (${bindAsOf(tag.predicate, asOfParameter)})`;
}

/**
 * The bare predicate as a count: the baseline the recompute is measured against. The reference date is
 * a parameter only when the predicate uses it.
 */
export function countStatement(tag: RuleTag, asOf: string): { text: string; params: unknown[] } {
  const { table } = REGISTRIES[tag.registry];
  const predicate = bindAsOf(tag.predicate, 1);
  return {
    text: `SELECT count(*)::bigint AS n FROM ${table} r WHERE (${predicate})`,
    params: predicate.includes('$1') ? [asOf] : [],
  };
}

export interface RecomputeResult {
  code: string;
  version: string;
  asOf: string;
  matched: number;
  opened: number;
  closed: number;
  durationMs: number;
}

/**
 * Recomputes one rule tag, set-based, in one transaction: one statement closes the current assignments
 * that no longer match (one UPDATE) and opens the matches that have none (one INSERT … SELECT), over the
 * predicate's matches materialised once; only changed assignments move. A transaction-scoped advisory lock per tag keeps two recomputes
 * of the same tag from racing. Assignments that still match keep the rule version that opened them.
 */
export async function recomputeTag(
  db: Database,
  tag: RuleTag,
  options: { asOf: string; triggeredBy: string },
): Promise<RecomputeResult> {
  const started = performance.now();
  const rule = `rule:${tag.code}@${tag.version}`;
  const result = await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('govbase.tag:' || $1))`, [tag.code]);
    // The matches and the current assignments meet in one FULL JOIN: only a hash or merge join can run
    // it, so the cost stays linear even when the statistics of tag_assignments are stale (right after a
    // first recompute filled it), where an anti join would be planned as a nested loop.
    const [counts] = await tx.query<{ matched: number; opened: number; closed: number }>(
      `WITH m AS MATERIALIZED (${matchSql(tag, 1)}),
       cur AS MATERIALIZED (
         SELECT a.id, a.record_id FROM tag_assignments a WHERE a.tag_code = $2 AND a.valid_to IS NULL),
       diff AS MATERIALIZED (
         SELECT m.id AS record_id, cur.id AS assignment_id
           FROM m FULL JOIN cur ON cur.record_id = m.id
          WHERE m.id IS NULL OR cur.id IS NULL),
       closed AS (
         UPDATE tag_assignments a SET valid_to = now(), closed_by = $4,
                close_reason = 'no longer matches as of ' || $1::date::text
           FROM diff WHERE diff.record_id IS NULL AND a.id = diff.assignment_id
         RETURNING 1),
       opened AS (
         INSERT INTO tag_assignments (tag_code, registry, record_id, valid_from, rule_version, as_of, assigned_by)
         SELECT $2, $5, diff.record_id, now(), $3, $1::date, $4 FROM diff WHERE diff.assignment_id IS NULL
         RETURNING 1)
       SELECT (SELECT count(*) FROM m)::bigint AS matched, (SELECT count(*) FROM opened)::bigint AS opened,
              (SELECT count(*) FROM closed)::bigint AS closed`,
      [options.asOf, tag.code, tag.version, rule, tag.registry],
    );
    const durationMs = Math.round(performance.now() - started);
    await tx.query(
      `UPDATE tags SET rule_version = $2, rule_predicate = $3, recomputed_at = now(), recomputed_as_of = $4::date
        WHERE code = $1`,
      [tag.code, tag.version, tag.predicate, options.asOf],
    );
    await tx.query(
      `INSERT INTO tag_runs (tag_code, rule_version, as_of, duration_ms, matched, opened, closed, triggered_by)
       VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8)`,
      [
        tag.code,
        tag.version,
        options.asOf,
        durationMs,
        counts!.matched,
        counts!.opened,
        counts!.closed,
        options.triggeredBy,
      ],
    );
    return { ...counts!, durationMs };
  });
  return {
    code: tag.code,
    version: tag.version,
    asOf: options.asOf,
    matched: Number(result.matched),
    opened: Number(result.opened),
    closed: Number(result.closed),
    durationMs: Math.round(performance.now() - started),
  };
}

export class TagError extends Error {
  constructor(
    readonly reason:
      | 'unknown_tag'
      | 'not_a_rule'
      | 'not_manual'
      | 'already_assigned'
      | 'not_assigned'
      | 'no_record',
    message: string,
  ) {
    super(message);
    this.name = 'TagError';
  }
}

/** Recomputes the named rule tags (all when none are named), one transaction each. */
export async function recomputeTags(
  db: Database,
  options: { codes?: readonly string[]; asOf: string; triggeredBy: string },
): Promise<RecomputeResult[]> {
  const wanted = options.codes?.length ? options.codes : RULE_TAGS.map((t) => t.code);
  const selected = wanted.map((code) => {
    const tag = TAGS.find((t) => t.code === code);
    if (!tag) throw new TagError('unknown_tag', `tag '${code}' is not defined`);
    if (tag.kind !== 'rule') throw new TagError('not_a_rule', `tag '${code}' is manual, not a rule tag`);
    return tag;
  });
  await syncTagDefinitions(db);
  const results: RecomputeResult[] = [];
  for (const tag of selected) results.push(await recomputeTag(db, tag, options));
  return results;
}

export interface AssignmentRow {
  id: number;
  tagCode: string;
  registry: string;
  recordId: number;
  validFrom: string;
  validTo: string | null;
  ruleVersion: string | null;
  asOf: string | null;
  assignedBy: string;
  assignerDept: string | null;
  reason: string | null;
  closedBy: string | null;
  closeReason: string | null;
}

export const ASSIGNMENT_COLUMNS = `a.id, a.tag_code AS "tagCode", a.registry, a.record_id AS "recordId",
  to_char(a.valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "validFrom",
  to_char(a.valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "validTo",
  a.rule_version AS "ruleVersion", a.as_of AS "asOf", a.assigned_by AS "assignedBy",
  a.assigner_dept AS "assignerDept", a.reason, a.closed_by AS "closedBy", a.close_reason AS "closeReason"`;

export interface Assigner {
  principal: string;
  department: string | null;
}

/**
 * Assigns a manual tag to a record with a reason. `validFrom` (a date, not in the future) states since when
 * the tag applies; default now. A record already carrying the tag is an error, not a silent second row.
 */
export async function assignTag(
  db: Database,
  input: { tag: ManualTag; recordId: number; reason: string; validFrom?: string | null; by: Assigner },
): Promise<AssignmentRow> {
  const { tag } = input;
  await syncTagDefinitions(db, [tag]);
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('govbase.tag:' || $1))`, [tag.code]);
    const [record] = await tx.query(`SELECT 1 FROM ${REGISTRIES[tag.registry].table} WHERE id = $1`, [
      input.recordId,
    ]);
    if (!record) throw new TagError('no_record', `no ${tag.registry} with id ${input.recordId}`);
    const [current] = await tx.query(
      'SELECT 1 FROM tag_assignments WHERE tag_code = $1 AND record_id = $2 AND valid_to IS NULL',
      [tag.code, input.recordId],
    );
    if (current)
      throw new TagError(
        'already_assigned',
        `${tag.registry} ${input.recordId} already carries '${tag.code}'`,
      );
    const [row] = await tx.query<AssignmentRow>(
      `INSERT INTO tag_assignments AS a (tag_code, registry, record_id, valid_from, assigned_by, assigner_dept, reason)
       VALUES ($1, $2, $3, COALESCE($4::date::timestamptz, now()), $5, $6, $7)
       RETURNING ${ASSIGNMENT_COLUMNS}`,
      [
        tag.code,
        tag.registry,
        input.recordId,
        input.validFrom ?? null,
        input.by.principal,
        input.by.department,
        input.reason,
      ],
    );
    return row!;
  });
}

/** Ends a manual tag's current assignment: the row is closed with who and why, and stays as history. */
export async function endTag(
  db: Database,
  input: { tag: ManualTag; recordId: number; reason: string; by: Assigner },
): Promise<AssignmentRow> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('govbase.tag:' || $1))`, [input.tag.code]);
    const [row] = await tx.query<AssignmentRow>(
      `UPDATE tag_assignments a SET valid_to = now(), closed_by = $3, close_reason = $4
        WHERE a.tag_code = $1 AND a.record_id = $2 AND a.valid_to IS NULL
       RETURNING ${ASSIGNMENT_COLUMNS}`,
      [input.tag.code, input.recordId, input.by.principal, input.reason],
    );
    if (!row)
      throw new TagError(
        'not_assigned',
        `${input.tag.registry} ${input.recordId} does not carry '${input.tag.code}'`,
      );
    return row;
  });
}
