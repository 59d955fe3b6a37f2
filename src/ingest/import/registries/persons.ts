import type { Dataset } from '../../../../schema/catalogue.ts';
import { personsDataset } from '../../../../schema/population.ts';
import { divisionExists, duplicateKeys, withinJurisdiction } from '../checks.ts';
import { codeList, date, divisionCode, idNumber, oneOf, phone, point, text } from '../fields.ts';
import { insertNew, updateChanged } from '../merge.ts';
import { accepted, type MergeContext, mergeFragments, type RegistrySpec } from '../spec.ts';

/**
 * Persons (人口基础信息): keyed by citizen ID number. A delivery may carry any subset of the columns
 * (a civil-affairs file with residence changes only, say); what it does not carry is left as it is.
 * The household is referenced by its household number.
 */

const match = (ctx: MergeContext) => {
  const key = ctx.storage.compareColumn('persons', 'id_number');
  return (t: string, r: string) => `${t}.${key} = ${r}.${key}`;
};

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
  },

  referenceChecks(ctx) {
    const checks = [
      duplicateKeys(this, ctx),
      divisionExists(ctx, 'hukou_division_code'),
      divisionExists(ctx, 'residence_division_code'),
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'household_number', 'names no registered household'
         FROM ${ctx.stage} s
        WHERE s.household_number IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM households h WHERE h.household_number = s.household_number)`,
    ];
    const scope = withinJurisdiction(this, ctx, ['hukou_division_code', 'residence_division_code']);
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

  async merge(ctx) {
    // Updates first: the insert then finds only new keys, and no new row is compared again.
    const changed = await updateChanged(this, ctx, { versioned: true });
    const inserted = await insertNew(this, ctx, { versioned: true });
    return { inserted, changed };
  },
};
