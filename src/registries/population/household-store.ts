import { sql } from 'drizzle-orm';
import type { Geometry } from '../../db/geojson.ts';
import { groupByKey, rows } from '../../db/index.ts';
import type { GatewayContext } from '../../gateway/context.ts';

export interface HouseholdRow {
  id: number;
  householdNumber: string;
  type: 'family' | 'collective';
  headPersonId: number | null;
  divisionCode: string;
  address: string | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export interface MemberRow {
  id: number;
  householdId: number;
  personId: number;
  relation: string;
  validFrom: string;
  validTo: string | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export interface ResidenceRow {
  id: number;
  personId: number;
  divisionCode: string;
  address: string | null;
  point: Geometry | null;
  validFrom: string;
  validTo: string | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export interface VitalEventRow {
  id: number;
  personId: number;
  type: string;
  eventDate: string;
  divisionCode: string;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

const HOUSEHOLD_COLUMNS =
  sql.raw(`h.id, h.household_number AS "householdNumber", h.type, h.head_person_id AS "headPersonId",
  h.division_code AS "divisionCode", h.address, h.updated_at AS "updatedAt", h.source_dept AS "sourceDept",
  h.source_batch AS "sourceBatch"`);

/** Households by id, within the caller's jurisdiction (by the household's division). */
export function householdById(ctx: GatewayContext) {
  return ctx.loaders.get<number, HouseholdRow | null>('household.byId', async (ids) => {
    const scope = ctx.access.principal.scope;
    const found = await rows<HouseholdRow>(
      ctx.db,
      sql`SELECT ${HOUSEHOLD_COLUMNS} FROM households h WHERE h.id = ANY(${sql.param([...ids])}::bigint[])
          ${scope ? sql`AND h.division_code BETWEEN ${scope.lo} AND ${scope.hi}` : sql``}`,
    );
    const byId = new Map(found.map((h) => [Number(h.id), h]));
    return ids.map((id) => byId.get(Number(id)) ?? null);
  });
}

export function householdByNumber(ctx: GatewayContext) {
  return ctx.loaders.get<string, HouseholdRow | null>('household.byNumber', async (numbers) => {
    const found = await rows<HouseholdRow>(
      ctx.db,
      sql`SELECT ${HOUSEHOLD_COLUMNS} FROM households h WHERE h.household_number = ANY(${sql.param([...numbers])}::text[])`,
    );
    const byNumber = new Map(found.map((h) => [h.householdNumber, h]));
    return numbers.map((n) => byNumber.get(n) ?? null);
  });
}

/** Current members of households (valid_to is null), in relation-code order. */
export function membersByHousehold(ctx: GatewayContext) {
  return ctx.loaders.get<number, MemberRow[]>('household.members', async (ids) => {
    const found = await rows<MemberRow>(
      ctx.db,
      sql`SELECT id, household_id AS "householdId", person_id AS "personId", relation, valid_from AS "validFrom",
                 valid_to AS "validTo", updated_at AS "updatedAt", source_dept AS "sourceDept",
                 source_batch AS "sourceBatch"
            FROM household_members
           WHERE household_id = ANY(${sql.param([...ids])}::bigint[]) AND valid_to IS NULL
           ORDER BY household_id, relation, id`,
    );
    return groupByKey(ids.map(Number), found, (m) => Number(m.householdId));
  });
}

export function residencesByPerson(ctx: GatewayContext) {
  return ctx.loaders.get<number, ResidenceRow[]>('person.residences', async (ids) => {
    const found = await rows<ResidenceRow>(
      ctx.db,
      sql`SELECT id, person_id AS "personId", division_code AS "divisionCode", address,
                 ST_AsGeoJSON(point, 7, 0)::json AS point, valid_from AS "validFrom", valid_to AS "validTo",
                 updated_at AS "updatedAt", source_dept AS "sourceDept", source_batch AS "sourceBatch"
            FROM residences WHERE person_id = ANY(${sql.param([...ids])}::bigint[]) ORDER BY person_id, valid_from`,
    );
    return groupByKey(ids.map(Number), found, (r) => Number(r.personId));
  });
}

export function eventsByPerson(ctx: GatewayContext) {
  return ctx.loaders.get<number, VitalEventRow[]>('person.events', async (ids) => {
    const found = await rows<VitalEventRow>(
      ctx.db,
      sql`SELECT id, person_id AS "personId", type, event_date AS "eventDate", division_code AS "divisionCode",
                 updated_at AS "updatedAt", source_dept AS "sourceDept", source_batch AS "sourceBatch"
            FROM vital_events WHERE person_id = ANY(${sql.param([...ids])}::bigint[]) ORDER BY person_id, event_date, id`,
    );
    return groupByKey(ids.map(Number), found, (e) => Number(e.personId));
  });
}
