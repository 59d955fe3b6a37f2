import { type SQL, sql } from 'drizzle-orm';
import type {
  ASSET_BANDS,
  ENTITY_STATUSES,
  LEGAL_FORMS,
  USCC_STATUSES,
} from '../../../schema/legal-entity.ts';
import type { JurisdictionScope } from '../../access/principal.ts';
import type { Geometry } from '../../db/geojson.ts';
import { groupByKey, rows } from '../../db/index.ts';
import type { GatewayContext } from '../../gateway/context.ts';

export type LegalForm = (typeof LEGAL_FORMS)[number];
export type EntityStatus = (typeof ENTITY_STATUSES)[number];

export interface EntityRow {
  id: number;
  uscc: string;
  usccStatus: (typeof USCC_STATUSES)[number];
  name: string;
  registrationDept: string;
  category: string;
  legalForm: LegalForm;
  legalRepPersonId: number | null;
  legalRepName: string | null;
  legalRepIdNumber: string | null;
  /** numeric, exact, as a decimal string */
  registeredCapital: string | null;
  capitalCurrency: string;
  establishedOn: string;
  status: EntityStatus;
  statusDate: string | null;
  businessScope: string | null;
  industryCode: string | null;
  divisionCode: string;
  address: string | null;
  point: Geometry | null;
  registrationAuthority: string;
  parentEntityId: number | null;
  parentRelation: 'branch' | 'subordinate' | null;
  assetBand: (typeof ASSET_BANDS)[number] | null;
  totalAssets: string | null;
  annualRevenue: string | null;
  version: number;
  validFrom: Date;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export interface FormerNameRow {
  id: number;
  entityId: number;
  name: string;
  validFrom: string | null;
  validTo: string;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export const ENTITY_COLUMNS = sql.raw(`e.id, e.uscc, e.uscc_status AS "usccStatus", e.name,
  e.registration_dept AS "registrationDept", e.category, e.legal_form AS "legalForm",
  e.legal_rep_person_id AS "legalRepPersonId", e.legal_rep_name AS "legalRepName",
  e.legal_rep_id_number AS "legalRepIdNumber", e.registered_capital AS "registeredCapital",
  e.capital_currency AS "capitalCurrency", e.established_on AS "establishedOn", e.status,
  e.status_date AS "statusDate", e.business_scope AS "businessScope", e.industry_code AS "industryCode",
  e.division_code AS "divisionCode", e.address, ST_AsGeoJSON(e.point, 7, 0)::json AS point,
  e.registration_authority AS "registrationAuthority", e.parent_entity_id AS "parentEntityId",
  e.parent_relation AS "parentRelation", e.asset_band AS "assetBand", e.total_assets AS "totalAssets",
  e.annual_revenue AS "annualRevenue", e.version, e.valid_from AS "validFrom", e.updated_at AS "updatedAt",
  e.source_dept AS "sourceDept", e.source_batch AS "sourceBatch"`);

/**
 * Row scope in SQL: an entity belongs to the jurisdiction of its registered division. A caller without a
 * jurisdiction (national departments, and the public, who see only the publicised fields) sees all.
 */
export function entityScope(scope: JurisdictionScope | null, alias = 'e'): SQL {
  if (!scope) return sql`TRUE`;
  return sql`${sql.raw(`${alias}.division_code`)} BETWEEN ${scope.lo} AND ${scope.hi}`;
}

/** The last code of a division's subtree, for `code BETWEEN prefix AND subtreeEnd(prefix)`. */
export function subtreeEnd(prefix: string): string {
  return prefix + '9'.repeat(12 - prefix.length);
}

/** Entities by internal id, within the caller's jurisdiction (others load as null). */
export function entityById(ctx: GatewayContext) {
  return ctx.loaders.get<number, EntityRow | null>('entity.byId', async (ids) => {
    const found = await rows<EntityRow>(
      ctx.db,
      sql`SELECT ${ENTITY_COLUMNS} FROM entities e
           WHERE e.id = ANY(${sql.param(ids.map(Number))}::bigint[]) AND ${entityScope(ctx.access.principal.scope)}`,
    );
    const byId = new Map(found.map((e) => [Number(e.id), e]));
    return ids.map((id) => byId.get(Number(id)) ?? null);
  });
}

/** Entities by USCC, unscoped: the caller decides what an out-of-scope hit means. */
export function entityByUscc(ctx: GatewayContext) {
  return ctx.loaders.get<string, EntityRow | null>('entity.byUscc', async (codes) => {
    const found = await rows<EntityRow>(
      ctx.db,
      sql`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.uscc = ANY(${sql.param([...codes])}::text[])`,
    );
    const byCode = new Map(found.map((e) => [e.uscc, e]));
    return codes.map((code) => byCode.get(code) ?? null);
  });
}

/** Units whose parent is the key (branches and subordinate units), in scope, oldest first. */
export function childrenOf(ctx: GatewayContext) {
  return ctx.loaders.get<number, EntityRow[]>('entity.children', async (ids) => {
    const found = await rows<EntityRow>(
      ctx.db,
      sql`SELECT ${ENTITY_COLUMNS} FROM entities e
           WHERE e.parent_entity_id = ANY(${sql.param(ids.map(Number))}::bigint[])
             AND ${entityScope(ctx.access.principal.scope)}
           ORDER BY e.parent_entity_id, e.established_on, e.id`,
    );
    return groupByKey(ids.map(Number), found, (e) => Number(e.parentEntityId));
  });
}

/** Entities a person represents (legal representative or operator), in scope. */
export function entitiesRepresentedBy(ctx: GatewayContext) {
  return ctx.loaders.get<number, EntityRow[]>('entity.byLegalRep', async (ids) => {
    const found = await rows<EntityRow>(
      ctx.db,
      sql`SELECT ${ENTITY_COLUMNS} FROM entities e
           WHERE e.legal_rep_person_id = ANY(${sql.param(ids.map(Number))}::bigint[])
             AND ${entityScope(ctx.access.principal.scope)}
           ORDER BY e.legal_rep_person_id, e.established_on, e.id`,
    );
    return groupByKey(ids.map(Number), found, (e) => Number(e.legalRepPersonId));
  });
}

export function formerNamesOf(ctx: GatewayContext) {
  return ctx.loaders.get<number, FormerNameRow[]>('entity.formerNames', async (ids) => {
    const found = await rows<FormerNameRow>(
      ctx.db,
      sql`SELECT id, entity_id AS "entityId", name, valid_from AS "validFrom", valid_to AS "validTo",
                 updated_at AS "updatedAt", source_dept AS "sourceDept", source_batch AS "sourceBatch"
            FROM entity_former_names WHERE entity_id = ANY(${sql.param(ids.map(Number))}::bigint[])
           ORDER BY entity_id, valid_to, id`,
    );
    return groupByKey(ids.map(Number), found, (f) => Number(f.entityId));
  });
}
