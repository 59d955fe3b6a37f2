import type { Dataset } from '../../../../schema/catalogue.ts';
import { householdsDataset } from '../../../../schema/population.ts';
import { divisionExists, duplicateKeys, livingPersonExists, withinJurisdiction } from '../checks.ts';
import { divisionCode, idNumber, oneOf, text } from '../fields.ts';
import { insertNew, updateChanged } from '../merge.ts';
import { accepted, mergeFragments, type RegistrySpec } from '../spec.ts';

/**
 * Households (户籍户): keyed by household number. The head is named by citizen ID number and must be a
 * person of the population registry; the ID number is staged as its lookup key only (the blind index when
 * persons are encrypted at rest), never in clear. Household registration is public security's (the conflict
 * policy in schema/population.ts). Households carry no version: history is the change log (0012/0016).
 */
export const householdsSpec: RegistrySpec = {
  name: 'households',
  recordType: 'household',
  registry: 'population',
  dataset: householdsDataset as unknown as Dataset,
  table: 'households',
  key: ['household_number'],
  columns: [
    { name: 'household_number', type: 'text', parse: text(50), notEmpty: true },
    {
      name: 'type',
      type: 'text',
      parse: oneOf(['family', 'collective']),
      notEmpty: true,
      requiredOnInsert: true,
    },
    { name: 'division_code', type: 'text', parse: divisionCode, notEmpty: true, requiredOnInsert: true },
    { name: 'address', type: 'text', parse: text(200) },
    // Replaced by its lookup key in derive: the staging table never holds the ID number in clear.
    { name: 'head_id_number', type: 'text', parse: idNumber },
  ],
  targets: [
    { column: 'household_number', catalogue: 'householdNumber', from: 'household_number' },
    { column: 'type', catalogue: 'type', from: 'type' },
    { column: 'division_code', catalogue: 'divisionCode', from: 'division_code' },
    { column: 'address', catalogue: 'address', from: 'address' },
    { column: 'head_person_id', catalogue: 'headPersonId', from: 'head_id_number', expr: 'hp.id' },
  ],

  derive(row, storage) {
    row.head_id_number = storage.lookupKey('persons', 'id_number', row.head_id_number ?? null);
  },

  referenceChecks(ctx) {
    const checks = [
      duplicateKeys(this, ctx),
      divisionExists(ctx, 'division_code'),
      livingPersonExists(ctx, 'head_id_number', 'head_id_number'),
    ];
    const scope = withinJurisdiction(this, ctx, ['division_code']);
    if (scope) checks.push(scope);
    return checks;
  },

  resolved(ctx) {
    const m = mergeFragments(this, ctx.storage);
    const personKey = ctx.storage.compareColumn('persons', 'id_number');
    return `SELECT s.row_no, s.present, ${m.resolvedColumns}
              FROM ${ctx.stage} s LEFT JOIN persons hp ON hp.${personKey} = s.head_id_number
             WHERE ${accepted(ctx)}`;
  },

  keyMatch: () => (t, r) => `${t}.household_number = ${r}.household_number`,

  async merge(ctx) {
    const changed = await updateChanged(this, ctx, { versioned: true });
    const inserted = await insertNew(this, ctx, { versioned: true });
    return { inserted, changed };
  },
};
