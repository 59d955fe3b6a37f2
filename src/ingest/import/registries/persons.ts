import type { Dataset } from '../../../../schema/catalogue.ts';
import { personsDataset } from '../../../../schema/population.ts';
import { divisionExists, duplicateKeys, withinJurisdiction } from '../checks.ts';
import { codeList, date, divisionCode, idNumber, oneOf, phone, point, text } from '../fields.ts';
import { insertNew, updateChanged } from '../merge.ts';
import { accepted, type MergeContext, mergeFragments, type RegistrySpec, supplied } from '../spec.ts';

/**
 * Persons (人口基础信息): keyed by citizen ID number. A delivery may carry any subset of the columns
 * (a civil-affairs file with residence changes only, say); what it does not carry is left as it is.
 * The household is referenced by its household number.
 */

const match = (ctx: MergeContext) => {
  const key = ctx.storage.compareColumn('persons', 'id_number');
  return (t: string, r: string) => `${t}.${key} = ${r}.${key}`;
};

/**
 * household_members follows the household a delivery gives a person: a current membership of another
 * household (or of none, when household_number is cleared) is closed today, and one of the new household
 * opened — with the delivered relation, or 户主 (02) for its head. A relation that changes closes the
 * membership and opens another. Rows that do not supply household_number leave memberships as they are.
 * Each membership opened or closed gets its lineage; returns how many rows changed memberships only (their
 * person record was neither inserted nor updated by this merge), as those count as changed too.
 */
async function keepMemberships(spec: RegistrySpec, ctx: MergeContext): Promise<number> {
  const [row] = await ctx.db.query<{ n: number }>(
    `WITH r AS (
       SELECT s.row_no, s.household_relation AS relation, p.id AS person_id, p.household_id, h.head_person_id,
              p.source_batch IS NOT DISTINCT FROM $2 AS written
         FROM ${ctx.stage} s JOIN persons p ON ${match(ctx)('p', 's')}
         LEFT JOIN households h ON h.id = p.household_id
        WHERE ${accepted(ctx)} AND ${supplied(spec, 'household_number')}),
     closed AS (
       UPDATE household_members m SET valid_to = current_date, updated_at = now(), source_dept = $1, source_batch = $2
         FROM r
        WHERE m.person_id = r.person_id AND m.valid_to IS NULL
          AND (m.household_id IS DISTINCT FROM r.household_id
               OR (r.relation IS NOT NULL AND m.relation <> r.relation))
       RETURNING m.id, m.person_id, m.household_id),
     opened AS (
       INSERT INTO household_members (household_id, person_id, relation, valid_from, source_dept, source_batch)
       SELECT r.household_id, r.person_id,
              coalesce(r.relation, CASE WHEN r.head_person_id = r.person_id THEN '02' END), current_date, $1, $2
         FROM r
        WHERE r.household_id IS NOT NULL
          -- Every part of one statement sees the memberships as they were: one closed above is open here.
          AND (NOT EXISTS (SELECT 1 FROM household_members m
                            WHERE m.person_id = r.person_id AND m.household_id = r.household_id AND m.valid_to IS NULL)
               OR EXISTS (SELECT 1 FROM closed c WHERE c.person_id = r.person_id AND c.household_id = r.household_id))
       RETURNING id, person_id),
     lin AS (
       INSERT INTO import_lineage (batch_id, row_no, record_type, record_id, version, action)
       SELECT $2, r.row_no, 'household_member', c.id, NULL::int, 'updated' FROM closed c JOIN r USING (person_id)
       UNION ALL
       SELECT $2, r.row_no, 'household_member', o.id, NULL::int, 'inserted' FROM opened o JOIN r USING (person_id)
       RETURNING row_no)
     SELECT count(DISTINCT lin.row_no)::int AS n
       FROM lin JOIN r USING (row_no)
      WHERE NOT r.written`,
    [ctx.source.code, ctx.batchId],
  );
  return Number(row?.n ?? 0);
}

/** Division columns checked against GB/T 2260, and the columns a source's jurisdiction is read from. */
const DIVISIONS = ['hukou_division_code', 'residence_division_code'] as const;

export const personsSpec: RegistrySpec = {
  name: 'persons',
  recordType: 'person',
  registry: 'population',
  dataset: personsDataset as unknown as Dataset,
  table: 'persons',
  key: ['id_number'],
  columns: [
    { name: 'id_number', type: 'text', parse: idNumber, notEmpty: true },
    { name: 'name', type: 'text', parse: text(100), notEmpty: true, requiredOnInsert: true },
    { name: 'gender', type: 'text', parse: oneOf(['1', '2']), notEmpty: true, requiredOnInsert: true },
    { name: 'birth_date', type: 'date', parse: date({ past: true }), notEmpty: true, requiredOnInsert: true },
    { name: 'ethnicity', type: 'text', parse: codeList('ethnicity') },
    { name: 'nationality', type: 'text', parse: codeList('nationality'), notEmpty: true },
    {
      name: 'hukou_division_code',
      type: 'text',
      parse: divisionCode,
      notEmpty: true,
      requiredOnInsert: true,
    },
    { name: 'hukou_address', type: 'text', parse: text(200) },
    { name: 'residence_division_code', type: 'text', parse: divisionCode },
    { name: 'residence_address', type: 'text', parse: text(200) },
    { name: 'residence_point', type: 'geometry(Point, 4490)', parse: point },
    { name: 'marital_status', type: 'text', parse: codeList('marital_status') },
    { name: 'education', type: 'text', parse: codeList('education') },
    { name: 'phone', type: 'text', parse: phone },
    { name: 'status', type: 'text', parse: oneOf(['alive', 'deceased']), notEmpty: true },
    { name: 'death_date', type: 'date', parse: date({ past: true }) },
    { name: 'household_number', type: 'text', parse: text(50) },
    // GB/T 4761 relation to the head: the membership a household_number opens (not a persons column).
    { name: 'household_relation', type: 'text', parse: codeList('household_relation') },
  ],
  targets: [
    { column: 'id_number', catalogue: 'idNumber', from: 'id_number' },
    { column: 'name', catalogue: 'name', from: 'name' },
    { column: 'gender', catalogue: 'gender', from: 'gender' },
    { column: 'birth_date', catalogue: 'birthDate', from: 'birth_date' },
    { column: 'ethnicity', catalogue: 'ethnicity', from: 'ethnicity' },
    { column: 'nationality', catalogue: 'nationality', from: 'nationality', insertDefault: `'CHN'` },
    { column: 'hukou_division_code', catalogue: 'hukouDivisionCode', from: 'hukou_division_code' },
    { column: 'hukou_address', catalogue: 'hukouAddress', from: 'hukou_address' },
    {
      column: 'residence_division_code',
      catalogue: 'residenceDivisionCode',
      from: 'residence_division_code',
    },
    { column: 'residence_address', catalogue: 'residenceAddress', from: 'residence_address' },
    { column: 'residence_point', catalogue: 'residencePoint', from: 'residence_point' },
    { column: 'marital_status', catalogue: 'maritalStatus', from: 'marital_status' },
    { column: 'education', catalogue: 'education', from: 'education' },
    { column: 'phone', catalogue: 'phone', from: 'phone' },
    { column: 'status', catalogue: 'status', from: 'status', insertDefault: `'alive'` },
    { column: 'death_date', catalogue: 'deathDate', from: 'death_date' },
    { column: 'household_id', catalogue: 'householdId', from: 'household_number', expr: 'h.id' },
  ],

  rowCheck(row, present, reject) {
    const id = row.id_number!;
    if (present('birth_date') && row.birth_date) {
      const embedded = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
      if (embedded !== row.birth_date) reject('birth_date', 'differs from the birth date in the ID number');
    }
    if (present('gender') && row.gender) {
      const male = Number(id[16]) % 2 === 1;
      if ((row.gender === '1') !== male) reject('gender', 'differs from the gender digit of the ID number');
    }
    if (present('status') && row.status === 'deceased' && !(present('death_date') && row.death_date)) {
      reject('death_date', 'is required for a deceased person');
    }
    if (present('status') && row.status === 'alive' && present('death_date') && row.death_date) {
      reject('death_date', 'must be empty for a living person');
    }
    if (row.death_date && row.birth_date && row.death_date < row.birth_date) {
      reject('death_date', 'lies before the birth date');
    }
    if (row.household_relation && !(present('household_number') && row.household_number)) {
      reject('household_relation', 'needs household_number: the household the relation is to');
    }
  },

  referenceChecks(ctx) {
    const checks = [
      duplicateKeys(this, ctx),
      ...DIVISIONS.map((column) => divisionExists(ctx, column)),
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'household_number', 'names no registered household'
         FROM ${ctx.stage} s
        WHERE s.household_number IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM households h WHERE h.household_number = s.household_number)`,
      // Joining a household needs the relation to its head (but for the head, whose relation is 户主).
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'household_relation', 'is required when the person joins a household (GB/T 4761)'
         FROM ${ctx.stage} s JOIN households h ON h.household_number = s.household_number
         LEFT JOIN persons p ON ${match(ctx)('p', 's')}
        WHERE s.household_relation IS NULL AND (p.id IS NULL OR h.head_person_id IS DISTINCT FROM p.id)
          AND NOT EXISTS (SELECT 1 FROM household_members m
                           WHERE m.person_id = p.id AND m.household_id = h.id AND m.valid_to IS NULL)`,
    ];
    const scope = withinJurisdiction(this, ctx, DIVISIONS);
    if (scope) checks.push(scope);
    return checks;
  },

  resolved(ctx) {
    const m = mergeFragments(this, ctx.storage);
    return `SELECT s.row_no, s.present, ${m.resolvedColumns}
              FROM ${ctx.stage} s LEFT JOIN households h ON h.household_number = s.household_number
             WHERE ${accepted(ctx)}`;
  },

  keyMatch: match,

  direct: { divisions: DIVISIONS, jurisdiction: DIVISIONS, versioned: true },

  async merge(ctx) {
    // Updates first: the insert then finds only new keys, and no new row is compared again.
    const changed = await updateChanged(this, ctx, { versioned: true });
    const inserted = await insertNew(this, ctx, { versioned: true });
    const membershipsOnly = await keepMemberships(this, ctx);
    return { inserted, changed: changed + membershipsOnly };
  },
};
