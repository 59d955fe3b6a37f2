import { ATTRIBUTE_RECORD_TYPES, attributeValuesDataset } from '../../../../schema/attributes.ts';
import type { Dataset } from '../../../../schema/catalogue.ts';
import { textValueDefect, typedValues, VALUE_COLUMNS, valueDiffers } from '../../../attributes/validate.ts';
import { inScopeSql, sqlText } from '../checks.ts';
import { Invalid, idNumber, oneOf, text, textOf } from '../fields.ts';
import { accepted, type MergeContext, type RegistrySpec } from '../spec.ts';

/**
 * Attribute values (fields on demand, src/attributes): a delivery of (record_type, record_key, code, value)
 * rows (an empty value removes the record's current value). A person is named by ID number, an entity by USCC, a feature by its layer's feature key (or id).
 * Each value is checked against the attribute's current definition in SQL (src/attributes/validate.ts):
 * unknown or retired code, wrong type, out of range, pattern, not in the code list, unknown record, outside
 * the source's jurisdiction, a source that is not the attribute's owner (its authoritative source). The
 * merge closes a current value that really changed and inserts its successor; the same delivery twice
 * changes nothing. Values are never deleted; the change log is written by the table's triggers.
 */

/** A value as delivered: text; a JSON object (a GeoJSON geometry in NDJSON) as its JSON text. */
const anyValue = (raw: unknown) => {
  if (raw !== null && typeof raw === 'object') return JSON.stringify(raw);
  const t = textOf(raw);
  if (t !== null && t.length > 100_000) return new Invalid('is longer than 100000 characters');
  return t;
};

/** SQL over the staged row `s`: the id of the record it names (NULL when none), given its definition `d`. */
function recordIdSql(ctx: MergeContext, s: string, d: string): string {
  const personKey = ctx.storage.compareColumn('persons', 'id_number');
  return `CASE ${s}.record_type
    WHEN 'person' THEN (SELECT p.id FROM persons p WHERE p.${personKey} = ${s}.record_ref)
    WHEN 'entity' THEN (SELECT e.id FROM entities e WHERE e.uscc = ${s}.record_key)
    ELSE coalesce(
      (SELECT k.feature_id FROM feature_keys k WHERE k.layer_id = ${d}.layer_id AND k.feature_key = ${s}.record_key),
      (SELECT f.id FROM features f WHERE f.layer_id = ${d}.layer_id
          AND f.id = CASE WHEN ${s}.record_key ~ '^[0-9]{1,18}$' THEN ${s}.record_key::int8 END))
  END`;
}

const current = (s: string) =>
  `attribute_definitions d ON d.record_type = ${s}.record_type AND d.code = ${s}.code AND d.superseded_at IS NULL`;

export const attributesSpec: RegistrySpec = {
  name: 'attributes',
  recordType: 'attribute_value',
  registry: 'attributes',
  dataset: attributeValuesDataset as unknown as Dataset,
  table: 'attribute_values',
  key: ['record_type', 'record_key', 'code'],
  columns: [
    { name: 'record_type', type: 'text', parse: oneOf(ATTRIBUTE_RECORD_TYPES), notEmpty: true },
    { name: 'record_key', type: 'text', parse: text(100), notEmpty: true },
    { name: 'code', type: 'text', parse: text(63), notEmpty: true },
    // Empty: the record's current value is removed (closed, kept in history).
    { name: 'value', type: 'text', parse: anyValue },
    // The key a record is looked up by: a person's by the blind index of the ID number (never in clear).
    { name: 'record_ref', type: 'text', presentWith: 'record_key' },
  ],
  targets: [],
  rowCheck(row, present, reject) {
    if (!present('value')) reject('value', 'is required (an empty value removes the current one)');
    if (row.record_type !== 'person') return;
    const parsed = idNumber(row.record_key, { today: new Date().toISOString().slice(0, 10) } as never);
    if (parsed instanceof Invalid) reject('record_key', `is not a citizen ID number: ${parsed.reason}`);
  },
  derive(row, storage) {
    if (row.record_type === 'person') {
      const normalised = idNumber(row.record_key, { today: new Date().toISOString().slice(0, 10) } as never);
      row.record_ref = storage.lookupKey('persons', 'id_number', normalised as string) ?? null;
      // The ID number itself is not staged: only its blind index.
      row.record_key = null;
    } else row.record_ref = row.record_key ?? null;
  },
  referenceChecks(ctx) {
    const reject = (field: string, reason: string, from: string, where: string) =>
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, ${sqlText(field)}, ${reason} FROM ${ctx.stage} s ${from}
        WHERE ${accepted(ctx)} AND ${where}`;
    const checks = [
      reject(
        'record_key',
        `'repeats the value of row ' || x.first`,
        `JOIN (SELECT record_type, record_ref, code, min(row_no) AS first FROM ${ctx.stage}
                GROUP BY 1, 2, 3 HAVING count(*) > 1) x
           ON x.record_type = s.record_type AND x.record_ref = s.record_ref AND x.code = s.code`,
        's.row_no <> x.first',
      ),
      reject(
        'code',
        `'is not an attribute of ' || s.record_type || ' records (ATTRIBUTE_UNKNOWN)'`,
        `LEFT JOIN ${current('s')}`,
        'd.id IS NULL',
      ),
      reject(
        'code',
        `'is retired (ATTRIBUTE_RETIRED' || coalesce(': ' || d.retire_reason, '') || ')'`,
        `JOIN ${current('s')}`,
        `d.status = 'retired'`,
      ),
      reject(
        'value',
        `v.reason || ' (INVALID_ATTRIBUTE_VALUE)'`,
        `JOIN ${current('s')} CROSS JOIN LATERAL (SELECT ${textValueDefect('d', 's.value')} AS reason) v`,
        's.value IS NOT NULL AND v.reason IS NOT NULL',
      ),
      reject(
        'record_key',
        `'names no ' || s.record_type || CASE WHEN s.record_type = 'feature' THEN ' of layer ' || d.layer_id ELSE '' END`,
        `JOIN ${current('s')}`,
        `(${recordIdSql(ctx, 's', 'd')}) IS NULL`,
      ),
      // The owner department is the attribute's authoritative source: only it, or a department of the same
      // line of business, writes its values.
      reject(
        'value',
        `'may be written only by ' || d.owner_dept || ' or a department of its kind, its authoritative source (' || ${sqlText(ctx.source.code)} || ' is ' || ${sqlText(ctx.source.kind)} || ')'`,
        `JOIN ${current('s')} JOIN departments o ON o.code = d.owner_dept`,
        `d.owner_dept <> ${sqlText(ctx.source.code)} AND o.kind <> ${sqlText(ctx.source.kind)}`,
      ),
    ];
    const scope = ctx.source.scope;
    if (scope) {
      checks.push(
        reject(
          'record_key',
          sqlText(`lies outside the jurisdiction of ${ctx.source.code} (${scope.code})`),
          '',
          `(s.record_type = 'person' AND NOT EXISTS (SELECT 1 FROM persons p
              WHERE p.${ctx.storage.compareColumn('persons', 'id_number')} = s.record_ref
                AND (${inScopeSql(scope, 'p.hukou_division_code')} OR ${inScopeSql(scope, 'p.residence_division_code')})))
           OR (s.record_type = 'entity' AND NOT EXISTS (SELECT 1 FROM entities e
              WHERE e.uscc = s.record_key AND ${inScopeSql(scope, 'e.division_code')}))`,
        ),
      );
    }
    return checks;
  },
  resolved(ctx) {
    return `SELECT s.row_no, s.present, d.id AS definition_id, s.record_type, s.code, s.value IS NULL AS removal,
                   (${recordIdSql(ctx, 's', 'd')}) AS record_id,
                   ${typedValues('d', 's.value')
                     .map((expr, i) => `${expr} AS ${VALUE_COLUMNS[i]}`)
                     .join(', ')}
              FROM ${ctx.stage} s JOIN ${current('s')} WHERE ${accepted(ctx)}`;
  },
  keyMatch: () => (t, r) =>
    `${t}.record_type = ${r}.record_type AND ${t}.code = ${r}.code AND ${t}.record_id = ${r}.record_id AND ${t}.valid_to IS NULL`,
  recordExists: () => 'FALSE',
  async merge(ctx) {
    const r = `${ctx.stage}_r`;
    const batch = sqlText(ctx.batchId);
    const source = sqlText(ctx.source.code);
    await ctx.db.query(`DROP TABLE IF EXISTS ${r}`);
    await ctx.db.query(
      `CREATE UNLOGGED TABLE ${r} AS
       SELECT x.*, v.id IS NOT NULL AS had_value,
              CASE WHEN x.removal THEN v.id IS NOT NULL ELSE (v.id IS NULL OR (${valueDiffers('x', 'v')})) END AS differs
         FROM (${this.resolved(ctx)}) x LEFT JOIN attribute_values v ON ${this.keyMatch(ctx)('v', 'x')}`,
    );
    // A replacement: the current value closes without a change-log row of its own (its successor logs).
    await ctx.db.query(`SELECT set_config('govbase.attribute_replacing', 'on', true)`);
    await ctx.db.query(
      `UPDATE attribute_values v SET valid_to = now(), updated_at = now()
         FROM ${r} r WHERE ${this.keyMatch(ctx)('v', 'r')} AND r.had_value AND r.differs AND NOT r.removal`,
    );
    await ctx.db.query(`SELECT set_config('govbase.attribute_replacing', 'off', true)`);
    // A removal: the current value closes with no successor (the change log records it from the update).
    const [removed] = await ctx.db.query<{ n: number }>(
      `WITH closed AS (
         UPDATE attribute_values v SET valid_to = now(), updated_at = now()
           FROM ${r} r WHERE ${this.keyMatch(ctx)('v', 'r')} AND r.removal AND r.had_value
         RETURNING v.id, r.row_no, r.definition_id),
       lineage AS (
         INSERT INTO import_lineage (batch_id, row_no, record_type, record_id, version, action)
         SELECT ${batch}, c.row_no, 'attribute_value', c.id, d.version, 'updated'
           FROM closed c JOIN attribute_definitions d ON d.id = c.definition_id
         RETURNING 1)
       SELECT count(*)::int AS n FROM lineage`,
    );
    const columns = VALUE_COLUMNS.join(', ');
    await ctx.db.query(
      `INSERT INTO attribute_values (definition_id, record_type, code, record_id, ${columns}, source_dept,
                                     source_batch, recorded_by)
       SELECT r.definition_id, r.record_type, r.code, r.record_id, ${VALUE_COLUMNS.map((c) => `r.${c}`).join(', ')},
              ${source}, ${batch}, b.submitted_by
         FROM ${r} r JOIN import_batches b ON b.id = ${batch}
        WHERE r.differs AND NOT r.removal ORDER BY r.row_no`,
    );
    const [counts] = await ctx.db.query<{ inserted: number; changed: number }>(
      `WITH lineage AS (
         INSERT INTO import_lineage (batch_id, row_no, record_type, record_id, version, action)
         SELECT ${batch}, r.row_no, 'attribute_value', v.id, d.version,
                CASE WHEN r.had_value THEN 'updated' ELSE 'inserted' END
           FROM ${r} r JOIN attribute_values v ON ${this.keyMatch(ctx)('v', 'r')}
           JOIN attribute_definitions d ON d.id = r.definition_id
          WHERE r.differs AND NOT r.removal
         RETURNING action)
       SELECT count(*) FILTER (WHERE action = 'inserted')::int AS inserted,
              count(*) FILTER (WHERE action = 'updated')::int AS changed FROM lineage`,
    );
    await ctx.db.query(`DROP TABLE ${r}`);
    return {
      inserted: Number(counts?.inserted ?? 0),
      changed: Number(counts?.changed ?? 0) + Number(removed?.n ?? 0),
    };
  },
};
