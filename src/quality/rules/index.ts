import { fileURLToPath } from 'node:url';
import { loadRuleFolder, RuleFileError, type RuleProblem } from '../rule-file.ts';
import type { Rule } from '../types.ts';
import { GEOSPATIAL_RULES } from './geospatial.ts';
import { LEGAL_ENTITY_RULES } from './legal-entity.ts';
import { POPULATION_RULES } from './population.ts';
import { SPATIAL_RULES } from './spatial.ts';
import { timelinessRules } from './timeliness.ts';

/** Built-in rules written in the declarative file format (examples for stewards, too). */
export const BUILTIN_SQL_DIR = fileURLToPath(new URL('./sql', import.meta.url));

/** The environment variable naming the steward's rule folder (same as `--rules-dir`). */
export const RULES_DIR_VARIABLE = 'GOVBASE_QUALITY_RULES_DIR';

function where(rule: Rule): string {
  return rule.kind === 'sql' && rule.lines ? `${rule.lines.file}:${rule.lines.keys.id ?? 1}` : rule.source;
}

/**
 * Every rule: the built-in modules, the built-in rule files, then the steward's folder. Any problem in any
 * file (or an id defined twice) throws RuleFileError before anything runs.
 */
export function loadRules(options: { rulesDir?: string | undefined } = {}): Rule[] {
  const rules: Rule[] = [
    ...POPULATION_RULES,
    ...LEGAL_ENTITY_RULES,
    ...SPATIAL_RULES,
    ...GEOSPATIAL_RULES,
    ...timelinessRules(),
  ];
  const problems: RuleProblem[] = [];
  const builtin = loadRuleFolder(BUILTIN_SQL_DIR);
  rules.push(...builtin.rules);
  problems.push(...builtin.problems);
  if (options.rulesDir) {
    const steward = loadRuleFolder(options.rulesDir);
    rules.push(...steward.rules);
    problems.push(...steward.problems);
  }
  const seen = new Map<string, Rule>();
  for (const rule of rules) {
    const first = seen.get(rule.id);
    if (first) {
      problems.push({
        file: rule.kind === 'sql' && rule.lines ? rule.lines.file : rule.source,
        line: rule.kind === 'sql' && rule.lines ? (rule.lines.keys.id ?? 1) : 0,
        message: `rule id '${rule.id}' is already defined by ${where(first)}`,
      });
    } else seen.set(rule.id, rule);
  }
  if (problems.length > 0) throw new RuleFileError(problems);
  return rules;
}
