import { f } from '../../schema/catalogue.ts';
import { entitiesDataset, qualificationsDataset } from '../../schema/legal-entity.ts';
import { groupByKey } from '../db/index.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { entityById } from '../registries/legal-entity/entity-store.ts';
import { EntityRef, QualificationRef } from '../registries/legal-entity/entity-types.ts';
import { qualificationsOf } from '../registries/legal-entity/qualification-store.ts';
import {
  decisionDataset,
  defineSubject,
  derivedKey,
  jurisdictionScope,
  type SubjectDefinition,
} from './subject.ts';

/**
 * 企业信用专题 — enterprise credit. One row per registered entity: its registration and status, its
 * administrative permits (held, valid today, lapsed without renewal), and the data-quality issues open on
 * its record. Permit counts are computed from public qualification records and are public; quality flags
 * are internal. Rows are scoped like entities (registered division in the caller's jurisdiction).
 */

const entity = (field: string) => ({ dataset: entitiesDataset as never, field });

const PERMITS = `qualifications q WHERE q.entity_id = e.id AND q.kind = 'permit'`;

export const enterpriseCredit: SubjectDefinition = {
  id: 'enterprise_credit',
  typeName: 'EnterpriseCreditRecord',
  queryName: 'enterpriseCredit',
  name: '企业信用专题 Enterprise credit',
  description:
    'Entities with their status, administrative permits (held, valid, lapsed) and open data-quality issues',
  owner: 'SAMR',
  updateFrequency: 'daily',
  anchor: entitiesDataset as never,
  from: 'entities e',
  where: 'TRUE',
  key: 'entity_id',
  division: 'division_code',
  scope: jurisdictionScope(['division_code']),
  columns: {
    entity_id: { expr: 'e.id', type: 'id', source: entity('id') },
    uscc: { expr: 'e.uscc', type: 'string', source: entity('uscc') },
    name: { expr: 'e.name', type: 'string', source: entity('name') },
    legal_form: { expr: 'e.legal_form', type: 'string', source: entity('legalForm') },
    status: { expr: 'e.status', type: 'string', source: entity('status') },
    status_date: { expr: 'e.status_date', type: 'date', source: entity('statusDate') },
    established_on: { expr: 'e.established_on', type: 'date', source: entity('establishedOn') },
    industry_code: { expr: 'e.industry_code', type: 'string', source: entity('industryCode') },
    division_code: { expr: 'e.division_code', type: 'string', source: entity('divisionCode') },
    registered_capital: {
      expr: 'e.registered_capital::text',
      type: 'string',
      source: entity('registeredCapital'),
    },
    permits: {
      expr: `(SELECT count(*) FROM ${PERMITS})::int`,
      type: 'int',
      source: {
        derived: f.publicOpen('Administrative permits held, counted over the public qualification records'),
      },
    },
    valid_permits: {
      expr: `(SELECT count(*) FROM ${PERMITS} AND q.status = 'valid'
                AND (q.valid_from IS NULL OR q.valid_from <= current_date)
                AND (q.valid_to IS NULL OR q.valid_to >= current_date))::int`,
      type: 'int',
      source: { derived: f.publicOpen('Permits valid today') },
    },
    lapsed_permits: {
      expr: `(SELECT count(*) FROM ${PERMITS} AND q.valid_to < current_date AND q.status IN ('valid', 'expired'))::int`,
      type: 'int',
      source: { derived: f.publicOpen('Permits whose validity ended before today (not revoked)') },
    },
    open_quality_issues: {
      expr: `(SELECT count(*) FROM quality_issues i
               WHERE i.dataset = 'legal_entity.entities' AND i.record_key = e.id::text
                 AND i.status IN ('open', 'acknowledged'))::int`,
      type: 'int',
      source: {
        derived: f.internal('Data-quality issues open or acknowledged on the entity record (no values)'),
      },
    },
  },
};

export const EnterpriseCreditRef = defineSubject(enterpriseCredit);
const decisions = decisionDataset(enterpriseCredit);

builder.objectField(EnterpriseCreditRef, 'entity', (t) =>
  t.field({
    type: EntityRef,
    nullable: true,
    requiresDataset: entitiesDataset,
    access: { dataset: entitiesDataset, field: 'id' },
    description: 'The entity in the legal-entity registry',
    resolve: (row, _a, ctx) => entityById(ctx).load(Number(row.entity_id)),
  }),
);

builder.objectField(EnterpriseCreditRef, 'permitRecords', (t) =>
  t.field({
    type: [QualificationRef],
    nullable: false,
    requiresDataset: qualificationsDataset,
    access: 'link',
    description: 'The administrative permits, oldest first',
    resolve: async (row, _a, ctx) =>
      (await qualificationsOf(ctx).load(Number(row.entity_id))).filter((q) => q.kind === 'permit'),
  }),
);

interface CreditFlag {
  entityId: string;
  ruleId: string;
  dimension: string;
  severity: string;
  description: string;
  since: string;
}

function flagsOf(ctx: GatewayContext) {
  return ctx.loaders.get<string, CreditFlag[]>('subject.credit.flags', async (ids) => {
    const found = await ctx.db.query<CreditFlag>(
      `SELECT i.record_key AS "entityId", i.rule_id AS "ruleId", r.dimension, r.severity, r.description,
              i.first_seen_at::text AS since
         FROM quality_issues i JOIN quality_rules r ON r.id = i.rule_id
        WHERE i.dataset = 'legal_entity.entities' AND i.record_key = ANY($1::text[])
          AND i.status IN ('open', 'acknowledged')
        ORDER BY i.record_key, i.rule_id`,
      [[...ids]],
    );
    return groupByKey(ids, found, (f) => f.entityId);
  });
}

const CreditFlagRef = builder.objectRef<CreditFlag>('EnterpriseCreditFlag');
CreditFlagRef.implement({
  description: 'A data-quality rule the entity record fails: which check, not the values',
  fields: (t) => ({
    ruleId: t.exposeString('ruleId', { nullable: false }),
    dimension: t.exposeString('dimension', { nullable: false }),
    severity: t.exposeString('severity', { nullable: false }),
    description: t.exposeString('description', { nullable: false }),
    since: t.exposeString('since', { nullable: false }),
  }),
});

builder.objectField(EnterpriseCreditRef, 'qualityFlags', (t) =>
  t.field({
    type: [CreditFlagRef],
    nullable: false,
    description: 'The open data-quality issues counted in openQualityIssues',
    access: { dataset: decisions, field: derivedKey(enterpriseCredit, 'open_quality_issues') },
    resolve: (row, _a, ctx) => flagsOf(ctx).load(String(row.entity_id)),
  }),
);
