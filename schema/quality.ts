import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { dataset, type FieldEntry, f } from './catalogue.ts';

/**
 * Data-quality governance (src/quality): the rules as last run, each run with its per-rule counts, the
 * failing records of every run, and the issues stewards work on across runs.
 *
 * Keys of failing records are internal ids (person 42, entity 7, division 110105), never natural keys
 * such as an ID number. Detail texts are written masked by the runner (values pass through the field
 * catalogue's mask rules, and a scrub removes anything shaped like an ID or mobile number), so they hold
 * no clear sensitive value; they are still classified restricted, because a masked value is personal data.
 */

export const QUALITY_DIMENSIONS = [
  'normative', // 规范性: conformance to standards and reference data
  'completeness', // 完整性
  'accuracy', // 准确性
  'consistency', // 一致性
  'timeliness', // 时效性
  'accessibility', // 可访问性
  'uniqueness', // record uniqueness (唯一性)
] as const;
export const QUALITY_SEVERITIES = ['error', 'warn'] as const;
export const QUALITY_RULE_KINDS = ['sql', 'code'] as const;
export const QUALITY_RUN_STATUSES = ['running', 'passed', 'failed', 'error'] as const;
/** open → acknowledged / fixed / false_positive by a steward; resolved when a run no longer finds it. */
export const QUALITY_ISSUE_STATUSES = [
  'open',
  'acknowledged',
  'fixed',
  'false_positive',
  'resolved',
] as const;

/** Every rule as it was last run: what issues, flags and reports join to for the rule's metadata. */
export const qualityRules = pgTable('quality_rules', {
  id: text('id').primaryKey(),
  registry: text('registry').notNull(),
  /** Dataset id (schema/datasets.ts) whose records the failing keys name. */
  dataset: text('dataset').notNull(),
  dimension: text('dimension', { enum: QUALITY_DIMENSIONS }).notNull(),
  severity: text('severity', { enum: QUALITY_SEVERITIES }).notNull(),
  /** Largest acceptable failure rate, 0..1. */
  threshold: numeric('threshold', { precision: 7, scale: 6 }).notNull(),
  description: text('description').notNull(),
  kind: text('kind', { enum: QUALITY_RULE_KINDS }).notNull(),
  /** 'builtin:<module>' or the path of a steward's rule file. */
  source: text('source').notNull(),
  version: text('version').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const qualityRuns = pgTable(
  'quality_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    status: text('status', { enum: QUALITY_RUN_STATUSES }).notNull().default('running'),
    registryFilter: text('registry_filter'),
    ruleFilter: text('rule_filter').array(),
    divisionFilter: text('division_filter'),
    /** The reference date of date-dependent rules (timeliness, plausibility). */
    asOf: text('as_of').notNull(),
    rules: integer('rules').notNull().default(0),
    rowsChecked: bigint('rows_checked', { mode: 'number' }).notNull().default(0),
    failures: bigint('failures', { mode: 'number' }).notNull().default(0),
    /** Rules whose failure rate exceeded their threshold. */
    exceeded: integer('exceeded').notNull().default(0),
    triggeredBy: text('triggered_by').notNull(),
    error: text('error'),
  },
  (t) => [index('quality_runs_started_idx').on(t.startedAt)],
);

/** One row per rule and run: the rule version that ran and its counts. */
export const qualityRunRules = pgTable(
  'quality_run_rules',
  {
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    ruleId: text('rule_id').notNull(),
    version: text('version').notNull(),
    registry: text('registry').notNull(),
    dimension: text('dimension', { enum: QUALITY_DIMENSIONS }).notNull(),
    severity: text('severity', { enum: QUALITY_SEVERITIES }).notNull(),
    threshold: numeric('threshold', { precision: 7, scale: 6 }).notNull(),
    checked: bigint('checked', { mode: 'number' }).notNull(),
    failed: bigint('failed', { mode: 'number' }).notNull(),
    exceeded: boolean('exceeded').notNull(),
    durationMs: integer('duration_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.ruleId] })],
);

/** The failing records of a run: rule, key, division, masked detail. */
export const qualityFailures = pgTable(
  'quality_failures',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    ruleId: text('rule_id').notNull(),
    recordKey: text('record_key').notNull(),
    divisionCode: text('division_code'),
    detail: text('detail'),
  },
  (t) => [
    index('quality_failures_run_rule_idx').on(t.runId, t.ruleId, t.id),
    index('quality_failures_run_division_idx').on(t.runId, t.divisionCode),
  ],
);

/** A failing record across runs: what stewards acknowledge, fix or dismiss, and what consumers see as flags. */
export const qualityIssues = pgTable(
  'quality_issues',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ruleId: text('rule_id').notNull(),
    dataset: text('dataset').notNull(),
    recordKey: text('record_key').notNull(),
    divisionCode: text('division_code'),
    detail: text('detail'),
    status: text('status', { enum: QUALITY_ISSUE_STATUSES }).notNull().default('open'),
    firstSeenRun: bigint('first_seen_run', { mode: 'number' }).notNull(),
    lastSeenRun: bigint('last_seen_run', { mode: 'number' }).notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('quality_issues_rule_key').on(t.ruleId, t.recordKey),
    index('quality_issues_record_idx').on(t.dataset, t.recordKey),
    index('quality_issues_division_idx').on(t.divisionCode, t.id),
    index('quality_issues_status_idx').on(t.status, t.ruleId, t.id),
  ],
);

/** Who changed an issue's status, when and why (append-only by convention; the issue keeps the latest). */
export const qualityIssueEvents = pgTable(
  'quality_issue_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    issueId: bigint('issue_id', { mode: 'number' }).notNull(),
    fromStatus: text('from_status', { enum: QUALITY_ISSUE_STATUSES }).notNull(),
    status: text('status', { enum: QUALITY_ISSUE_STATUSES }).notNull(),
    comment: text('comment'),
    principal: text('principal').notNull(),
    departmentCode: text('department_code'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('quality_issue_events_issue_idx').on(t.issueId, t.id)],
);

const governance = { registry: 'governance', owner: 'PLATFORM', updateFrequency: 'daily' } as const;

const ruleMetaFields = {
  registry: f.internal('Registry the rule checks'),
  dimension: f.internal('Quality dimension (GB/T 36344-2018) or uniqueness'),
  severity: f.internal('error or warn'),
  threshold: f.internal('Largest acceptable failure rate'),
} satisfies Record<string, FieldEntry>;

export const qualityRulesDataset = dataset(
  qualityRules,
  {
    ...governance,
    id: 'governance.quality_rules',
    name: '质量规则 Quality rules',
    description: 'Data-quality rules as last run: metadata, source and version',
  },
  {
    id: f.internal('Rule id'),
    ...ruleMetaFields,
    dataset: f.internal('Dataset whose records the rule checks'),
    description: f.internal('What the rule checks'),
    kind: f.internal('sql (set-based) or code (streamed)'),
    source: f.internal('Built-in module or steward rule file'),
    version: f.internal('Version of the rule definition'),
    updatedAt: f.meta('When the rule last ran'),
  },
);

export const qualityRunsDataset = dataset(
  qualityRuns,
  {
    ...governance,
    id: 'governance.quality_runs',
    name: '质量检查批次 Quality runs',
    description: 'Runs of the quality passes with their scope and totals',
  },
  {
    id: f.internal('Run number'),
    startedAt: f.internal('Start'),
    finishedAt: f.internal('End'),
    status: f.internal('running, passed, failed (a threshold exceeded) or error'),
    registryFilter: f.internal('Registry the run was limited to'),
    ruleFilter: f.internal('Rules the run was limited to'),
    divisionFilter: f.internal('Division subtree the run was limited to'),
    asOf: f.internal('Reference date'),
    rules: f.internal('Rules run'),
    rowsChecked: f.internal('Records checked, summed over rules'),
    failures: f.internal('Failing records, summed over rules'),
    exceeded: f.internal('Rules over their threshold'),
    triggeredBy: f.internal('Who started the run (user, CI, schedule)'),
    error: f.internal('Why the run stopped, for runs in error'),
  },
  {
    score: f.internal('Passed / checked per registry and dimension'),
  },
);

export const qualityRunRulesDataset = dataset(
  qualityRunRules,
  {
    ...governance,
    id: 'governance.quality_run_rules',
    name: '规则检查结果 Rule results',
    description: 'Per run and rule: version, records checked and failed',
  },
  {
    runId: f.internal('Run'),
    ruleId: f.internal('Rule'),
    version: f.internal('Rule version that ran'),
    ...ruleMetaFields,
    checked: f.internal('Records checked'),
    failed: f.internal('Records failing'),
    exceeded: f.internal('Whether the failure rate exceeded the threshold'),
    durationMs: f.internal('Time taken'),
  },
);

export const qualityFailuresDataset = dataset(
  qualityFailures,
  {
    ...governance,
    id: 'governance.quality_failures',
    name: '问题记录 Failing records',
    description: 'The records each run found failing, with a masked detail',
  },
  {
    id: f.internal('Failure id'),
    runId: f.internal('Run'),
    ruleId: f.internal('Rule'),
    recordKey: f.internal('Internal key of the failing record'),
    divisionCode: f.internal('Division of the failing record'),
    detail: f.restricted('What is wrong, with values masked per the field catalogue', 'redact'),
  },
);

export const qualityIssuesDataset = dataset(
  qualityIssues,
  {
    ...governance,
    id: 'governance.quality_issues',
    name: '质量问题 Quality issues',
    description: 'Failing records across runs and their handling by stewards',
  },
  {
    id: f.internal('Issue id'),
    ruleId: f.internal('Rule'),
    dataset: f.internal('Dataset of the record'),
    recordKey: f.internal('Internal key of the record'),
    divisionCode: f.internal('Division of the record'),
    detail: f.restricted('What is wrong, with values masked per the field catalogue', 'redact'),
    status: f.internal('open, acknowledged, fixed, false_positive or resolved'),
    firstSeenRun: f.internal('First run that found it'),
    lastSeenRun: f.internal('Latest run that found it'),
    firstSeenAt: f.internal('When it was first found'),
    updatedAt: f.meta('When it last changed'),
  },
  {
    /**
     * `Person.qualityFlags`: rule id, dimension, severity, the rule's description, status and date of the
     * open issues of a person — no detail text and no value of the record. It is shown to every caller who
     * may see the person row (rows are scoped by the population registry), so it is classified public but
     * not open: it says only that a record the caller can already read fails a named check.
     */
    personFlags: {
      level: 'public',
      share: 'unconditional',
      mask: 'none',
      description: 'Open quality flags of a person record: rule, dimension, severity, status; no values',
    },
  },
);

export const qualityIssueEventsDataset = dataset(
  qualityIssueEvents,
  {
    ...governance,
    id: 'governance.quality_issue_events',
    name: '问题处理记录 Issue handling',
    description: 'Status changes of quality issues: who, when, why',
  },
  {
    id: f.internal('Event id'),
    issueId: f.internal('Issue'),
    fromStatus: f.internal('Status before'),
    status: f.internal('Status after'),
    comment: f.restricted("Steward's comment", 'redact'),
    principal: f.internal('Principal who changed the status'),
    departmentCode: f.internal('Department of that principal'),
    at: f.internal('When'),
  },
);
