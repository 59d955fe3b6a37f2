import type { RegistryName } from '../../schema/catalogue.ts';
import type { QUALITY_DIMENSIONS, QUALITY_SEVERITIES } from '../../schema/quality.ts';
import type { Queryable, Row } from '../db/index.ts';

export type Dimension = (typeof QUALITY_DIMENSIONS)[number];
export type Severity = (typeof QUALITY_SEVERITIES)[number];

/** What every rule declares, whether it is checked in SQL or in code. */
export interface RuleMeta {
  /** Stable, dotted: `<registry-ish>.<table>.<what>`, e.g. `population.persons.id_check_digit`. */
  id: string;
  registry: RegistryName;
  /** Dataset id (schema/datasets.ts) whose records the failing keys name, e.g. `population.persons`. */
  dataset: string;
  dimension: Dimension;
  severity: Severity;
  /** Largest acceptable failure rate (failed / checked), 0..1. */
  threshold: number;
  description: string;
  /** Optional explicit version; by default a digest of the definition, so a changed rule is a new version. */
  version?: string;
  /** Where the rule comes from: `builtin:<module>` or a rule file's path. */
  source: string;
}

/**
 * The records a rule checks — what the failure rate is relative to, and how a run limited to a division
 * selects them: `SELECT count(*) FROM <from> WHERE (<where>) AND <division> BETWEEN lo AND hi`.
 */
export interface Population {
  /** A FROM item: a table, optionally with an alias. */
  from: string;
  where?: string;
  /** SQL expression giving the record's division code; absent when records have none (governance). */
  division?: string;
}

/** Where a part of a rule sits in its file, for error messages. */
export interface SourceLines {
  file: string;
  /** Line of the first character of the check SQL. */
  checkLine: number;
  /** Line of each metadata key. */
  keys: Record<string, number>;
}

/**
 * A set-based check: one SELECT returning a row per failing record, with the columns
 * `key` (the record's internal key), `division_code` (may be null) and `detail` (masked text).
 * Named parameters: `:as_of` (date), `:division_lo`/`:division_hi` (text), `:dataset_ids` (text[]).
 */
export interface SqlRule extends RuleMeta {
  kind: 'sql';
  population: Population;
  check: string;
  lines?: SourceLines;
}

/**
 * A scan: the rows code checks stream over, in keyset pages (`key > last ORDER BY key LIMIT n`).
 * Rules over the same scan share one pass.
 */
export interface Scan {
  name: string;
  /** A FROM item, e.g. `persons p`. */
  from: string;
  /** The bigint key column, e.g. `p.id`. */
  key: string;
  /** Select list of the columns the checks read (the key and division are added). */
  columns: string;
  division?: string;
  where?: string;
}

/** Reference data a code check needs, loaded once per run (small tables only: divisions, code lists). */
export type Prepare<C> = (db: Queryable) => Promise<C>;

/**
 * A code check: `check(row)` returns null when the row passes, else the detail text (masked). `applies`
 * narrows the checked rows (the denominator) when a rule concerns only some of them.
 */
export interface CodeRule<C = unknown> extends RuleMeta {
  kind: 'code';
  scan: Scan;
  prepare?: Prepare<C>;
  applies?: (row: Row, context: C) => boolean;
  check: (row: Row, context: C) => string | null;
}

export type Rule = SqlRule | CodeRule<any>;

/** Progress of a run, for the CLI's bar. */
export type ProgressEvent =
  | { kind: 'start'; rules: number }
  | { kind: 'rule'; ruleId: string; done: number; rules: number; failed: number; checked: number }
  | { kind: 'scan'; scan: string; rows: number };

export interface RunOptions {
  /** Only rules of this registry. */
  registry?: string;
  /** Only these rule ids. */
  rules?: readonly string[];
  /** Only records in this division's subtree (its code). */
  division?: string;
  /** A folder of steward rule files (`*.sql`), loaded after the built-in rules. */
  rulesDir?: string;
  /** Reference date for date-dependent rules, YYYY-MM-DD; default today. */
  asOf?: string;
  /** Recorded with the run. @default 'cli' */
  triggeredBy?: string;
  /** Concurrent statements on a server (PGlite is one connection). @default 3 */
  concurrency?: number;
  /** Rows per keyset page of code checks. @default 5000 */
  pageSize?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RuleResult {
  ruleId: string;
  version: string;
  registry: string;
  dataset: string;
  dimension: Dimension;
  severity: Severity;
  threshold: number;
  kind: 'sql' | 'code';
  source: string;
  checked: number;
  failed: number;
  /** failed / checked (0 when nothing was checked). */
  rate: number;
  exceeded: boolean;
  durationMs: number;
}

export interface RunResult {
  runId: number;
  status: 'passed' | 'failed';
  startedAt: string;
  finishedAt: string;
  asOf: string;
  rules: RuleResult[];
  rowsChecked: number;
  failures: number;
  /** Rules over their threshold (any severity). */
  exceeded: RuleResult[];
  durationMs: number;
}
