import { booleanIntersects, booleanPointInPolygon } from '@turf/turf';
import type { Database } from '../src/db/index.ts';

/**
 * Hand computations of the shipped rule tags, to check the set-based recompute against: plain rows read
 * from the tables, the rule written again in TypeScript (ages in calendar arithmetic, households grouped
 * in maps, points in polygons with turf instead of PostGIS). Returns the matching record ids, sorted.
 */

function ageOn(birthDate: string, day: string): number {
  const years = Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return day.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

const sorted = (ids: Iterable<number>) => [...ids].map(Number).sort((a, b) => a - b);

interface PersonFacts {
  id: number;
  birthDate: string;
  status: string;
}

async function persons(db: Database): Promise<PersonFacts[]> {
  return db.query<PersonFacts>(`SELECT id, birth_date::text AS "birthDate", status FROM persons`);
}

function inForce(from: string | null, to: string | null, day: string): boolean {
  return (from === null || from <= day) && (to === null || to > day);
}

interface Zone {
  geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon;
}

async function redLines(db: Database, asOf: string): Promise<Zone[]> {
  const zones = await db.query<{
    geometry: Zone['geometry'];
    kind: string;
    from: string | null;
    to: string | null;
  }>(
    `SELECT ST_AsGeoJSON(geom)::json AS geometry, properties->>'zone_kind' AS kind,
            valid_from::text AS "from", valid_to::text AS "to"
       FROM features WHERE layer_id = 'planning-zones'`,
  );
  return zones.filter((z) => z.kind === 'ecological_protection_red_line' && inForce(z.from, z.to, asOf));
}

export const HAND: Record<
  string,
  (db: Database, asOf: string, invalidFeatures: number[]) => Promise<number[]>
> = {
  async elderly(db, asOf) {
    return sorted(
      (await persons(db))
        .filter((p) => p.status === 'alive' && ageOn(p.birthDate, asOf) >= 60)
        .map((p) => p.id),
    );
  },

  async living_alone(db) {
    const members = await db.query<{ householdId: number; personId: number }>(
      `SELECT household_id AS "householdId", person_id AS "personId" FROM household_members WHERE valid_to IS NULL`,
    );
    const byHousehold = new Map<number, Set<number>>();
    for (const m of members) {
      const set = byHousehold.get(Number(m.householdId)) ?? new Set<number>();
      set.add(Number(m.personId));
      byHousehold.set(Number(m.householdId), set);
    }
    const alone = new Set<number>();
    for (const set of byHousehold.values()) if (set.size === 1) alone.add([...set][0]!);
    return sorted(
      (await persons(db)).filter((p) => p.status === 'alive' && alone.has(Number(p.id))).map((p) => p.id),
    );
  },

  async newborn_this_year(db, asOf) {
    const start = `${asOf.slice(0, 4)}-01-01`;
    return sorted(
      (await persons(db))
        .filter((p) => p.status === 'alive' && p.birthDate >= start && p.birthDate <= asOf)
        .map((p) => p.id),
    );
  },

  async unregistered_online_operator(db) {
    const shops = await db.query<{ personId: number; kind: string; status: string }>(
      `SELECT operator_person_id AS "personId", operator_kind AS kind, status FROM online_shops`,
    );
    const reps = await db.query<{ personId: number; status: string }>(
      `SELECT legal_rep_person_id AS "personId", status FROM entities WHERE legal_rep_person_id IS NOT NULL`,
    );
    const registered = new Set(reps.filter((r) => r.status === 'active').map((r) => Number(r.personId)));
    const sellers = new Set(
      shops
        .filter((s) => s.kind === 'person' && s.status === 'active' && s.personId !== null)
        .map((s) => Number(s.personId)),
    );
    return sorted([...sellers].filter((id) => !registered.has(id)));
  },

  async in_ecological_red_line(db, asOf) {
    const zones = await redLines(db, asOf);
    const entities = await db.query<{ id: number; status: string; point: GeoJSON.Point | null }>(
      `SELECT id, status, ST_AsGeoJSON(point)::json AS point FROM entities`,
    );
    return sorted(
      entities
        .filter((e) => e.status === 'active' && e.point)
        .filter((e) => zones.some((z) => booleanPointInPolygon(e.point!, z.geometry)))
        .map((e) => e.id),
    );
  },

  async expired_permit(db, asOf) {
    const permits = await db.query<{
      entityId: number;
      type: string;
      status: string;
      from: string | null;
      to: string | null;
    }>(
      `SELECT q.entity_id AS "entityId", q.type, q.status, q.valid_from::text AS "from", q.valid_to::text AS "to"
         FROM qualifications q WHERE q.kind = 'permit'`,
    );
    const active = new Set(
      (await db.query<{ id: number }>(`SELECT id FROM entities WHERE status = 'active'`)).map((e) =>
        Number(e.id),
      ),
    );
    const covered = new Set(
      permits
        .filter(
          (p) =>
            p.status === 'valid' && (p.from === null || p.from <= asOf) && (p.to === null || p.to >= asOf),
        )
        .map((p) => `${p.entityId}|${p.type}`),
    );
    const out = new Set<number>();
    for (const p of permits) {
      const lapsed = p.to !== null && p.to < asOf && (p.status === 'valid' || p.status === 'expired');
      if (lapsed && active.has(Number(p.entityId)) && !covered.has(`${p.entityId}|${p.type}`))
        out.add(Number(p.entityId));
    }
    return sorted(out);
  },

  async farmland_in_red_line(db, asOf, invalidFeatures) {
    const zones = await redLines(db, asOf);
    const farmland = await db.query<{ id: number; geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon }>(
      `SELECT id, ST_AsGeoJSON(geom)::json AS geometry FROM features WHERE layer_id = 'farmland'`,
    );
    const invalid = new Set(invalidFeatures);
    return sorted(
      farmland
        .filter((f) => !invalid.has(Number(f.id)))
        .filter((f) => zones.some((z) => booleanIntersects(f.geometry, z.geometry)))
        .map((f) => f.id),
    );
  },
};
