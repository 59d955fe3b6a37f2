import type { AttributeRecordType } from '../../schema/attributes.ts';
import { ATTRIBUTE_CODE_PATTERN } from '../../schema/attributes.ts';

/**
 * SQL helpers for set-based code that reads attributes like columns: a rule tag's predicate over its record
 * `r` (src/tags/definitions.ts), a subject view, an export. The current value of an attribute of the record
 * is a correlated lookup that the (record type, code, record) key of attribute_values answers, e.g.
 *
 *   predicate: `r.status = 'alive' AND ${attributeValueSql('person', 'disability_level', 'int')} <= 2`
 *
 * Only what the SQL reads is decided here; who may see the tag (or the export) is decided by the tag's (or
 * the dataset's) own classification, as for any predicate over registry columns.
 */

const COLUMNS = {
  text: 'value_text',
  code: 'value_text',
  int: 'value_int',
  decimal: 'value_num',
  date: 'value_date',
  boolean: 'value_bool',
  geometry: 'value_geom',
} as const;

export function attributeValueSql(
  recordType: AttributeRecordType,
  code: string,
  type: keyof typeof COLUMNS,
  alias = 'r',
): string {
  if (!ATTRIBUTE_CODE_PATTERN.test(code)) throw new Error(`'${code}' is not an attribute code`);
  if (!/^[a-z_][a-z0-9_]*$/.test(alias)) throw new Error(`'${alias}' is not a table alias`);
  return `(SELECT av.${COLUMNS[type]} FROM attribute_values av WHERE av.record_type = '${recordType}'
            AND av.code = '${code}' AND av.record_id = ${alias}.id AND av.valid_to IS NULL)`;
}
