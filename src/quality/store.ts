import type { JurisdictionScope } from '../access/principal.ts';
import { groupByKey, type Queryable } from '../db/index.ts';
import type { GatewayContext } from '../gateway/context.ts';

/** Reads of runs, rule results and issues for the steward API; every list is bounded, every nested read batched. */

export interface RunRow {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  registryFilter: string | null;
  ruleFilter: string[] | null;
  divisionFilter: string | null;
  asOf: string;
  rules: number;
  rowsChecked: number;
  failures: number;
  exceeded: number;
  triggeredBy: string;
  error: string | null;
}

export interface RuleRow {
  id: string;
  registry: string;
  dataset: string;
  dimension: string;
  severity: string;
  threshold: number;
  description: string;
  kind: string;
  source: string;
  version: string;
}

export interface RuleResultRow {
  runId: number;
  ruleId: string;
  version: string;
  registry: string;
  dimension: string;
  severity: string;
  threshold: number;
  checked: number;
  failed: number;
  exceeded: boolean;
  durationMs: number;
}

export interface IssueRow {
  id: number;
  ruleId: string;
  dataset: string;
  recordKey: string;
  divisionCode: string | null;
  detail: string | null;
  status: string;
  firstSeenRun: number;
  lastSeenRun: number;
  firstSeenAt: string;
  updatedAt: string;
}

export interface IssueEventRow {
  id: number;
  issueId: number;
  fromStatus: string;
  status: string;
  comment: string | null;
  principal: string;
  departmentCode: string | null;
  at: string;
}

export interface FlagRow {
  personId: string;
  ruleId: string;
  dimension: string;
  severity: string;
  description: string;
  status: string;
  since: string;
}

export const RUN_COLUMNS = `r.id, r.started_at::text AS "startedAt", r.finished_at::text AS "finishedAt", r.status,
  r.registry_filter AS "registryFilter", r.rule_filter AS "ruleFilter", r.division_filter AS "divisionFilter",
  r.as_of AS "asOf", r.rules, r.rows_checked AS "rowsChecked", r.failures, r.exceeded, r.triggered_by AS "triggeredBy", r.error`;

export const ISSUE_COLUMNS = `i.id, i.rule_id AS "ruleId", i.dataset, i.record_key AS "recordKey", i.division_code AS "divisionCode",
  i.detail, i.status, i.first_seen_run AS "firstSeenRun", i.last_seen_run AS "lastSeenRun",
  i.first_seen_at::text AS "firstSeenAt", i.updated_at::text AS "updatedAt"`;

/** Issues a steward may see: all for a national steward, else those of divisions in their jurisdiction. */
export function issueScope(scope: JurisdictionScope | null, params: unknown[], alias = 'i'): string {
  if (!scope) return 'TRUE';
  params.push(scope.lo, scope.hi);
  return `${alias}.division_code BETWEEN $${params.length - 1} AND $${params.length}`;
}

export function ruleResultsByRun(ctx: GatewayContext) {
  return ctx.loaders.get<number, RuleResultRow[]>('quality.resultsByRun', async (runIds) => {
    const found = await ctx.db.query<RuleResultRow>(
      `SELECT run_id AS "runId", rule_id AS "ruleId", version, registry, dimension, severity, threshold::float8 AS threshold,
              checked, failed, exceeded, duration_ms AS "durationMs"
         FROM quality_run_rules WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, registry, rule_id`,
      [[...runIds]],
    );
    return groupByKey(runIds, found, (r) => Number(r.runId));
  });
}

export function ruleById(ctx: GatewayContext) {
  return ctx.loaders.get<string, RuleRow | null>('quality.ruleById', async (ids) => {
    const found = await ctx.db.query<RuleRow>(
      `SELECT id, registry, dataset, dimension, severity, threshold::float8 AS threshold, description, kind, source, version
         FROM quality_rules WHERE id = ANY($1::text[])`,
      [[...ids]],
    );
    const byId = new Map(found.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

export function eventsByIssue(ctx: GatewayContext) {
  return ctx.loaders.get<number, IssueEventRow[]>('quality.eventsByIssue', async (issueIds) => {
    const found = await ctx.db.query<IssueEventRow>(
      `SELECT id, issue_id AS "issueId", from_status AS "fromStatus", status, comment, principal,
              department_code AS "departmentCode", at::text AS at
         FROM quality_issue_events WHERE issue_id = ANY($1::bigint[]) ORDER BY issue_id, id`,
      [[...issueIds]],
    );
    return groupByKey(issueIds, found, (e) => Number(e.issueId));
  });
}

/** Open or acknowledged issues of persons, with their rule's metadata (no detail). */
export function flagsByPerson(ctx: GatewayContext) {
  return ctx.loaders.get<string, FlagRow[]>('quality.flagsByPerson', async (personIds) => {
    const found = await ctx.db.query<FlagRow>(
      `SELECT i.record_key AS "personId", i.rule_id AS "ruleId", r.dimension, r.severity, r.description, i.status,
              i.first_seen_at::text AS since
         FROM quality_issues i JOIN quality_rules r ON r.id = i.rule_id
        WHERE i.dataset = 'population.persons' AND i.record_key = ANY($1::text[])
          AND i.status IN ('open', 'acknowledged')
        ORDER BY i.record_key, i.rule_id`,
      [[...personIds]],
    );
    return groupByKey(personIds, found, (f) => f.personId);
  });
}

/** Sets an issue's status and logs who did it, when and why, in one transaction; null if not visible. */
export async function updateIssueStatus(
  db: { transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> },
  input: {
    id: number;
    status: string;
    comment: string | null;
    principal: string;
    departmentCode: string | null;
    scope: JurisdictionScope | null;
  },
): Promise<IssueRow | null> {
  return db.transaction(async (tx) => {
    const params: unknown[] = [input.id];
    const scope = issueScope(input.scope, params);
    const [current] = await tx.query<{ status: string }>(
      `SELECT i.status FROM quality_issues i WHERE i.id = $1 AND ${scope} FOR UPDATE`,
      params,
    );
    if (!current) return null;
    await tx.query(
      `INSERT INTO quality_issue_events (issue_id, from_status, status, comment, principal, department_code)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [input.id, current.status, input.status, input.comment, input.principal, input.departmentCode],
    );
    const [updated] = await tx.query<IssueRow>(
      `UPDATE quality_issues i SET status = $2, updated_at = now() WHERE i.id = $1 RETURNING ${ISSUE_COLUMNS}`,
      [input.id, input.status],
    );
    return updated ?? null;
  });
}
