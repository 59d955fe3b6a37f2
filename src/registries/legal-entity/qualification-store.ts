import { sql } from 'drizzle-orm';
import type {
  ONLINE_SHOP_STATUSES,
  QUALIFICATION_KINDS,
  QUALIFICATION_STATUSES,
} from '../../../schema/legal-entity.ts';
import { groupByKey, rows } from '../../db/index.ts';
import type { GatewayContext } from '../../gateway/context.ts';

export interface QualificationRow {
  id: number;
  entityId: number;
  kind: (typeof QUALIFICATION_KINDS)[number];
  number: string;
  type: string;
  title: string | null;
  status: (typeof QUALIFICATION_STATUSES)[number];
  validFrom: string | null;
  validTo: string | null;
  issuingAuthority: string;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export interface OnlineShopRow {
  id: number;
  platform: string;
  shopName: string;
  shopUrl: string;
  operatorKind: 'person' | 'entity';
  operatorEntityId: number | null;
  operatorPersonId: number | null;
  operatorName: string;
  divisionCode: string;
  status: (typeof ONLINE_SHOP_STATUSES)[number];
  openedOn: string | null;
  closedOn: string | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

/** Qualifications of entities (the entity is already in scope), by kind then validity. */
export function qualificationsOf(ctx: GatewayContext) {
  return ctx.loaders.get<number, QualificationRow[]>('entity.qualifications', async (ids) => {
    const found = await rows<QualificationRow>(
      ctx.db,
      sql`SELECT id, entity_id AS "entityId", kind, number, type, title, status, valid_from AS "validFrom",
                 valid_to AS "validTo", issuing_authority AS "issuingAuthority", updated_at AS "updatedAt",
                 source_dept AS "sourceDept", source_batch AS "sourceBatch"
            FROM qualifications WHERE entity_id = ANY(${sql.param(ids.map(Number))}::bigint[])
           ORDER BY entity_id, kind, valid_from, id`,
    );
    return groupByKey(ids.map(Number), found, (q) => Number(q.entityId));
  });
}

const SHOP_COLUMNS = sql.raw(`o.id, o.platform, o.shop_name AS "shopName", o.shop_url AS "shopUrl",
  o.operator_kind AS "operatorKind", o.operator_entity_id AS "operatorEntityId",
  o.operator_person_id AS "operatorPersonId", o.operator_name AS "operatorName", o.division_code AS "divisionCode",
  o.status, o.opened_on AS "openedOn", o.closed_on AS "closedOn", o.updated_at AS "updatedAt",
  o.source_dept AS "sourceDept", o.source_batch AS "sourceBatch"`);

function shopScope(ctx: GatewayContext) {
  const scope = ctx.access.principal.scope;
  return scope ? sql`o.division_code BETWEEN ${scope.lo} AND ${scope.hi}` : sql`TRUE`;
}

/** Online shops run by entities, within the caller's jurisdiction (by the shop's division). */
export function shopsOfEntity(ctx: GatewayContext) {
  return ctx.loaders.get<number, OnlineShopRow[]>('entity.onlineShops', async (ids) => {
    const found = await rows<OnlineShopRow>(
      ctx.db,
      sql`SELECT ${SHOP_COLUMNS} FROM online_shops o
           WHERE o.operator_entity_id = ANY(${sql.param(ids.map(Number))}::bigint[]) AND ${shopScope(ctx)}
           ORDER BY o.operator_entity_id, o.platform, o.id`,
    );
    return groupByKey(ids.map(Number), found, (o) => Number(o.operatorEntityId));
  });
}

/** Online shops run by natural persons, within the caller's jurisdiction. */
export function shopsOfPerson(ctx: GatewayContext) {
  return ctx.loaders.get<number, OnlineShopRow[]>('person.onlineShops', async (ids) => {
    const found = await rows<OnlineShopRow>(
      ctx.db,
      sql`SELECT ${SHOP_COLUMNS} FROM online_shops o
           WHERE o.operator_person_id = ANY(${sql.param(ids.map(Number))}::bigint[]) AND ${shopScope(ctx)}
           ORDER BY o.operator_person_id, o.platform, o.id`,
    );
    return groupByKey(ids.map(Number), found, (o) => Number(o.operatorPersonId));
  });
}
