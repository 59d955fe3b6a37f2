import type { Queryable } from '../db/index.ts';
import {
  type DivisionRange,
  explainCheckStatement,
  populationStatement,
  type RunParameters,
  scanPageStatement,
} from './compile.ts';
import { encryptedColumnProblems } from './encrypted-columns.ts';
import type { RuleProblem } from './rule-file.ts';
import type { Statement } from './sql-text.ts';
import type { Rule, Scan, SqlRule } from './types.ts';

interface PgError {
  message: string;
  position?: string;
  hint?: string;
}

/** Where a rule is defined, for a problem without a better line. */
function origin(rule: Rule): { file: string; line: number } {
  if (rule.kind === 'sql' && rule.lines) return { file: rule.lines.file, line: rule.lines.keys.id ?? 1 };
  return { file: `${rule.source} (rule ${rule.id})`, line: 0 };
}

/** Maps a database error on a composed statement back to the rule's file and line. */
function locateError(rule: SqlRule, statement: Statement, error: PgError, fallbackPart: string): RuleProblem {
  const at = error.position ? statement.locate(Number(error.position)) : null;
  const hint = error.hint ? ` (hint: ${error.hint})` : '';
  let message = `${error.message}${hint}`;
  if (!at && /column q\.(key|division_code|detail) does not exist/.test(error.message)) {
    message = `the check must return the columns key, division_code and detail (${error.message})`;
  }
  const part = at?.part ?? fallbackPart;
  if (!rule.lines) {
    return { ...origin(rule), message: `${part}: ${message}` };
  }
  if (part === 'check') {
    const offset = at?.offset ?? 0;
    const line = rule.lines.checkLine + (rule.check.slice(0, offset).match(/\n/g)?.length ?? 0);
    return { file: rule.lines.file, line, message };
  }
  return {
    file: rule.lines.file,
    line: rule.lines.keys[part] ?? rule.lines.keys.from ?? 1,
    message: `in '${part}': ${message}`,
  };
}

async function explain(db: Queryable, statement: Statement): Promise<PgError | null> {
  try {
    await db.query(statement.text, statement.params);
    return null;
  } catch (error) {
    return error as PgError;
  }
}

/**
 * Plans every statement a run will send (EXPLAIN: parsed, name-resolved and type-checked, not executed):
 * each SQL check as the runner wraps it, each population count, each scan page. Returns every problem,
 * each naming the file and line, so a run can refuse to start.
 */
export async function validateRules(
  db: Queryable,
  rules: readonly Rule[],
  parameters: RunParameters,
  division: DivisionRange | null,
): Promise<RuleProblem[]> {
  const problems: RuleProblem[] = [];
  const scans = new Map<Scan, Rule>();
  for (const rule of rules) {
    if (rule.kind === 'code') {
      if (!scans.has(rule.scan)) scans.set(rule.scan, rule);
      continue;
    }
    problems.push(...encryptedColumnProblems(rule));
    const check = explainCheckStatement(rule, parameters, division);
    const checkError = await explain(db, check);
    if (checkError) problems.push(locateError(rule, check, checkError, 'check'));
    const population = populationStatement(rule.population, parameters, division).prefixed('EXPLAIN ');
    const populationError = await explain(db, population);
    if (populationError) problems.push(locateError(rule, population, populationError, 'from'));
  }
  for (const [scan, rule] of scans) {
    const page = scanPageStatement(scan, undefined, 1, division);
    const error = await explain(db, page.prefixed('EXPLAIN '));
    if (error) problems.push({ ...origin(rule), message: `scan '${scan.name}': ${error.message}` });
  }
  return problems;
}
