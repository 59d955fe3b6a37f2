import type { Dataset } from '../../../../schema/catalogue.ts';
import {
  ASSET_BANDS,
  ENTITY_STATUSES,
  entitiesDataset,
  LEGAL_FORMS,
} from '../../../../schema/legal-entity.ts';
import { parseUscc } from '../../../codes/index.ts';
import { ImportError } from '../batches.ts';
import { divisionExists, duplicateKeys, livingPersonExists, withinJurisdiction } from '../checks.ts';
import {
  currency,
  date,
  decimal,
  divisionCode,
  idNumber,
  industryCode,
  oneOf,
  point,
  text,
  uscc,
} from '../fields.ts';
import { insertNew, updateChanged } from '../merge.ts';
import { accepted, mergeFragments, type RegistrySpec } from '../spec.ts';

/**
 * Legal entities (法人单位): keyed by the unified social credit code. The legal representative is named
 * by ID number and must be a living person of the population registry; a branch names its head office by
 * USCC (registered already, or earlier in the same delivery).
 */

export const entitiesSpec: RegistrySpec = {
  name: 'entities',
  recordType: 'entity',
  registry: 'legal-entity',
  dataset: entitiesDataset as unknown as Dataset,
  table: 'entities',
  key: ['uscc'],
  geometryColumn: 'point',
  columns: [
    { name: 'uscc', type: 'text', parse: uscc, notEmpty: true },
    { name: 'uscc_status', type: 'text', presentWith: 'uscc' },
    { name: 'registration_dept', type: 'text', presentWith: 'uscc' },
    { name: 'category', type: 'text', presentWith: 'uscc' },
    { name: 'name', type: 'text', parse: text(200), notEmpty: true, requiredOnInsert: true },
    { name: 'legal_form', type: 'text', parse: oneOf(LEGAL_FORMS), notEmpty: true, requiredOnInsert: true },
    { name: 'legal_rep_id_number', type: 'text', parse: idNumber },
    { name: 'legal_rep_lookup', type: 'text', presentWith: 'legal_rep_id_number' },
    { name: 'legal_rep_name', type: 'text', parse: text(100), presentWith: 'legal_rep_id_number' },
    { name: 'registered_capital', type: 'numeric', parse: decimal(20, 2, { min: 0 }) },
    { name: 'capital_currency', type: 'text', parse: currency, notEmpty: true },
    {
      name: 'established_on',
      type: 'date',
      parse: date({ past: true }),
      notEmpty: true,
      requiredOnInsert: true,
    },
    { name: 'status', type: 'text', parse: oneOf(ENTITY_STATUSES), notEmpty: true },
    { name: 'status_date', type: 'date', parse: date({ past: true }) },
    { name: 'business_scope', type: 'text', parse: text(2000) },
    { name: 'industry_code', type: 'text', parse: industryCode },
    { name: 'division_code', type: 'text', parse: divisionCode, notEmpty: true, requiredOnInsert: true },
    { name: 'address', type: 'text', parse: text(200) },
    { name: 'point', type: 'geometry(Point, 4490)', parse: point },
    {
      name: 'registration_authority',
      type: 'text',
      parse: text(100),
      notEmpty: true,
      requiredOnInsert: true,
    },
    { name: 'parent_uscc', type: 'text', parse: uscc },
    {
      name: 'parent_relation',
      type: 'text',
      parse: oneOf(['branch', 'subordinate']),
      presentWith: 'parent_uscc',
    },
    { name: 'asset_band', type: 'text', parse: oneOf(ASSET_BANDS) },
    { name: 'total_assets', type: 'numeric', parse: decimal(20, 2) },
    { name: 'annual_revenue', type: 'numeric', parse: decimal(20, 2) },
  ],
  targets: [
    { column: 'uscc', catalogue: 'uscc', from: 'uscc' },
    { column: 'uscc_status', catalogue: 'usccStatus', from: 'uscc_status' },
    { column: 'registration_dept', catalogue: 'registrationDept', from: 'registration_dept' },
    { column: 'category', catalogue: 'category', from: 'category' },
    { column: 'name', catalogue: 'name', from: 'name' },
    { column: 'legal_form', catalogue: 'legalForm', from: 'legal_form' },
    {
      column: 'legal_rep_person_id',
      catalogue: 'legalRepPersonId',
      from: 'legal_rep_id_number',
      expr: 'p.id',
    },
    { column: 'legal_rep_id_number', catalogue: 'legalRepIdNumber', from: 'legal_rep_id_number' },
    {
      column: 'legal_rep_name',
      catalogue: 'legalRepName',
      from: 'legal_rep_name',
      expr: 'coalesce(s.legal_rep_name, p.name)',
    },
    { column: 'registered_capital', catalogue: 'registeredCapital', from: 'registered_capital' },
    {
      column: 'capital_currency',
      catalogue: 'capitalCurrency',
      from: 'capital_currency',
      insertDefault: `'CNY'`,
    },
    { column: 'established_on', catalogue: 'establishedOn', from: 'established_on' },
    { column: 'status', catalogue: 'status', from: 'status', insertDefault: `'active'` },
    {
      column: 'status_date',
      catalogue: 'statusDate',
      from: 'status_date',
      insertDefault: 'r.established_on',
    },
    { column: 'business_scope', catalogue: 'businessScope', from: 'business_scope' },
    { column: 'industry_code', catalogue: 'industryCode', from: 'industry_code' },
    { column: 'division_code', catalogue: 'divisionCode', from: 'division_code' },
    { column: 'address', catalogue: 'address', from: 'address' },
    { column: 'point', catalogue: 'point', from: 'point' },
    { column: 'registration_authority', catalogue: 'registrationAuthority', from: 'registration_authority' },
    { column: 'parent_entity_id', catalogue: 'parentEntityId', from: 'parent_uscc', expr: 'par.id' },
    {
      column: 'parent_relation',
      catalogue: 'parentRelation',
      from: 'parent_relation',
      expr: `coalesce(s.parent_relation, CASE WHEN s.parent_uscc IS NOT NULL THEN 'branch' END)`,
    },
    { column: 'asset_band', catalogue: 'assetBand', from: 'asset_band' },
    { column: 'total_assets', catalogue: 'totalAssets', from: 'total_assets' },
    { column: 'annual_revenue', catalogue: 'annualRevenue', from: 'annual_revenue' },
  ],

  rowCheck(row, present, reject) {
    if (row.status_date && row.established_on && row.status_date < row.established_on) {
      reject('status_date', 'lies before the establishment date');
    }
    if (present('parent_relation') && row.parent_relation && !row.parent_uscc) {
      reject('parent_relation', 'needs parent_uscc');
    }
    if (row.parent_uscc && row.parent_uscc === row.uscc) reject('parent_uscc', 'is the entity itself');
  },

  derive(row, storage) {
    const parsed = parseUscc(row.uscc!);
    if (parsed.ok) {
      row.uscc_status = parsed.value.pilotException ? 'pilot_exception' : 'valid';
      row.registration_dept = parsed.value.registrationDept;
      row.category = parsed.value.category;
    }
    row.legal_rep_lookup = storage.lookupKey('persons', 'id_number', row.legal_rep_id_number ?? null);
  },

  referenceChecks(ctx) {
    const checks = [
      duplicateKeys(this, ctx),
      divisionExists(ctx, 'division_code'),
      livingPersonExists(ctx, 'legal_rep_id_number', 'legal_rep_lookup'),
      `INSERT INTO ${ctx.rejects} (row_no, field, reason)
       SELECT s.row_no, 'parent_uscc', 'names no registered entity (nor one in this delivery)'
         FROM ${ctx.stage} s
        WHERE s.parent_uscc IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.uscc = s.parent_uscc)
          AND NOT EXISTS (SELECT 1 FROM ${ctx.stage} o WHERE o.uscc = s.parent_uscc)`,
    ];
    const scope = withinJurisdiction(this, ctx, ['division_code']);
    if (scope) checks.push(scope);
    return checks;
  },

  resolved(ctx) {
    const m = mergeFragments(this, ctx.storage);
    const personKey = ctx.storage.compareColumn('persons', 'id_number');
    return `SELECT s.row_no, s.present, s.parent_uscc AS parent_uscc_given, ${m.resolvedColumns}
              FROM ${ctx.stage} s
              LEFT JOIN persons p ON p.${personKey} = s.legal_rep_lookup
              LEFT JOIN entities par ON par.uscc = s.parent_uscc
             WHERE ${accepted(ctx)}`;
  },

  keyMatch: () => (t, r) => `${t}.uscc = ${r}.uscc`,

  async merge(ctx) {
    // New entities first, head offices before their branches (a branch waits for its parent's id).
    let inserted = 0;
    for (;;) {
      const n = await insertNew(this, ctx, {
        versioned: true,
        where: `r.parent_uscc_given IS NULL OR r.parent_entity_id IS NOT NULL`,
      });
      inserted += n;
      if (n === 0) break;
    }
    const [left] = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${ctx.stage} s
        WHERE ${accepted(ctx)} AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.uscc = s.uscc)`,
    );
    if (Number(left?.n ?? 0) > 0) {
      throw new ImportError(
        `${left!.n} new entities name head offices that form a cycle within the delivery`,
      );
    }
    const changed = await updateChanged(this, ctx, { versioned: true });
    return { inserted, changed };
  },
};
