import { createHash } from 'node:crypto';
import { DATASETS } from '../../schema/datasets.ts';
import { attributeRules } from '../attributes/quality.ts';
import { codecFor, encryptedColumns } from '../crypto/at-rest.ts';
import type { Database, Row } from '../db/index.ts';
import {
  type DivisionRange,
  insertFailuresStatement,
  populationStatement,
  type RunParameters,
  scanPageStatement,
} from './compile.ts';
import { scrubDetail } from './detail.ts';
import { REGISTRIES, RuleFileError, type RuleProblem } from './rule-file.ts';
import { loadRules } from './rules/index.ts';
import type { CodeRule, Rule, RuleResult, RunOptions, RunResult, Scan, SqlRule } from './types.ts';
import { validateRules } from './validate.ts';

/** A run was asked for something that does not exist (a registry, a rule, a division). */
export class QualityUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QualityUsageError';
  }
}

/** A rule failed while running; the run is recorded as 'error' and its partial failures are removed. */
export class QualityRunError extends Error {
  constructor(
    readonly runId: number,
    readonly ruleId: string,
    readonly where: string,
    cause: unknown,
  ) {
    super(`run ${runId}: rule ${ruleId} (${where}) failed: ${(cause as Error).message ?? String(cause)}`, {
      cause,
    });
    this.name = 'QualityRunError';
  }
}

const FAILURE_BATCH = 5000;

/** The version a run records: the rule's own, or a digest of everything that defines it. */
export function ruleVersion(rule: Rule): string {
  if (rule.version) return rule.version;
  const meta = [
    rule.id,
    rule.registry,
    rule.dataset,
    rule.dimension,
    rule.severity,
    rule.threshold,
    rule.description,
  ];
  const body =
    rule.kind === 'sql'
      ? [rule.check, JSON.stringify(rule.population)]
      : [
          JSON.stringify(rule.scan),
          String(rule.check),
          String(rule.applies ?? ''),
          String(rule.prepare ?? ''),
        ];
  return createHash('sha256')
    .update(JSON.stringify([...meta, ...body]))
    .digest('hex')
    .slice(0, 12);
}

function where(rule: Rule): string {
  return rule.kind === 'sql' && rule.lines ? `${rule.lines.file}:${rule.lines.checkLine}` : rule.source;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Rules of the run, by registry and id, after checking the names asked for exist. */
export function selectRules(
  all: readonly Rule[],
  options: Pick<RunOptions, 'registry' | 'rules' | 'division'>,
): Rule[] {
  if (options.registry && !REGISTRIES.includes(options.registry as never)) {
    throw new QualityUsageError(`unknown registry '${options.registry}' (known: ${REGISTRIES.join(', ')})`);
  }
  const wanted = new Set(options.rules ?? []);
  for (const id of wanted) {
    if (!all.some((r) => r.id === id)) throw new QualityUsageError(`unknown rule '${id}'`);
  }
  return all.filter(
    (r) =>
      (!options.registry || r.registry === options.registry) &&
      (wanted.size === 0 || wanted.has(r.id)) &&
      // A run limited to a division runs only rules whose records have one.
      (!options.division || (r.kind === 'sql' ? !!r.population.division : !!r.scan.division)),
  );
}

async function divisionRange(db: Database, code: string | undefined): Promise<DivisionRange | null> {
  if (!code) return null;
  const [found] = await db.query<{ code: string; prefix: string }>(
    'SELECT code, prefix FROM divisions WHERE code = $1',
    [code.trim()],
  );
  if (!found) throw new QualityUsageError(`division '${code}' is not a known division code`);
  return { code: found.code, lo: found.prefix, hi: found.prefix + '9'.repeat(12 - found.prefix.length) };
}

/** Runs `tasks` with at most `limit` at a time; the first failure stops new starts and is rethrown. */
async function inPool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const worker = async () => {
    while (failed === null && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== null) throw failed;
}

interface Counts {
  checked: number;
  failed: number;
  ms: number;
}

export interface RunPlan {
  rules: Rule[];
  division: DivisionRange | null;
  parameters: RunParameters;
  asOf: string;
}

/**
 * Loads, selects and validates the rules of a run without running anything: every rule file parsed, every
 * statement planned by the database (EXPLAIN). Throws RuleFileError (each problem with file and line) or
 * QualityUsageError.
 */
export async function planQualityRun(db: Database, options: RunOptions = {}): Promise<RunPlan> {
  const asOf = options.asOf ?? today();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf))
    throw new QualityUsageError(`asOf must be YYYY-MM-DD, got '${asOf}'`);
  // Attributes' validations are rules too (src/attributes/quality.ts), from their current definitions.
  const all = [...loadRules({ rulesDir: options.rulesDir }), ...(await attributeRules(db))];
  const rules = selectRules(all, options);
  const division = await divisionRange(db, options.division);
  const parameters: RunParameters = {
    as_of: asOf,
    division_lo: division?.lo ?? '',
    division_hi: division?.hi ?? '~',
    dataset_ids: DATASETS.map((d) => d.id),
  };
  const problems: RuleProblem[] = await validateRules(db, rules, parameters, division);
  if (problems.length > 0) throw new RuleFileError(problems);
  return { rules, division, parameters, asOf };
}

/**
 * Runs the quality passes: loads and validates every rule (built-in, built-in files, the steward folder)
 * before anything is recorded, then records a run, runs the set-based SQL checks in the database
 * (failures go straight from the check into quality_failures) and the code checks streamed over keyset
 * pages, records each rule's version and counts, carries the failures over to the steward issues, and
 * closes the run. Nothing is loaded whole into memory: SQL checks never leave the database, code checks
 * hold one page and one batch of failures.
 */
export async function runQualityPass(db: Database, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const { rules, division, parameters, asOf } = await planQualityRun(db, options);

  // Reference data of code checks, loaded before the run exists (a failure here records nothing).
  const contexts = new Map<CodeRule, unknown>();
  for (const rule of rules) {
    if (rule.kind === 'code' && rule.prepare) contexts.set(rule, await rule.prepare(db));
  }

  const versions = new Map(rules.map((r) => [r.id, ruleVersion(r)]));
  const [run] = await db.query<{ id: number; started_at: string }>(
    `INSERT INTO quality_runs (registry_filter, rule_filter, division_filter, as_of, triggered_by)
     VALUES ($1, $2, $3, $4, $5) RETURNING id, started_at::text AS started_at`,
    [
      options.registry ?? null,
      options.rules && options.rules.length > 0 ? [...options.rules] : null,
      division?.code ?? null,
      asOf,
      options.triggeredBy ?? 'cli',
    ],
  );
  const runId = Number(run!.id);
  options.onProgress?.({ kind: 'start', rules: rules.length });
  await db.query(
    `INSERT INTO quality_rules (id, registry, dataset, dimension, severity, threshold, description, kind, source, version, updated_at)
     SELECT * , now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::text[],
                                 $8::text[], $9::text[], $10::text[])
     ON CONFLICT (id) DO UPDATE SET registry = EXCLUDED.registry, dataset = EXCLUDED.dataset,
       dimension = EXCLUDED.dimension, severity = EXCLUDED.severity, threshold = EXCLUDED.threshold,
       description = EXCLUDED.description, kind = EXCLUDED.kind, source = EXCLUDED.source,
       version = EXCLUDED.version, updated_at = now()`,
    [
      rules.map((r) => r.id),
      rules.map((r) => r.registry),
      rules.map((r) => r.dataset),
      rules.map((r) => r.dimension),
      rules.map((r) => r.severity),
      rules.map((r) => r.threshold),
      rules.map((r) => r.description),
      rules.map((r) => r.kind),
      rules.map((r) => r.source),
      rules.map((r) => versions.get(r.id)!),
    ],
  );

  const results: RuleResult[] = [];
  let done = 0;
  const record = async (rule: Rule, counts: Counts) => {
    const rate = counts.checked > 0 ? counts.failed / counts.checked : 0;
    const result: RuleResult = {
      ruleId: rule.id,
      version: versions.get(rule.id)!,
      registry: rule.registry,
      dataset: rule.dataset,
      dimension: rule.dimension,
      severity: rule.severity,
      threshold: rule.threshold,
      kind: rule.kind,
      source: rule.source,
      checked: counts.checked,
      failed: counts.failed,
      rate,
      exceeded: rate > rule.threshold,
      durationMs: Math.round(counts.ms),
    };
    results.push(result);
    await db.query(
      `INSERT INTO quality_run_rules (run_id, rule_id, version, registry, dimension, severity, threshold, checked,
                                      failed, exceeded, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        runId,
        rule.id,
        result.version,
        rule.registry,
        rule.dimension,
        rule.severity,
        rule.threshold,
        result.checked,
        result.failed,
        result.exceeded,
        result.durationMs,
      ],
    );
    done++;
    options.onProgress?.({
      kind: 'rule',
      ruleId: rule.id,
      done,
      rules: rules.length,
      failed: result.failed,
      checked: result.checked,
    });
  };

  // Population counts are shared by rules over the same records (persons are counted once, not ten times).
  const populationCounts = new Map<string, Promise<number>>();
  const countPopulation = (rule: SqlRule) => {
    const statement = populationStatement(rule.population, parameters, division);
    const key = `${statement.text}\u0000${JSON.stringify(statement.params)}`;
    let count = populationCounts.get(key);
    if (!count) {
      count = db
        .query<{ checked: number }>(statement.text, statement.params)
        .then((r) => Number(r[0]?.checked ?? 0));
      populationCounts.set(key, count);
    }
    return count;
  };

  const runSql = async (rule: SqlRule) => {
    const t0 = performance.now();
    try {
      const statement = insertFailuresStatement(rule, runId, parameters, division);
      const [row] = await db.query<{ failed: number }>(statement.text, statement.params);
      const checked = await countPopulation(rule);
      await record(rule, { checked, failed: Number(row?.failed ?? 0), ms: performance.now() - t0 });
    } catch (error) {
      throw error instanceof QualityRunError
        ? error
        : new QualityRunError(runId, rule.id, where(rule), error);
    }
  };

  const runScan = async (scan: Scan, scanRules: CodeRule[]) => {
    const t0 = performance.now();
    const counts = scanRules.map(() => ({ checked: 0, failed: 0 }));
    const ruleContexts = scanRules.map((rule) => contexts.get(rule));
    let buffer = {
      rule: [] as string[],
      key: [] as string[],
      division: [] as (string | null)[],
      detail: [] as string[],
    };
    const flush = async () => {
      if (buffer.rule.length === 0) return;
      const batch = buffer;
      buffer = { rule: [], key: [], division: [], detail: [] };
      await db.query(
        `INSERT INTO quality_failures (run_id, rule_id, record_key, division_code, detail)
         SELECT $1, u.r, u.k, u.d, u.t FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(r, k, d, t)`,
        [runId, batch.rule, batch.key, batch.division, batch.detail],
      );
    };
    const pageSize = options.pageSize ?? 5000;
    // Columns encrypted at rest (ID numbers) reach the code checks in clear: decrypted here, page by page,
    // in memory only. SQL checks cannot see inside them.
    const table = scan.from.trim().split(/\s+/)[0]!;
    const codec = encryptedColumns(table).length > 0 ? codecFor(db) : null;
    const fetchPage = async (after: unknown) => {
      const statement = scanPageStatement(scan, after, pageSize, division);
      const page = await db.query<Row>(statement.text, statement.params);
      if (codec) for (const row of page) codec.decodeRow(table, row);
      return page;
    };
    let current: string | undefined;
    try {
      let page = await fetchPage(undefined);
      let scanned = 0;
      while (page.length > 0) {
        const last = page.at(-1)!.key;
        // The next page is on its way while this one is checked (a server overlaps the two).
        const next = page.length === pageSize ? fetchPage(last) : null;
        next?.catch(() => undefined);
        for (let i = 0; i < scanRules.length; i++) {
          const rule = scanRules[i]!;
          const context = ruleContexts[i];
          const c = counts[i]!;
          current = rule.id;
          for (const row of page) {
            if (rule.applies && !rule.applies(row, context)) continue;
            c.checked++;
            const detail = rule.check(row, context);
            if (detail !== null) {
              c.failed++;
              buffer.rule.push(rule.id);
              buffer.key.push(String(row.key));
              buffer.division.push((row.division_code as string | null) ?? null);
              buffer.detail.push(scrubDetail(detail)!);
            }
          }
        }
        current = undefined;
        scanned += page.length;
        options.onProgress?.({ kind: 'scan', scan: scan.name, rows: scanned });
        if (buffer.rule.length >= FAILURE_BATCH) await flush();
        page = next ? await next : [];
      }
      await flush();
    } catch (error) {
      const rule = scanRules.find((r) => r.id === current) ?? scanRules[0]!;
      throw new QualityRunError(runId, current ?? `scan '${scan.name}'`, where(rule), error);
    }
    const ms = performance.now() - t0;
    for (let i = 0; i < scanRules.length; i++) await record(scanRules[i]!, { ...counts[i]!, ms });
  };

  const scans = new Map<Scan, CodeRule[]>();
  for (const rule of rules) {
    if (rule.kind !== 'code') continue;
    const list = scans.get(rule.scan);
    if (list) list.push(rule);
    else scans.set(rule.scan, [rule]);
  }
  // Long tasks first, so the pool is not left waiting on one straggler at the end.
  const tasks: (() => Promise<void>)[] = [
    ...[...scans].map(
      ([scan, list]) =>
        () =>
          runScan(scan, list),
    ),
    ...rules.filter((r): r is SqlRule => r.kind === 'sql').map((r) => () => runSql(r)),
  ];
  const concurrency = db.kind === 'pglite' ? 1 : (options.concurrency ?? 3);

  try {
    await inPool(tasks, concurrency, (task) => task());
    await carryOverIssues(db, runId, rules, division);
  } catch (error) {
    await db
      .query(`DELETE FROM quality_failures WHERE run_id = $1`, [runId])
      .then(() =>
        db.query(`UPDATE quality_runs SET status = 'error', finished_at = now(), error = $2 WHERE id = $1`, [
          runId,
          (error as Error).message,
        ]),
      )
      .catch(() => undefined);
    throw error;
  }

  const order = new Map(rules.map((r, i) => [r.id, i]));
  results.sort((a, b) => order.get(a.ruleId)! - order.get(b.ruleId)!);
  const exceeded = results.filter((r) => r.exceeded);
  const status = exceeded.some((r) => r.severity === 'error') ? 'failed' : 'passed';
  const rowsChecked = results.reduce((n, r) => n + r.checked, 0);
  const failures = results.reduce((n, r) => n + r.failed, 0);
  const [finished] = await db.query<{ finished_at: string }>(
    `UPDATE quality_runs SET status = $2, finished_at = now(), rules = $3, rows_checked = $4, failures = $5, exceeded = $6
      WHERE id = $1 RETURNING finished_at::text AS finished_at`,
    [runId, status, results.length, rowsChecked, failures, exceeded.length],
  );
  return {
    runId,
    status,
    startedAt: run!.started_at,
    finishedAt: finished!.finished_at,
    asOf,
    rules: results,
    rowsChecked,
    failures,
    exceeded,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * From this run's failures to the issues stewards work on: new failures open issues; a failure found again
 * refreshes its issue and reopens one marked fixed (or resolved); open or acknowledged issues of the rules
 * that ran, inside the run's division, that the run no longer finds are resolved. Status changes the run
 * makes are logged like a steward's, by principal 'system:quality'.
 */
async function carryOverIssues(
  db: Database,
  runId: number,
  rules: readonly Rule[],
  division: DivisionRange | null,
) {
  const ruleIds = rules.map((r) => r.id);
  await db.query(
    `INSERT INTO quality_issue_events (issue_id, from_status, status, comment, principal)
     SELECT i.id, i.status, 'open', 'found again by run ' || $1::bigint, 'system:quality'
       FROM quality_issues i
       JOIN (SELECT DISTINCT rule_id, record_key FROM quality_failures WHERE run_id = $1) f
         ON f.rule_id = i.rule_id AND f.record_key = i.record_key
      WHERE i.status IN ('fixed', 'resolved')`,
    [runId],
  );
  await db.query(
    `INSERT INTO quality_issues AS i (rule_id, dataset, record_key, division_code, detail, status, first_seen_run, last_seen_run)
     SELECT DISTINCT ON (f.rule_id, f.record_key) f.rule_id, r.dataset, f.record_key, f.division_code, f.detail, 'open', $1, $1
       FROM quality_failures f JOIN quality_rules r ON r.id = f.rule_id
      WHERE f.run_id = $1
      ORDER BY f.rule_id, f.record_key, f.id
     ON CONFLICT (rule_id, record_key) DO UPDATE
        SET last_seen_run = EXCLUDED.last_seen_run, detail = EXCLUDED.detail, division_code = EXCLUDED.division_code,
            dataset = EXCLUDED.dataset,
            status = CASE WHEN i.status IN ('fixed', 'resolved') THEN 'open' ELSE i.status END,
            updated_at = CASE WHEN i.status IN ('fixed', 'resolved') THEN now() ELSE i.updated_at END`,
    [runId],
  );
  const scope = division ? 'AND i.division_code BETWEEN $3 AND $4' : '';
  const params: unknown[] = [runId, ruleIds, ...(division ? [division.lo, division.hi] : [])];
  await db.query(
    `WITH gone AS (
       SELECT i.id, i.status FROM quality_issues i
        WHERE i.rule_id = ANY($2::text[]) AND i.last_seen_run < $1 AND i.status IN ('open', 'acknowledged') ${scope}
     ), resolved AS (
       UPDATE quality_issues i SET status = 'resolved', updated_at = now() FROM gone WHERE i.id = gone.id RETURNING i.id
     )
     INSERT INTO quality_issue_events (issue_id, from_status, status, comment, principal)
     SELECT gone.id, gone.status, 'resolved', 'not found by run ' || $1::bigint, 'system:quality'
       FROM gone JOIN resolved ON resolved.id = gone.id`,
    params,
  );
}
