import { sql } from 'drizzle-orm';
import type { SHAREHOLDER_KINDS } from '../../../schema/legal-entity.ts';
import { groupByKey, rows } from '../../db/index.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { entityScope } from './entity-store.ts';

export interface ShareholdingRow {
  id: number;
  entityId: number;
  shareholderKind: (typeof SHAREHOLDER_KINDS)[number];
  shareholderPersonId: number | null;
  shareholderEntityId: number | null;
  shareholderName: string;
  shareholderIdNumber: string | null;
  subscribedAmount: string | null;
  currency: string;
  /** numeric percent, exact, as a decimal string */
  percentage: string;
  acquiredOn: string;
  endedOn: string | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export const SHAREHOLDING_COLUMNS =
  sql.raw(`s.id, s.entity_id AS "entityId", s.shareholder_kind AS "shareholderKind",
  s.shareholder_person_id AS "shareholderPersonId", s.shareholder_entity_id AS "shareholderEntityId",
  s.shareholder_name AS "shareholderName", s.shareholder_id_number AS "shareholderIdNumber",
  s.subscribed_amount AS "subscribedAmount", s.currency, s.percentage, s.acquired_on AS "acquiredOn",
  s.ended_on AS "endedOn", s.updated_at AS "updatedAt", s.source_dept AS "sourceDept",
  s.source_batch AS "sourceBatch"`);

/**
 * A shareholding is part of the record of the entity whose shares are held: it is visible where that
 * entity is. The shareholders of a visible entity are all visible (a holder outside the jurisdiction
 * shows its registered name, and its own record loads as null); investments and a person's holdings
 * list only holdings in entities within the caller's jurisdiction.
 */
function current(includeEnded: boolean) {
  return includeEnded ? sql`TRUE` : sql`s.ended_on IS NULL`;
}

/** Shareholders of entities, largest holding first; ended holdings only when asked. */
export function shareholdersOf(ctx: GatewayContext, includeEnded = false) {
  return ctx.loaders.get<number, ShareholdingRow[]>(`shareholding.byEntity.${includeEnded}`, async (ids) => {
    const found = await rows<ShareholdingRow>(
      ctx.db,
      sql`SELECT ${SHAREHOLDING_COLUMNS} FROM shareholdings s
           WHERE s.entity_id = ANY(${sql.param(ids.map(Number))}::bigint[]) AND ${current(includeEnded)}
           ORDER BY s.entity_id, s.percentage DESC, s.id`,
    );
    return groupByKey(ids.map(Number), found, (s) => Number(s.entityId));
  });
}

/** Holdings of entities in other entities (their investments), within the caller's jurisdiction. */
export function investmentsOf(ctx: GatewayContext, includeEnded = false) {
  return ctx.loaders.get<number, ShareholdingRow[]>(`shareholding.byHolder.${includeEnded}`, async (ids) => {
    const found = await rows<ShareholdingRow>(
      ctx.db,
      sql`SELECT ${SHAREHOLDING_COLUMNS} FROM shareholdings s JOIN entities e ON e.id = s.entity_id
           WHERE s.shareholder_entity_id = ANY(${sql.param(ids.map(Number))}::bigint[]) AND ${current(includeEnded)}
             AND ${entityScope(ctx.access.principal.scope)}
           ORDER BY s.shareholder_entity_id, s.percentage DESC, s.id`,
    );
    return groupByKey(ids.map(Number), found, (s) => Number(s.shareholderEntityId));
  });
}

/** Holdings of natural persons, within the caller's jurisdiction. */
export function holdingsOfPerson(ctx: GatewayContext, includeEnded = false) {
  return ctx.loaders.get<number, ShareholdingRow[]>(`shareholding.byPerson.${includeEnded}`, async (ids) => {
    const found = await rows<ShareholdingRow>(
      ctx.db,
      sql`SELECT ${SHAREHOLDING_COLUMNS} FROM shareholdings s JOIN entities e ON e.id = s.entity_id
           WHERE s.shareholder_person_id = ANY(${sql.param(ids.map(Number))}::bigint[]) AND ${current(includeEnded)}
             AND ${entityScope(ctx.access.principal.scope)}
           ORDER BY s.shareholder_person_id, s.percentage DESC, s.id`,
    );
    return groupByKey(ids.map(Number), found, (s) => Number(s.shareholderPersonId));
  });
}
