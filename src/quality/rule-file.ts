import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RegistryName } from '../../schema/catalogue.ts';
import { datasetById } from '../../schema/datasets.ts';
import { QUALITY_DIMENSIONS, QUALITY_SEVERITIES } from '../../schema/quality.ts';
import { NAMED_PARAMETERS, scanSql } from './sql-text.ts';
import type { Dimension, Severity, SqlRule } from './types.ts';

/**
 * The declarative rule file format (documented in src/quality/rules/sql/README.md): one rule per `.sql`
 * file, metadata as `-- key: value` comment lines at the top, then one SELECT returning the failing
 * records as (key, division_code, detail).
 */

export interface RuleProblem {
  file: string;
  line: number;
  message: string;
}

/** One or more rule definitions are wrong; nothing was run. Each problem names its file and line. */
export class RuleFileError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(
      problems.length === 1
        ? format(problems[0]!)
        : `${problems.length} problems in quality rules:\n${problems.map((p) => `  ${format(p)}`).join('\n')}`,
    );
    this.name = 'RuleFileError';
  }
}

function format(p: RuleProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

export const REGISTRIES: readonly RegistryName[] = ['population', 'legal-entity', 'spatial', 'governance'];

const KEYS = {
  id: 'required',
  registry: 'required',
  dataset: 'required',
  dimension: 'required',
  severity: 'required',
  threshold: 'required',
  description: 'required',
  from: 'required',
  where: 'optional',
  division: 'optional',
  version: 'optional',
} as const;
type Key = keyof typeof KEYS;

export const RULE_ID = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/** `0.01`, `1%` or `0`: a failure rate from 0 to 1. */
export function parseThreshold(value: string): number | null {
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(value);
  const number = percent
    ? Number(percent[1]) / 100
    : /^\d+(\.\d+)?$/.test(value)
      ? Number(value)
      : Number.NaN;
  return Number.isFinite(number) && number >= 0 && number <= 1 ? number : null;
}

/** Parses one rule file; throws RuleFileError listing every problem found in it. */
export function parseRuleFile(file: string, content: string): SqlRule {
  const problems: RuleProblem[] = [];
  const problem = (line: number, message: string) => problems.push({ file, line, message });
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);

  const values = new Map<Key, { value: string; line: number }>();
  let last: Key | null = null;
  let body = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '') {
      last = null;
      continue;
    }
    if (!trimmed.startsWith('--')) {
      body = i;
      break;
    }
    const comment = trimmed.slice(2);
    const entry = /^\s*([a-z][a-z_-]*)\s*:\s*(.*)$/.exec(comment);
    if (entry) {
      const key = entry[1]! as Key;
      if (!(key in KEYS)) {
        problem(i + 1, `unknown metadata key '${entry[1]}' (known: ${Object.keys(KEYS).join(', ')})`);
        last = null;
        continue;
      }
      if (values.has(key)) {
        problem(i + 1, `metadata key '${key}' is given twice (first on line ${values.get(key)!.line})`);
        continue;
      }
      values.set(key, { value: entry[2]!.trim(), line: i + 1 });
      last = key;
    } else if (last && /^\s{3,}\S/.test(comment)) {
      // An indented comment line continues the value above it.
      const previous = values.get(last)!;
      previous.value = `${previous.value} ${comment.trim()}`.trim();
    } else {
      last = null; // a free comment
    }
  }

  const lineOf = (key: Key) => values.get(key)?.line ?? 1;
  for (const [key, need] of Object.entries(KEYS) as [Key, string][]) {
    const found = values.get(key);
    if (need === 'required' && (!found || found.value === '')) {
      problem(found?.line ?? 1, `metadata '${key}' is required ('-- ${key}: …' before the SQL)`);
    }
  }

  const get = (key: Key) => values.get(key)?.value ?? '';
  const id = get('id');
  if (id && !RULE_ID.test(id)) {
    problem(lineOf('id'), `id '${id}' must be dotted lower-case words, e.g. population.persons.phone_format`);
  }
  const registry = get('registry');
  if (registry && !REGISTRIES.includes(registry as RegistryName)) {
    problem(lineOf('registry'), `registry '${registry}' is not one of ${REGISTRIES.join(', ')}`);
  }
  const datasetId = get('dataset');
  if (datasetId && !datasetById(datasetId)) {
    problem(lineOf('dataset'), `dataset '${datasetId}' is not in the catalogue (schema/datasets.ts)`);
  }
  const dimension = get('dimension');
  if (dimension && !QUALITY_DIMENSIONS.includes(dimension as Dimension)) {
    problem(lineOf('dimension'), `dimension '${dimension}' is not one of ${QUALITY_DIMENSIONS.join(', ')}`);
  }
  const severity = get('severity');
  if (severity && !QUALITY_SEVERITIES.includes(severity as Severity)) {
    problem(lineOf('severity'), `severity '${severity}' is not one of ${QUALITY_SEVERITIES.join(', ')}`);
  }
  const thresholdText = get('threshold');
  const threshold = thresholdText ? parseThreshold(thresholdText) : 0;
  if (thresholdText && threshold === null) {
    problem(
      lineOf('threshold'),
      `threshold '${thresholdText}' must be a failure rate from 0 to 1 (or 0% to 100%)`,
    );
  }
  for (const key of ['from', 'where', 'division'] as const) {
    const text = get(key);
    if (!text) continue;
    for (const token of scanSql(text)) {
      if (token.kind === 'semicolon') problem(lineOf(key), `'${key}' must not contain ';'`);
    }
  }

  // The check: everything after the metadata, one SELECT (a trailing ';' is allowed).
  let check = lines.slice(body).join('\n').replace(/\s+$/, '');
  const checkLine = body + 1;
  const tokens = scanSql(check);
  const semicolons = tokens.filter((t) => t.kind === 'semicolon');
  const lastSemicolon = semicolons.at(-1);
  if (lastSemicolon && check.slice(lastSemicolon.at + 1).trim() === '') {
    check = check.slice(0, lastSemicolon.at).replace(/\s+$/, '');
    semicolons.pop();
  }
  const lineAt = (offset: number) => checkLine + (check.slice(0, offset).match(/\n/g)?.length ?? 0);
  if (check.trim() === '') {
    problem(Math.min(checkLine, lines.length), 'no SQL after the metadata: the file needs one SELECT');
  } else {
    for (const s of semicolons)
      problem(lineAt(s.at), 'only one statement per rule file (found a second one after this ;)');
    const start = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/.exec(check)?.[0].length ?? 0;
    if (!/^(select|with)\b/i.test(check.slice(start))) {
      problem(
        lineAt(start),
        'the check must be a SELECT (or WITH … SELECT) returning key, division_code, detail',
      );
    }
    for (const token of tokens) {
      if (token.kind === 'param' && !(token.name! in NAMED_PARAMETERS)) {
        problem(
          lineAt(token.at),
          `unknown parameter ':${token.name}' (known: ${Object.keys(NAMED_PARAMETERS)
            .map((n) => `:${n}`)
            .join(', ')})`,
        );
      }
    }
  }

  if (problems.length > 0) throw new RuleFileError(problems);
  const keys: Record<string, number> = {};
  for (const [key, { line }] of values) keys[key] = line;
  const where = get('where');
  const division = get('division');
  const version = get('version');
  return {
    kind: 'sql',
    id,
    registry: registry as RegistryName,
    dataset: datasetId,
    dimension: dimension as Dimension,
    severity: severity as Severity,
    threshold: threshold ?? 0,
    description: get('description'),
    ...(version ? { version } : {}),
    source: file,
    population: { from: get('from'), ...(where ? { where } : {}), ...(division ? { division } : {}) },
    check,
    lines: { file, checkLine, keys },
  };
}

/**
 * Reads every `*.sql` file of a folder (not recursive, in name order). Problems of all files are
 * collected, so a steward sees them together; the caller decides to throw.
 */
export function loadRuleFolder(
  dir: string,
  displayBase = process.cwd(),
): { rules: SqlRule[]; problems: RuleProblem[] } {
  const rules: SqlRule[] = [];
  const problems: RuleProblem[] = [];
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.sql'))
      .sort();
  } catch (error) {
    problems.push({
      file: dir,
      line: 0,
      message: `cannot read the rules folder: ${(error as Error).message}`,
    });
    return { rules, problems };
  }
  for (const name of names) {
    const path = join(dir, name);
    const file = relative(displayBase, path) || path;
    try {
      rules.push(parseRuleFile(file.startsWith('..') ? path : file, readFileSync(path, 'utf8')));
    } catch (error) {
      if (error instanceof RuleFileError) problems.push(...error.problems);
      else problems.push({ file, line: 0, message: (error as Error).message });
    }
  }
  return { rules, problems };
}
