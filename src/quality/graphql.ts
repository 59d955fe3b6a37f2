import { qualityIssuesDataset } from '../../schema/quality.ts';
import { errors, GovError } from '../errors.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../gateway/pagination.ts';
import { PersonRef } from '../registries/population/person-types.ts';
import {
  eventsByIssue,
  type FlagRow,
  flagsByPerson,
  ISSUE_COLUMNS,
  type IssueEventRow,
  type IssueRow,
  issueScope,
  RUN_COLUMNS,
  type RuleResultRow,
  type RuleRow,
  type RunRow,
  ruleById,
  ruleResultsByRun,
  updateIssueStatus,
} from './store.ts';

/**
 * The steward API of the quality passes: runs, scores, rule results and issues, and the status of an
 * issue. These types declare no dataset: like the data subject's access report, they are decided by
 * role, not by grants — the caller needs the role 'steward' (FORBIDDEN otherwise), and a steward bound to
 * a jurisdiction sees only issues of divisions inside it. The records' own values never appear: issues
 * carry internal keys and details masked when the run wrote them.
 *
 * Consumers see `Person.qualityFlags` on the person rows they may read anyway (classified by the
 * derived entry `personFlags` of governance.quality_issues).
 */

type ConnectionArgs = {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
};

function requireSteward(ctx: GatewayContext, field: string): void {
  if (!ctx.access.principal.roles.has('steward')) {
    throw new GovError('FORBIDDEN', `${field} is for data stewards (role 'steward')`);
  }
  ctx.access.noteField(field, { kind: 'allow' });
}

function noteRows(ctx: GatewayContext, type: string, n: number): void {
  ctx.access.report.rows[type] = (ctx.access.report.rows[type] ?? 0) + n;
}

function parseId(value: string | number, argument: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 1)
    throw errors.invalidArgument(argument, `must be a positive integer id, got '${value}'`);
  return id;
}

function page<T>(found: T[], first: number, cursor: (row: T) => string, after: boolean) {
  const hasNextPage = found.length > first;
  const nodes = hasNextPage ? found.slice(0, first) : found;
  return {
    edges: nodes.map((node) => ({ cursor: cursor(node), node })),
    pageInfo: {
      hasNextPage,
      hasPreviousPage: after,
      startCursor: nodes[0] ? cursor(nodes[0]) : null,
      endCursor: nodes.at(-1) ? cursor(nodes.at(-1)!) : null,
    },
  };
}

const enumValues = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v }])) as Record<
    Uppercase<T>,
    { value: T }
  >;

export const QualityDimension = builder.enumType('QualityDimension', {
  description: 'GB/T 36344-2018 data-quality dimensions, plus record uniqueness',
  values: enumValues([
    'normative',
    'completeness',
    'accuracy',
    'consistency',
    'timeliness',
    'accessibility',
    'uniqueness',
  ] as const),
});
export const QualitySeverity = builder.enumType('QualitySeverity', {
  description: 'error: over its threshold the run fails; warn: reported only',
  values: enumValues(['error', 'warn'] as const),
});
export const QualityRunStatus = builder.enumType('QualityRunStatus', {
  values: enumValues(['running', 'passed', 'failed', 'error'] as const),
});
export const QualityIssueStatus = builder.enumType('QualityIssueStatus', {
  values: enumValues(['open', 'acknowledged', 'fixed', 'false_positive', 'resolved'] as const),
});
export const QualityIssueResolution = builder.enumType('QualityIssueResolution', {
  description: 'What a steward may set: RESOLVED is set only by a run that no longer finds the issue',
  values: enumValues(['acknowledged', 'fixed', 'false_positive'] as const),
});
const QualityGrouping = builder.enumType('QualityGrouping', {
  values: {
    RULE: { value: 'rule' },
    PROVINCE: { value: 'province' },
    COUNTY: { value: 'county' },
  } as const,
});

interface Score {
  registry: string;
  dimension: string;
  checked: number;
  passed: number;
}

const QualityRuleRef = builder.objectRef<RuleRow>('QualityRule');
QualityRuleRef.implement({
  description: 'A data-quality rule as it last ran',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    registry: t.exposeString('registry', { nullable: false }),
    dataset: t.exposeString('dataset', {
      nullable: false,
      description: 'Dataset whose records the rule checks',
    }),
    dimension: t.field({ type: QualityDimension, nullable: false, resolve: (r) => r.dimension as never }),
    severity: t.field({ type: QualitySeverity, nullable: false, resolve: (r) => r.severity as never }),
    threshold: t.exposeFloat('threshold', {
      nullable: false,
      description: 'Largest acceptable failure rate',
    }),
    description: t.exposeString('description', { nullable: false }),
    kind: t.exposeString('kind', { nullable: false, description: 'sql (set-based) or code (streamed)' }),
    source: t.exposeString('source', { nullable: false, description: 'Built-in module or rule file' }),
    version: t.exposeString('version', { nullable: false }),
  }),
});

const QualityRuleResultRef = builder.objectRef<RuleResultRow>('QualityRuleResult');
QualityRuleResultRef.implement({
  description: 'What one rule found in one run',
  fields: (t) => ({
    ruleId: t.exposeID('ruleId', { nullable: false }),
    rule: t.field({
      type: QualityRuleRef,
      nullable: true,
      resolve: (r, _a, ctx) => ruleById(ctx).load(r.ruleId),
    }),
    version: t.exposeString('version', { nullable: false, description: 'Rule version that ran' }),
    registry: t.exposeString('registry', { nullable: false }),
    dimension: t.field({ type: QualityDimension, nullable: false, resolve: (r) => r.dimension as never }),
    severity: t.field({ type: QualitySeverity, nullable: false, resolve: (r) => r.severity as never }),
    threshold: t.exposeFloat('threshold', { nullable: false }),
    checked: t.float({ nullable: false, resolve: (r) => Number(r.checked) }),
    failed: t.float({ nullable: false, resolve: (r) => Number(r.failed) }),
    failureRate: t.float({
      nullable: false,
      resolve: (r) => (Number(r.checked) > 0 ? Number(r.failed) / Number(r.checked) : 0),
    }),
    exceeded: t.exposeBoolean('exceeded', {
      nullable: false,
      description: 'Failure rate over the threshold',
    }),
    durationMs: t.exposeInt('durationMs', { nullable: false }),
  }),
});

const QualityScoreRef = builder.objectRef<Score>('QualityScore');
QualityScoreRef.implement({
  description: 'Passed / checked records of a registry in a dimension, summed over the rules of a run',
  fields: (t) => ({
    registry: t.exposeString('registry', { nullable: false }),
    dimension: t.field({ type: QualityDimension, nullable: false, resolve: (s) => s.dimension as never }),
    checked: t.exposeFloat('checked', { nullable: false }),
    passed: t.exposeFloat('passed', { nullable: false }),
    score: t.float({ nullable: true, resolve: (s) => (s.checked > 0 ? s.passed / s.checked : null) }),
  }),
});

function scoresOf(results: readonly RuleResultRow[]): Score[] {
  const scores = new Map<string, Score>();
  for (const r of results) {
    const key = `${r.registry}\u0000${r.dimension}`;
    const s = scores.get(key) ?? { registry: r.registry, dimension: r.dimension, checked: 0, passed: 0 };
    s.checked += Number(r.checked);
    s.passed += Number(r.checked) - Number(r.failed);
    scores.set(key, s);
  }
  return [...scores.values()];
}

const QualityRunRef = builder.objectRef<RunRow>('QualityRun');
QualityRunRef.implement({
  description: 'One run of the data-quality passes',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    startedAt: t.field({ type: 'DateTime', nullable: false, resolve: (r) => r.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.finishedAt }),
    status: t.field({ type: QualityRunStatus, nullable: false, resolve: (r) => r.status as never }),
    asOf: t.field({ type: 'Date', nullable: false, resolve: (r) => r.asOf }),
    registryFilter: t.exposeString('registryFilter', { nullable: true }),
    ruleFilter: t.exposeStringList('ruleFilter', { nullable: true }),
    divisionFilter: t.exposeString('divisionFilter', { nullable: true }),
    rules: t.exposeInt('rules', { nullable: false, description: 'Rules run' }),
    rowsChecked: t.float({ nullable: false, resolve: (r) => Number(r.rowsChecked) }),
    failures: t.float({ nullable: false, resolve: (r) => Number(r.failures) }),
    exceeded: t.exposeInt('exceeded', { nullable: false, description: 'Rules over their threshold' }),
    triggeredBy: t.exposeString('triggeredBy', { nullable: false }),
    error: t.exposeString('error', { nullable: true }),
    results: t.field({
      type: [QualityRuleResultRef],
      nullable: false,
      resolve: (r, _a, ctx) => ruleResultsByRun(ctx).load(Number(r.id)),
    }),
    scores: t.field({
      type: [QualityScoreRef],
      nullable: false,
      resolve: async (r, _a, ctx) => scoresOf(await ruleResultsByRun(ctx).load(Number(r.id))),
    }),
  }),
});

const QualityIssueEventRef = builder.objectRef<IssueEventRow>('QualityIssueEvent');
QualityIssueEventRef.implement({
  description: 'A status change of an issue: who, when, why',
  fields: (t) => ({
    fromStatus: t.field({ type: QualityIssueStatus, nullable: false, resolve: (e) => e.fromStatus as never }),
    status: t.field({ type: QualityIssueStatus, nullable: false, resolve: (e) => e.status as never }),
    comment: t.exposeString('comment', { nullable: true }),
    principal: t.exposeString('principal', {
      nullable: false,
      description: "The principal's id (or system:quality)",
    }),
    departmentCode: t.exposeString('departmentCode', { nullable: true }),
    at: t.field({ type: 'DateTime', nullable: false, resolve: (e) => e.at }),
  }),
});

const QualityIssueRef = builder.objectRef<IssueRow>('QualityIssue');
QualityIssueRef.implement({
  description: 'A record failing a rule, across runs, and its handling',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    ruleId: t.exposeString('ruleId', { nullable: false }),
    rule: t.field({
      type: QualityRuleRef,
      nullable: true,
      resolve: (i, _a, ctx) => ruleById(ctx).load(i.ruleId),
    }),
    dataset: t.exposeString('dataset', { nullable: false }),
    recordKey: t.exposeString('recordKey', { nullable: false, description: 'Internal key of the record' }),
    divisionCode: t.exposeString('divisionCode', { nullable: true }),
    detail: t.exposeString('detail', { nullable: true, description: 'What is wrong; values masked' }),
    status: t.field({ type: QualityIssueStatus, nullable: false, resolve: (i) => i.status as never }),
    firstSeenRun: t.exposeID('firstSeenRun', { nullable: false }),
    lastSeenRun: t.exposeID('lastSeenRun', { nullable: false }),
    firstSeenAt: t.field({ type: 'DateTime', nullable: false, resolve: (i) => i.firstSeenAt }),
    updatedAt: t.field({ type: 'DateTime', nullable: false, resolve: (i) => i.updatedAt }),
    history: t.field({
      type: [QualityIssueEventRef],
      nullable: false,
      resolve: (i, _a, ctx) => eventsByIssue(ctx).load(Number(i.id)),
    }),
  }),
});

const QualityIssueCountRef = builder.objectRef<{ key: string; name: string | null; count: number }>(
  'QualityIssueCount',
);
QualityIssueCountRef.implement({
  fields: (t) => ({
    key: t.exposeString('key', { nullable: false, description: 'Rule id or division code' }),
    name: t.exposeString('name', { nullable: true, description: 'Division name' }),
    count: t.float({ nullable: false, resolve: (c) => Number(c.count) }),
  }),
});

const QualityFlagRef = builder.objectRef<FlagRow>('QualityFlag');
QualityFlagRef.implement({
  description: 'An open data-quality issue on a record: which check it fails, not the values',
  fields: (t) => ({
    ruleId: t.exposeString('ruleId', { nullable: false }),
    dimension: t.field({ type: QualityDimension, nullable: false, resolve: (f) => f.dimension as never }),
    severity: t.field({ type: QualitySeverity, nullable: false, resolve: (f) => f.severity as never }),
    description: t.exposeString('description', { nullable: false, description: 'What the rule checks' }),
    status: t.field({ type: QualityIssueStatus, nullable: false, resolve: (f) => f.status as never }),
    since: t.field({ type: 'DateTime', nullable: false, resolve: (f) => f.since }),
  }),
});

builder.objectField(PersonRef, 'qualityFlags', (t) =>
  t.field({
    type: [QualityFlagRef],
    nullable: false,
    description: 'Open data-quality issues of this record (rule and severity; no values)',
    access: { dataset: qualityIssuesDataset, field: 'personFlags' },
    resolve: (p, _a, ctx) => flagsByPerson(ctx).load(String(p.id)),
  }),
);

const QualityRunConnection = builder.connectionObject({ type: QualityRunRef, name: 'QualityRunConnection' });

builder.queryField('qualityRuns', (t) =>
  t.connection(
    {
      type: QualityRunRef,
      description: 'Runs of the data-quality passes, newest first (stewards)',
      resolve: async (_root, args: ConnectionArgs, ctx) => {
        requireSteward(ctx, 'Query.qualityRuns');
        const first = pageSize(args, ctx.config.maxPageSize);
        const before = args.after ? decodeCursor(args.after, 'after', 'qr') : null;
        const found = await ctx.db.query<RunRow>(
          `SELECT ${RUN_COLUMNS} FROM quality_runs r ${before === null ? '' : 'WHERE r.id < $2'} ORDER BY r.id DESC LIMIT $1`,
          before === null ? [first + 1] : [first + 1, before],
        );
        noteRows(ctx, 'QualityRun', Math.min(found.length, first));
        return page(found, first, (r) => encodeCursor('qr', Number(r.id)), before !== null);
      },
    },
    QualityRunConnection,
  ),
);

builder.queryField('qualityRun', (t) =>
  t.field({
    type: QualityRunRef,
    nullable: true,
    description: 'A run by id, or the latest finished run when no id is given (stewards)',
    args: { id: t.arg.id({ required: false }) },
    resolve: async (_root, args, ctx) => {
      requireSteward(ctx, 'Query.qualityRun');
      const [run] =
        args.id === null || args.id === undefined
          ? await ctx.db.query<RunRow>(
              `SELECT ${RUN_COLUMNS} FROM quality_runs r WHERE r.status IN ('passed', 'failed') ORDER BY r.id DESC LIMIT 1`,
            )
          : await ctx.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM quality_runs r WHERE r.id = $1`, [
              parseId(args.id, 'id'),
            ]);
      noteRows(ctx, 'QualityRun', run ? 1 : 0);
      return run ?? null;
    },
  }),
);

builder.queryField('qualityRules', (t) =>
  t.field({
    type: [QualityRuleRef],
    nullable: false,
    description: 'Every rule that has run, with its metadata (stewards)',
    resolve: async (_root, _args, ctx) => {
      requireSteward(ctx, 'Query.qualityRules');
      return ctx.db.query<RuleRow>(
        `SELECT id, registry, dataset, dimension, severity, threshold::float8 AS threshold, description, kind, source, version
           FROM quality_rules ORDER BY registry, id`,
      );
    },
  }),
);

const QualityIssueFilter = builder.inputType('QualityIssueFilter', {
  fields: (t) => ({
    ruleId: t.string({ description: 'Issues of this rule' }),
    registry: t.string({ description: 'Issues of rules of this registry' }),
    divisionCode: t.string({ description: 'Issues of records in this division subtree' }),
    status: t.field({
      type: [QualityIssueStatus],
      description: 'Any of these statuses; default OPEN and ACKNOWLEDGED',
    }),
    runId: t.id({ description: 'Only issues found by this run' }),
  }),
});

interface IssueFilterValue {
  ruleId?: string | null;
  registry?: string | null;
  divisionCode?: string | null;
  status?: readonly string[] | null;
  runId?: string | number | null;
}

/** WHERE conditions of an issue filter, plus the jurisdiction; parameters appended. */
async function issueConditions(
  ctx: GatewayContext,
  filter: IssueFilterValue | null | undefined,
  params: unknown[],
) {
  const conditions = [issueScope(ctx.access.principal.scope, params)];
  const statuses = filter?.status && filter.status.length > 0 ? filter.status : ['open', 'acknowledged'];
  params.push([...statuses]);
  conditions.push(`i.status = ANY($${params.length}::text[])`);
  if (filter?.ruleId) {
    params.push(filter.ruleId);
    conditions.push(`i.rule_id = $${params.length}`);
  }
  if (filter?.registry) {
    params.push(filter.registry);
    conditions.push(`i.rule_id IN (SELECT id FROM quality_rules WHERE registry = $${params.length})`);
  }
  if (filter?.divisionCode) {
    const [division] = await ctx.db.query<{ prefix: string }>(
      'SELECT prefix FROM divisions WHERE code = $1',
      [filter.divisionCode.trim()],
    );
    if (!division) {
      throw errors.invalidDivisionCode('filter.divisionCode', filter.divisionCode, 'no such division');
    }
    params.push(division.prefix, division.prefix + '9'.repeat(12 - division.prefix.length));
    conditions.push(`i.division_code BETWEEN $${params.length - 1} AND $${params.length}`);
  }
  if (filter?.runId !== null && filter?.runId !== undefined) {
    params.push(parseId(filter.runId, 'filter.runId'));
    conditions.push(
      `EXISTS (SELECT 1 FROM quality_failures f WHERE f.run_id = $${params.length} AND f.rule_id = i.rule_id AND f.record_key = i.record_key)`,
    );
  }
  return conditions.join(' AND ');
}

builder.queryField('qualityIssues', (t) =>
  t.connection(
    {
      type: QualityIssueRef,
      description:
        'Issues (failing records across runs) by rule, registry, division, status or run, in id order (stewards)',
      args: { filter: t.arg({ type: QualityIssueFilter }) },
      resolve: async (_root, args, ctx) => {
        requireSteward(ctx, 'Query.qualityIssues');
        const first = pageSize(args, ctx.config.maxPageSize);
        const afterId = args.after ? decodeCursor(args.after, 'after', 'qi') : 0;
        const params: unknown[] = [];
        const where = await issueConditions(ctx, args.filter, params);
        const countParams = [...params];
        params.push(afterId, first + 1);
        const found = await ctx.db.query<IssueRow>(
          `SELECT ${ISSUE_COLUMNS} FROM quality_issues i WHERE ${where} AND i.id > $${params.length - 1}
            ORDER BY i.id LIMIT $${params.length}`,
          params,
        );
        noteRows(ctx, 'QualityIssue', Math.min(found.length, first));
        let total: Promise<number> | undefined;
        return {
          ...page(found, first, (i) => encodeCursor('qi', Number(i.id)), afterId > 0),
          totalCount: () => {
            total ??= ctx.db
              .query<{ n: number }>(
                `SELECT count(*)::bigint AS n FROM quality_issues i WHERE ${where}`,
                countParams,
              )
              .then((r) => Number(r[0]?.n ?? 0));
            return total;
          },
        };
      },
    },
    {
      name: 'QualityIssueConnection',
      fields: (c) => ({
        totalCount: c.float({
          nullable: false,
          description: 'How many issues match, across all pages',
          resolve: (connection) =>
            (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
        }),
      }),
    },
  ),
);

builder.queryField('qualityIssueSummary', (t) =>
  t.field({
    type: [QualityIssueCountRef],
    nullable: false,
    description: 'Issue counts by rule, province or county, most first (stewards)',
    args: {
      by: t.arg({ type: QualityGrouping, required: true }),
      filter: t.arg({ type: QualityIssueFilter }),
      limit: t.arg.int({ defaultValue: 100 }),
    },
    resolve: async (_root, args, ctx) => {
      requireSteward(ctx, 'Query.qualityIssueSummary');
      const limit = args.limit ?? 100;
      if (limit < 1 || limit > ctx.config.maxPageSize) {
        throw errors.invalidArgument('limit', `must be from 1 to ${ctx.config.maxPageSize}`);
      }
      const params: unknown[] = [];
      const where = await issueConditions(ctx, args.filter, params);
      const key =
        args.by === 'rule'
          ? 'i.rule_id'
          : args.by === 'province'
            ? `left(i.division_code, 2) || '0000'`
            : 'left(i.division_code, 6)';
      params.push(limit);
      const found = await ctx.db.query<{ key: string; name: string | null; count: number }>(
        `SELECT g.key, d.name, g.count FROM (
           SELECT ${key} AS key, count(*)::bigint AS count FROM quality_issues i
            WHERE ${where} ${args.by === 'rule' ? '' : 'AND i.division_code IS NOT NULL'}
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $${params.length}
         ) g LEFT JOIN divisions d ON d.code = g.key ORDER BY g.count DESC, g.key`,
        params,
      );
      noteRows(ctx, 'QualityIssueCount', found.length);
      return found;
    },
  }),
);

// The schema's first mutation lives here; when another registry adds one, move this to builder.ts.
builder.mutationType({ description: 'Changes; each is audited like a query' });

builder.mutationField('updateQualityIssue', (t) =>
  t.field({
    type: QualityIssueRef,
    nullable: false,
    description:
      'Marks an issue acknowledged, fixed or a false positive, with a comment; recorded with who and when (stewards)',
    args: {
      id: t.arg.id({ required: true }),
      status: t.arg({ type: QualityIssueResolution, required: true }),
      comment: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      requireSteward(ctx, 'Mutation.updateQualityIssue');
      const id = parseId(args.id, 'id');
      const comment = args.comment?.trim() || null;
      if (comment && comment.length > 2000)
        throw errors.invalidArgument('comment', 'must be at most 2000 characters');
      const principal = ctx.access.principal;
      const updated = await updateIssueStatus(ctx.db, {
        id,
        status: args.status,
        comment,
        principal: principal.id,
        departmentCode: principal.department?.code ?? null,
        scope: principal.scope,
      });
      if (!updated) throw errors.notFound(`Quality issue '${args.id}'`);
      noteRows(ctx, 'QualityIssue', 1);
      return updated;
    },
  }),
);
