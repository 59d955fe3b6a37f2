/** Data-quality passes: rules, the runner, and the reports (see ARCHITECTURE.md, src/quality). */
export { readIdNumber } from './read-id-number.ts';
export { parseRuleFile, RuleFileError, type RuleProblem } from './rule-file.ts';
export { loadRules, RULES_DIR_VARIABLE } from './rules/index.ts';
export {
  planQualityRun,
  QualityRunError,
  QualityUsageError,
  type RunPlan,
  ruleVersion,
  runQualityPass,
  selectRules,
} from './runner.ts';
export type * from './types.ts';
