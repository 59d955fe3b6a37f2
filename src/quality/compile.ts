import { scrubDetailSql } from './detail.ts';
import { type ParameterName, Statement } from './sql-text.ts';
import type { Population, Scan, SqlRule } from './types.ts';

/** The values a run binds to named parameters. */
export type RunParameters = Record<ParameterName, unknown>;

/** A division filter: codes from lo to hi (the division's prefix padded with 0s and 9s). */
export interface DivisionRange {
  code: string;
  lo: string;
  hi: string;
}

/** `SELECT count(*)` over a rule's population, limited to the division when asked. */
export function populationStatement(
  population: Population,
  parameters: RunParameters,
  division: DivisionRange | null,
): Statement {
  const s = new Statement(parameters)
    .raw('SELECT count(*)::bigint AS checked FROM ')
    .part('from', population.from);
  const conditions: (() => void)[] = [];
  if (population.where) conditions.push(() => s.raw('(').part('where', population.where!).raw(')'));
  if (division && population.division) {
    conditions.push(() =>
      s
        .raw('(')
        .part('division', population.division!)
        .raw(')::text BETWEEN ')
        .value(division.lo, 'text')
        .raw(' AND ')
        .value(division.hi, 'text'),
    );
  }
  conditions.forEach((add, i) => {
    s.raw(i === 0 ? ' WHERE ' : ' AND ');
    add();
  });
  return s;
}

/** The check's rows, typed and filtered: what validation EXPLAINs and the run inserts from. */
function checkRows(
  s: Statement,
  rule: SqlRule,
  division: DivisionRange | null,
  detail: (e: string) => string,
) {
  s.raw(`q.key::text, q.division_code::text, ${detail('q.detail::text')} FROM (\n`)
    .part('check', rule.check)
    .raw('\n) AS q');
  if (division) {
    s.raw(' WHERE q.division_code::text BETWEEN ')
      .value(division.lo, 'text')
      .raw(' AND ')
      .value(division.hi, 'text');
  }
  return s;
}

/** For validation: plans the check exactly as the run will (columns, types, parameters), runs nothing. */
export function explainCheckStatement(
  rule: SqlRule,
  parameters: RunParameters,
  division: DivisionRange | null,
): Statement {
  const s = new Statement(parameters).raw('EXPLAIN SELECT ');
  return checkRows(s, rule, division, (e) => e);
}

/** Inserts the failing records of a rule for a run and answers how many distinct keys failed. */
export function insertFailuresStatement(
  rule: SqlRule,
  runId: number,
  parameters: RunParameters,
  division: DivisionRange | null,
): Statement {
  const s = new Statement(parameters)
    .raw(
      'WITH inserted AS (\n  INSERT INTO quality_failures (run_id, rule_id, record_key, division_code, detail)\n  SELECT ',
    )
    .value(runId, 'bigint')
    .raw(', ')
    .value(rule.id, 'text')
    .raw(', ');
  checkRows(s, rule, division, scrubDetailSql);
  return s.raw(
    '\n  RETURNING record_key)\nSELECT count(DISTINCT record_key)::bigint AS failed FROM inserted',
  );
}

/** One keyset page of a scan: `key > last ORDER BY key LIMIT n` (the first page has no lower bound). */
export function scanPageStatement(
  scan: Scan,
  after: unknown,
  pageSize: number,
  division: DivisionRange | null,
): Statement {
  const s = new Statement().raw(
    `SELECT ${scan.key} AS key, ${scan.division ?? 'NULL::text'} AS division_code, ${scan.columns} FROM ${scan.from}`,
  );
  const conditions: (() => void)[] = [];
  if (scan.where) conditions.push(() => s.raw(`(${scan.where})`));
  if (after !== undefined) {
    conditions.push(() =>
      s.raw(`${scan.key} > `).value(after, typeof after === 'number' ? 'bigint' : 'text'),
    );
  }
  if (division && scan.division) {
    conditions.push(() =>
      s
        .raw(`(${scan.division})::text BETWEEN `)
        .value(division.lo, 'text')
        .raw(' AND ')
        .value(division.hi, 'text'),
    );
  }
  conditions.forEach((add, i) => {
    s.raw(i === 0 ? ' WHERE ' : ' AND ');
    add();
  });
  return s.raw(` ORDER BY ${scan.key} LIMIT ${pageSize}`);
}
