import type { AttributeRecordType } from '../../schema/attributes.ts';
import type { Queryable } from '../db/index.ts';
import type { SqlRule } from '../quality/types.ts';
import { RECORD_DATASETS } from './access.ts';
import { type AttributeDefinition, currentDefinitions } from './definitions.ts';
import { storedValueDefect } from './validate.ts';

/**
 * Each active attribute's validation as a quality rule, generated from its current definition when a pass
 * is planned (src/quality/runner.ts): id `attributes.<record type>.<code>.valid`, versioned with the
 * definition (`v<version>`), so a changed range or code list is a new rule version in the run records.
 * The check is the same SQL the import refuses values by (src/attributes/validate.ts), over the current
 * stored values: a pass reports values that break the definition (loaded before a change of it, or written
 * past the import).
 */

const RECORDS: Record<AttributeRecordType, { table: string; division: string }> = {
  person: { table: 'persons', division: 'r.hukou_division_code' },
  entity: { table: 'entities', division: 'r.division_code' },
  feature: { table: 'features', division: 'r.division_code' },
};

const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

export function attributeRule(def: AttributeDefinition): SqlRule {
  const record = RECORDS[def.recordType];
  const dataset = RECORD_DATASETS[def.recordType];
  const from = `attribute_values a JOIN ${record.table} r ON r.id = a.record_id`;
  const where = `a.record_type = ${lit(def.recordType)} AND a.code = ${lit(def.code)} AND a.valid_to IS NULL`;
  return {
    kind: 'sql',
    id: `attributes.${def.recordType}.${def.code}.valid`,
    registry: dataset.registry,
    dataset: dataset.id,
    dimension: 'normative',
    severity: 'warn',
    threshold: 0,
    description: `Values of attribute ${def.code} (${def.name}) follow its definition v${def.version}: ${def.dataType}${
      def.minValue !== null || def.maxValue !== null
        ? ` in [${def.minValue ?? ''}, ${def.maxValue ?? ''}]`
        : ''
    }${def.pattern ? `, pattern ${def.pattern}` : ''}${def.codeValues ? `, one of ${def.codeValues.join(', ')}` : ''}`,
    version: `v${def.version}`,
    source: `attribute:${def.recordType}.${def.code}@v${def.version}`,
    population: { from, where, division: record.division },
    check: `
SELECT a.record_id AS key, ${record.division} AS division_code,
       'attribute ${def.code} ' || v.reason AS detail
  FROM ${from}
  JOIN attribute_definitions d ON d.id = ${Number(def.id)}
 CROSS JOIN LATERAL (SELECT ${storedValueDefect('d', 'a')} AS reason) v
 WHERE ${where} AND v.reason IS NOT NULL`,
  };
}

/** The quality rules of every active attribute. */
export async function attributeRules(db: Queryable): Promise<SqlRule[]> {
  return (await currentDefinitions(db)).filter((d) => d.status === 'active').map(attributeRule);
}
