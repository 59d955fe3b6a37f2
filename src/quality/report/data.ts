import { codecFor } from '../../crypto/at-rest.ts';
import type { Database } from '../../db/index.ts';
import { shown } from '../detail.ts';
import { readIdNumber } from '../read-id-number.ts';

/** Everything a report shows about one run, read back from the database (so any past run can be reported). */
export interface ReportData {
  generatedAt: string;
  run: {
    id: number;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    asOf: string;
    registryFilter: string | null;
    ruleFilter: string[] | null;
    divisionFilter: string | null;
    rules: number;
    rowsChecked: number;
    failures: number;
    exceeded: number;
    triggeredBy: string;
    database: string;
  };
  rules: ReportRule[];
  /** Passed / checked per registry and dimension, summed over the rules of the run. */
  scores: Score[];
  /** Earlier runs of the same scope (oldest first, this run last): overall and per-registry scores. */
  trend: TrendPoint[];
  /** Failures per province of the failing records' divisions (records without a division left out). */
  byProvince: DivisionCount[];
  /** The counties with most failures. */
  topCounties: DivisionCount[];
}

export interface ReportRule {
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
  checked: number;
  failed: number;
  rate: number;
  exceeded: boolean;
  durationMs: number;
  /** Failures of the same rule in the previous run that ran it, if any. */
  previousFailed: number | null;
  samples: Sample[];
}

export interface Sample {
  key: string;
  divisionCode: string | null;
  detail: string | null;
  /** A few identifying fields of the record, each shown as the field catalogue allows (masked). */
  record: Record<string, string>;
}

export interface Score {
  registry: string;
  dimension: string;
  checked: number;
  passed: number;
  /** passed / checked, or null when nothing was checked. */
  score: number | null;
}

export interface TrendPoint {
  runId: number;
  startedAt: string;
  overall: number | null;
  registries: Record<string, number | null>;
}

export interface DivisionCount {
  code: string;
  name: string | null;
  failures: number;
}

const ratio = (passed: number, checked: number) =>
  checked > 0 ? Number((passed / checked).toPrecision(8)) : null;

/** Identifying fields per dataset for samples; each passes through the catalogue (`shown`). */
async function sampleRecords(
  db: Database,
  dataset: string,
  keys: string[],
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (keys.length === 0) return out;
  if (dataset === 'population.persons') {
    const ids = keys.filter((k) => /^\d+$/.test(k)).map(Number);
    const found = await db.query<Record<string, unknown>>(
      `SELECT id, name, id_number, birth_date::text AS birth_date, hukou_division_code FROM persons WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    const codec = codecFor(db);
    for (const p of found) {
      codec.decodeRow('persons', p); // masked below, from the clear value
      out.set(String(p.id), {
        name: shown(dataset, 'name', p.name),
        idNumber: shown(dataset, 'idNumber', readIdNumber(p)),
        birthDate: shown(dataset, 'birthDate', p.birth_date),
        hukouDivisionCode: shown(dataset, 'hukouDivisionCode', p.hukou_division_code),
      });
    }
  } else if (dataset === 'legal_entity.entities') {
    const ids = keys.filter((k) => /^\d+$/.test(k)).map(Number);
    const found = await db.query<Record<string, unknown>>(
      `SELECT id, name, uscc, division_code FROM entities WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    for (const e of found) {
      out.set(String(e.id), {
        name: shown(dataset, 'name', e.name),
        uscc: shown(dataset, 'uscc', e.uscc),
        divisionCode: shown(dataset, 'divisionCode', e.division_code),
      });
    }
  } else if (dataset === 'spatial.divisions') {
    const found = await db.query<Record<string, unknown>>(
      `SELECT code, name, level FROM divisions WHERE code = ANY($1::text[])`,
      [keys],
    );
    for (const d of found) {
      out.set(String(d.code), {
        name: shown(dataset, 'name', d.name),
        level: shown(dataset, 'level', d.level),
      });
    }
  }
  return out;
}

/** Reads a run's report data: a bounded number of statements, samples limited per rule. */
export async function reportData(
  db: Database,
  runId: number,
  options: { samples?: number; trend?: number } = {},
): Promise<ReportData> {
  const sampleSize = options.samples ?? 10;
  const [run] = await db.query<Record<string, unknown>>(
    `SELECT id, status, started_at::text AS started_at, finished_at::text AS finished_at, as_of, registry_filter,
            rule_filter, division_filter, rules, rows_checked, failures, exceeded, triggered_by
       FROM quality_runs WHERE id = $1`,
    [runId],
  );
  if (!run) throw new Error(`quality run ${runId} does not exist`);

  const ruleRows = await db.query<Record<string, unknown>>(
    `SELECT rr.rule_id, rr.version, rr.registry, rr.dimension, rr.severity, rr.threshold::float8 AS threshold, rr.checked,
            rr.failed, rr.exceeded, rr.duration_ms, r.dataset, r.description, r.kind, r.source,
            (SELECT p.failed FROM quality_run_rules p JOIN quality_runs pr ON pr.id = p.run_id
              WHERE p.rule_id = rr.rule_id AND p.run_id < rr.run_id AND pr.status IN ('passed', 'failed')
              ORDER BY p.run_id DESC LIMIT 1) AS previous_failed
       FROM quality_run_rules rr JOIN quality_rules r ON r.id = rr.rule_id
      WHERE rr.run_id = $1
      ORDER BY rr.registry, rr.rule_id`,
    [runId],
  );

  const sampleRows = await db.query<{
    rule_id: string;
    record_key: string;
    division_code: string | null;
    detail: string | null;
  }>(
    `SELECT rule_id, record_key, division_code, detail FROM (
       SELECT f.*, row_number() OVER (PARTITION BY f.rule_id ORDER BY f.id) AS n FROM quality_failures f WHERE f.run_id = $1
     ) s WHERE s.n <= $2 ORDER BY s.rule_id, s.id`,
    [runId, sampleSize],
  );
  const datasetOf = new Map(ruleRows.map((r) => [String(r.rule_id), String(r.dataset)]));
  const keysByDataset = new Map<string, Set<string>>();
  for (const s of sampleRows) {
    const dataset = datasetOf.get(s.rule_id) ?? '';
    const keys = keysByDataset.get(dataset) ?? new Set<string>();
    keys.add(s.record_key);
    keysByDataset.set(dataset, keys);
  }
  const records = new Map<string, Map<string, Record<string, string>>>();
  for (const [dataset, keys] of keysByDataset)
    records.set(dataset, await sampleRecords(db, dataset, [...keys]));

  const rules: ReportRule[] = ruleRows.map((r) => {
    const id = String(r.rule_id);
    const checked = Number(r.checked);
    const failed = Number(r.failed);
    const dataset = String(r.dataset);
    return {
      id,
      registry: String(r.registry),
      dataset,
      dimension: String(r.dimension),
      severity: String(r.severity),
      threshold: Number(r.threshold),
      description: String(r.description),
      kind: String(r.kind),
      source: String(r.source),
      version: String(r.version),
      checked,
      failed,
      rate: checked > 0 ? Number((failed / checked).toPrecision(6)) : 0,
      exceeded: r.exceeded === true,
      durationMs: Number(r.duration_ms),
      previousFailed:
        r.previous_failed === null || r.previous_failed === undefined ? null : Number(r.previous_failed),
      samples: sampleRows
        .filter((s) => s.rule_id === id)
        .map((s) => ({
          key: s.record_key,
          divisionCode: s.division_code,
          detail: s.detail,
          record: records.get(dataset)?.get(s.record_key) ?? {},
        })),
    };
  });

  const scores = new Map<string, Score>();
  for (const r of rules) {
    const k = `${r.registry}\u0000${r.dimension}`;
    const s = scores.get(k) ?? {
      registry: r.registry,
      dimension: r.dimension,
      checked: 0,
      passed: 0,
      score: null,
    };
    s.checked += r.checked;
    s.passed += r.checked - r.failed;
    s.score = ratio(s.passed, s.checked);
    scores.set(k, s);
  }

  const trendRows = await db.query<{
    run_id: number;
    started_at: string;
    registry: string;
    checked: number;
    failed: number;
  }>(
    `SELECT rr.run_id, q.started_at::text AS started_at, rr.registry, sum(rr.checked)::bigint AS checked,
            sum(rr.failed)::bigint AS failed
       FROM quality_run_rules rr JOIN quality_runs q ON q.id = rr.run_id
      WHERE rr.run_id IN (
              -- Comparable runs only: the same registry, rule and division scope as this one.
              SELECT o.id FROM quality_runs o, quality_runs t
               WHERE t.id = $1 AND o.id <= t.id AND o.status IN ('passed', 'failed')
                 AND o.registry_filter IS NOT DISTINCT FROM t.registry_filter
                 AND o.rule_filter IS NOT DISTINCT FROM t.rule_filter
                 AND o.division_filter IS NOT DISTINCT FROM t.division_filter
               ORDER BY o.id DESC LIMIT $2)
      GROUP BY 1, 2, 3 ORDER BY 1, 3`,
    [runId, options.trend ?? 20],
  );
  const trend = new Map<number, TrendPoint & { checked: number; passed: number }>();
  for (const t of trendRows) {
    const id = Number(t.run_id);
    const point = trend.get(id) ?? {
      runId: id,
      startedAt: t.started_at,
      overall: null,
      registries: {},
      checked: 0,
      passed: 0,
    };
    point.registries[t.registry] = ratio(Number(t.checked) - Number(t.failed), Number(t.checked));
    point.checked += Number(t.checked);
    point.passed += Number(t.checked) - Number(t.failed);
    point.overall = ratio(point.passed, point.checked);
    trend.set(id, point);
  }

  const byProvince = await db.query<{ code: string; name: string | null; failures: number }>(
    `SELECT f.code, d.name, f.failures FROM (
       SELECT left(division_code, 2) || '0000' AS code, count(*)::bigint AS failures
         FROM quality_failures WHERE run_id = $1 AND division_code ~ '^[0-9]{6}' GROUP BY 1
     ) f LEFT JOIN divisions d ON d.code = f.code ORDER BY f.failures DESC, f.code`,
    [runId],
  );
  const topCounties = await db.query<{ code: string; name: string | null; failures: number }>(
    `SELECT f.code, concat_ws(' ', p.name, d.name) AS name, f.failures FROM (
       SELECT left(division_code, 6) AS code, count(*)::bigint AS failures
         FROM quality_failures WHERE run_id = $1 AND division_code ~ '^[0-9]{6}' GROUP BY 1
         ORDER BY 2 DESC, 1 LIMIT 20
     ) f LEFT JOIN divisions d ON d.code = f.code LEFT JOIN divisions p ON p.code = d.parent_code
      ORDER BY f.failures DESC, f.code`,
    [runId],
  );

  return {
    generatedAt: new Date().toISOString(),
    run: {
      id: Number(run.id),
      status: String(run.status),
      startedAt: String(run.started_at),
      finishedAt: (run.finished_at as string | null) ?? null,
      asOf: String(run.as_of),
      registryFilter: (run.registry_filter as string | null) ?? null,
      ruleFilter: (run.rule_filter as string[] | null) ?? null,
      divisionFilter: (run.division_filter as string | null) ?? null,
      rules: Number(run.rules),
      rowsChecked: Number(run.rows_checked),
      failures: Number(run.failures),
      exceeded: Number(run.exceeded),
      triggeredBy: String(run.triggered_by),
      database: db.kind,
    },
    rules,
    scores: [...scores.values()].sort(
      (a, b) => a.registry.localeCompare(b.registry) || a.dimension.localeCompare(b.dimension),
    ),
    trend: [...trend.values()].map(({ checked: _c, passed: _p, ...point }) => point),
    byProvince: byProvince.map((r) => ({ code: r.code, name: r.name, failures: Number(r.failures) })),
    topCounties: topCounties.map((r) => ({
      code: r.code,
      name: r.name || null,
      failures: Number(r.failures),
    })),
  };
}

/** Province outlines for the report's map: simplified SVG paths (y points down), CGCS2000 degrees. */
export async function provinceOutlines(
  db: Database,
): Promise<{ code: string; name: string; path: string }[]> {
  return db.query<{ code: string; name: string; path: string }>(
    `SELECT code, name, ST_AsSVG(ST_SimplifyPreserveTopology(boundary, 0.04), 1, 2) AS path
       FROM divisions WHERE level = 'province' AND valid_to IS NULL AND boundary IS NOT NULL ORDER BY code`,
  );
}
