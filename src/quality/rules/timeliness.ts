import { getTableName } from 'drizzle-orm';
import type { Dataset, DatasetMeta } from '../../../schema/catalogue.ts';
import { DATASETS } from '../../../schema/datasets.ts';
import type { SqlRule } from '../types.ts';

const SOURCE = 'builtin:src/quality/rules/timeliness.ts';

/** The longest a record may go without an update, per declared frequency, with a grace period. */
export const FRESHNESS: Partial<Record<DatasetMeta['updateFrequency'], string>> = {
  daily: '2 days',
  weekly: '8 days',
  monthly: '1 month 7 days',
  quarterly: '3 months 15 days',
  yearly: '1 year 1 month',
};

/** SQL: the freshness interval of a frequency held in a column (NULL for realtime and static). */
export function freshnessSql(column: string): string {
  const cases = Object.entries(FRESHNESS).map(
    ([frequency, period]) => `WHEN '${frequency}' THEN interval '${period}'`,
  );
  return `CASE ${column} ${cases.join(' ')} END`;
}

/**
 * Timeliness: for every dataset that declares a periodic update frequency and has an `updated_at`
 * column, records not updated within that period (plus grace) before the reference date fail.
 * Governance datasets are the platform's own bookkeeping and are left out.
 */
export function timelinessRules(
  datasets: readonly Dataset[] = DATASETS,
  /** Datasets with a finer rule of their own (features: per layer). */
  except: readonly string[] = ['spatial.features'],
): SqlRule[] {
  const rules: SqlRule[] = [];
  for (const dataset of datasets) {
    if (except.includes(dataset.id)) continue;
    const period = FRESHNESS[dataset.updateFrequency];
    const fields = dataset.fields as Record<string, unknown>;
    if (!period || dataset.registry === 'governance' || !('updatedAt' in fields)) continue;
    const table = getTableName(dataset.table);
    const key = 'id' in fields ? 'id' : 'code' in fields ? 'code' : null;
    if (!table || !key) continue;
    const division =
      'code' in fields && dataset.id === 'spatial.divisions'
        ? 't.code'
        : 'divisionCode' in fields
          ? 't.division_code'
          : undefined;
    rules.push({
      kind: 'sql',
      id: `${dataset.id}.timeliness`,
      registry: dataset.registry,
      dataset: dataset.id,
      source: SOURCE,
      dimension: 'timeliness',
      severity: 'warn',
      threshold: 0.05,
      description: `Records of ${dataset.id} were updated within their declared update frequency (${dataset.updateFrequency}, ${period} with grace)`,
      population: { from: `${table} t`, ...(division ? { division } : {}) },
      check: `
SELECT t.${key} AS key, ${division ?? 'NULL::text'} AS division_code,
       'last updated ' || to_char(t.updated_at, 'YYYY-MM-DD') || ', ' || (:as_of - t.updated_at::date) || ' days before the reference date' AS detail
  FROM ${table} t
 WHERE t.updated_at < :as_of - interval '${period}'`,
    });
  }
  return rules;
}
