import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDepartment, addGrant, createKey } from '../src/access/admin.ts';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { runQualityPass } from '../src/quality/index.ts';
import { recomputeTags } from '../src/tags/store.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { AS_OF, type TagTestData, tagTestData } from './tags-fixtures.ts';

/**
 * Each subject through GraphQL against the same view written by hand in SQL (a different formulation:
 * grouped joins instead of scalar subqueries, a brute-force geodesic nearest instead of the indexed one),
 * on generated data; and the access layer applied to subject fields as to registry fields.
 */

const STEWARD = asKey(DEMO_PRINCIPALS.platformSteward.key, 'data_governance');
const COUNTY = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);

let db: TestDatabase;
let gateway: Gateway;
let data: TagTestData;
let internalKey: Record<string, string>;

type Row = Record<string, unknown>;

/** The elderly registered or residing in Chaoyang (110105), the county department's jurisdiction. */
async function chaoyangElderly(): Promise<number[]> {
  const found = await db.query<{ id: number }>(
    `SELECT p.id FROM persons p JOIN tag_assignments t ON t.record_id = p.id
      WHERE t.tag_code = 'elderly' AND t.valid_to IS NULL AND p.status = 'alive'
        AND (p.hukou_division_code BETWEEN '110105' AND '110105999999'
             OR p.residence_division_code BETWEEN '110105' AND '110105999999')
      ORDER BY p.id`,
  );
  return found.map((r) => Number(r.id));
}

/** Every page of a subject query as the steward sees it. */
async function all(query: string, fields: string, headers = STEWARD, args = ''): Promise<Row[]> {
  const out: Row[] = [];
  let after: string | null = null;
  for (;;) {
    const r: { errors?: unknown[]; data?: Record<string, any> | null } = await gql(
      gateway,
      `query($after: String) { ${query}(first: 500, after: $after${args}) {
         pageInfo { hasNextPage endCursor } edges { node { ${fields} } } } }`,
      { after },
      headers,
    );
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const page: { edges: { node: Row }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } =
      r.data![query];
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  data = await tagTestData(db);
  await recomputeTags(db, { asOf: new Date().toISOString().slice(0, 10), triggeredBy: 'test' });
  await runQualityPass(db, { registry: 'legal-entity', asOf: AS_OF, triggeredBy: 'test' });
  await addDepartment(db, {
    code: 'STAT-110105',
    name: '朝阳区统计局',
    kind: 'statistics',
    level: 'county',
    jurisdiction: '110105',
  });
  await addGrant(db, {
    department: 'STAT-110105',
    dataset: 'population.persons',
    level: 'internal',
    grantedBy: 'test',
  });
  internalKey = asKey((await createKey(db, { department: 'STAT-110105', application: 'subjects' })).key);
}, 600_000); // generated data: ~1 min alone on PGlite, several beside other test files
afterAll(() => db?.dispose());

describe('elderly care', () => {
  const FIELDS = `personId name gender birthDate age hukouDivisionCode residenceDivisionCode residencePoint
    householdId householdType householdMembers facilityId facilityName facilityKind facilityDistanceMetres`;

  it('returns the same rows as the hand-written SQL', async () => {
    const got = await all('elderlyCare', FIELDS);
    const expected = await db.query<Row>(
      `SELECT p.id::text AS "personId", p.name, p.gender, p.birth_date::text AS "birthDate",
              extract(year FROM age(current_date, p.birth_date))::int AS age,
              p.hukou_division_code AS "hukouDivisionCode", p.residence_division_code AS "residenceDivisionCode",
              ST_X(p.residence_point) AS x, ST_Y(p.residence_point) AS y,
              p.household_id::text AS "householdId", h.type AS "householdType",
              coalesce(hm.n, 0)::int AS "householdMembers",
              near.id::text AS "facilityId", near.name AS "facilityName", near.kind AS "facilityKind",
              near.d AS "facilityDistanceMetres"
         FROM persons p
         JOIN tag_assignments t ON t.record_id = p.id AND t.tag_code = 'elderly' AND t.valid_to IS NULL
         LEFT JOIN households h ON h.id = p.household_id
         LEFT JOIN (SELECT household_id, count(*) AS n FROM household_members WHERE valid_to IS NULL GROUP BY 1) hm
                ON hm.household_id = p.household_id
         LEFT JOIN LATERAL (
           SELECT f.id, f.properties->>'name' AS name, f.properties->>'kind' AS kind,
                  ST_Distance(ST_SetSRID(f.geom, 4326)::geography, ST_SetSRID(p.residence_point, 4326)::geography) AS d
             FROM features f WHERE f.layer_id = 'care-facilities' AND p.residence_point IS NOT NULL
            ORDER BY d, f.id LIMIT 1) near ON TRUE
        WHERE p.status = 'alive'
        ORDER BY p.id`,
    );
    expect(expected.length).toBeGreaterThan(100);
    expect(got).toHaveLength(expected.length);
    expect(expected.filter((e) => e.facilityId !== null).length).toBeGreaterThan(100);
    for (const [i, e] of expected.entries()) {
      const g = got[i]!;
      const { x, y, facilityDistanceMetres, ...rest } = e;
      expect(
        { ...g, residencePoint: undefined, facilityDistanceMetres: undefined },
        String(e.personId),
      ).toEqual({
        ...rest,
        residencePoint: undefined,
        facilityDistanceMetres: undefined,
      });
      const point = g.residencePoint as { coordinates: number[] } | null;
      if (x === null) expect(point).toBeNull();
      else {
        expect(point!.coordinates[0]).toBeCloseTo(Number(x), 6);
        expect(point!.coordinates[1]).toBeCloseTo(Number(y), 6);
      }
      if (facilityDistanceMetres === null) expect(g.facilityDistanceMetres).toBeNull();
      else expect(g.facilityDistanceMetres as number).toBeCloseTo(Number(facilityDistanceMetres), 3);
    }
  });

  it('is scoped, masked and audited like the population registry', async () => {
    const county = await all('elderlyCare', 'personId name residencePoint facilityDistanceMetres', COUNTY);
    expect(county.map((r) => Number(r.personId))).toEqual(await chaoyangElderly());
    expect(county.map((r) => Number(r.personId))).toContain(data.chaoyangPersonId);
    const [person] = await db.query<{ x: number; y: number; name: string }>(
      'SELECT ST_X(residence_point) AS x, ST_Y(residence_point) AS y, name FROM persons WHERE id = $1',
      [data.chaoyangPersonId],
    );
    const snap = (v: number) => (Math.floor(v * 100) + 0.5) / 100;
    const row = county.find((r) => Number(r.personId) === data.chaoyangPersonId)!;
    expect(row.residencePoint).toEqual({ type: 'Point', coordinates: [snap(person!.x), snap(person!.y)] });
    expect(row.name).toBe(person!.name);
    const [audit] = await db.query<{ fields: Record<string, Record<string, number>>; subjects: string[] }>(
      'SELECT fields, subjects FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(audit!.fields['ElderlyCareRecord.residencePoint']).toEqual({ mask: county.length });
    expect(audit!.subjects).toContain(`person:${data.chaoyangPersonId}`);

    const internal = await gql(
      gateway,
      '{ elderlyCare(first: 100) { edges { node { personId name age facilityDistanceMetres } } } }',
      {},
      internalKey,
    );
    const mine = internal.data!.elderlyCare.edges.find(
      (e: { node: Row }) => Number(e.node.personId) === data.chaoyangPersonId,
    );
    expect(mine.node).toMatchObject({ name: expect.stringMatching(/^.\*+$/), facilityDistanceMetres: null });
    expect(new Set(internal.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN_FIELD']));

    const anonymous = await gql(gateway, '{ elderlyCare(first: 5) { totalCount } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    const total = await gql(
      gateway,
      '{ elderlyCare(first: 1, divisionCode: "110105") { totalCount } }',
      {},
      COUNTY,
    );
    const [inCounty] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM persons p JOIN tag_assignments t ON t.record_id = p.id
        WHERE t.tag_code = 'elderly' AND t.valid_to IS NULL AND p.status = 'alive'
          AND p.residence_division_code LIKE '110105%'`,
    );
    expect(total.data!.elderlyCare.totalCount).toBe(inCounty!.n);
  });
});

describe('enterprise credit', () => {
  it('returns the same rows as the hand-written SQL', async () => {
    const got = await all(
      'enterpriseCredit',
      `entityId uscc name legalForm status statusDate establishedOn industryCode divisionCode registeredCapital
       permits validPermits lapsedPermits openQualityIssues qualityFlags { ruleId }`,
    );
    const expected = await db.query<Row & { flags: string[] | null }>(
      `SELECT e.id::text AS "entityId", e.uscc, e.name, e.legal_form AS "legalForm", e.status,
              e.status_date::text AS "statusDate", e.established_on::text AS "establishedOn",
              e.industry_code AS "industryCode", e.division_code AS "divisionCode",
              e.registered_capital::text AS "registeredCapital",
              coalesce(q.held, 0)::int AS permits, coalesce(q.valid, 0)::int AS "validPermits",
              coalesce(q.lapsed, 0)::int AS "lapsedPermits", coalesce(i.n, 0)::int AS "openQualityIssues", i.flags
         FROM entities e
         LEFT JOIN (
           SELECT entity_id, count(*) AS held,
                  count(*) FILTER (WHERE status = 'valid' AND coalesce(valid_from, current_date) <= current_date
                                     AND coalesce(valid_to, current_date) >= current_date) AS valid,
                  count(*) FILTER (WHERE valid_to < current_date AND status IN ('valid', 'expired')) AS lapsed
             FROM qualifications WHERE kind = 'permit' GROUP BY entity_id) q ON q.entity_id = e.id
         LEFT JOIN (
           SELECT record_key, count(*) AS n, array_agg(rule_id ORDER BY rule_id) AS flags FROM quality_issues
            WHERE dataset = 'legal_entity.entities' AND status IN ('open', 'acknowledged') GROUP BY record_key) i
                ON i.record_key = e.id::text
        ORDER BY e.id`,
    );
    expect(got).toHaveLength(expected.length);
    expect(expected.filter((e) => Number(e.lapsedPermits) > 0).length).toBeGreaterThan(0);
    expect(expected.filter((e) => Number(e.openQualityIssues) > 0).length).toBeGreaterThan(0);
    for (const [i, { flags, ...e }] of expected.entries()) {
      const { qualityFlags, ...g } = got[i]!;
      expect(g, String(e.entityId)).toEqual(e);
      expect((qualityFlags as { ruleId: string }[]).map((f) => f.ruleId)).toEqual(flags ?? []);
    }
  });

  it('public callers read the public columns; quality flags need a grant', async () => {
    const r = await gql(
      gateway,
      '{ enterpriseCredit(first: 3) { edges { node { uscc permits openQualityIssues } } } }',
    );
    expect(r.data!.enterpriseCredit.edges).toHaveLength(3);
    expect(r.data!.enterpriseCredit.edges[0].node.uscc).toMatch(/^[0-9A-Z]{18}$/);
    expect(r.data!.enterpriseCredit.edges[0].node.openQualityIssues).toBeNull();
    expect(new Set(r.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN_FIELD']));
  });
});

describe('ecological protection', () => {
  const HAND = `
    SELECT z.id::text AS "zoneId", z.division_code AS "divisionCode", z.properties->>'approved_on' AS "approvedOn",
           z.valid_from::text AS "validFrom", ST_Area(ST_SetSRID(z.geom, 4326)::geography) AS "zoneArea",
           coalesce(ei.n, 0)::int AS "entitiesInside", coalesce(fi.n, 0)::int AS "farmlandParcels",
           coalesce(fi.area, 0) AS "farmlandOverlapArea", ei.ids AS "entityIds", fi.ids AS "farmlandIds"
      FROM features z
      LEFT JOIN (
        SELECT z2.id, count(*) AS n, array_agg(e.uscc ORDER BY e.id) AS ids
          FROM features z2 JOIN entities e ON e.status = 'active' AND ST_Covers(z2.geom, e.point)
         WHERE z2.layer_id = 'planning-zones' GROUP BY z2.id) ei ON ei.id = z.id
      LEFT JOIN (
        SELECT z3.id, count(*) AS n, sum(ST_Area(ST_SetSRID(ST_Intersection(a.geom, z3.geom), 4326)::geography)) AS area,
               array_agg(a.id::text ORDER BY a.id) AS ids
          FROM features z3 JOIN features a ON a.layer_id = 'farmland' AND ST_IsValid(a.geom)
                                          AND NOT ST_Disjoint(a.geom, z3.geom)
         WHERE z3.layer_id = 'planning-zones' GROUP BY z3.id) fi ON fi.id = z.id
     WHERE z.layer_id = 'planning-zones' AND z.properties->>'zone_kind' = 'ecological_protection_red_line'
       AND coalesce(z.valid_from, current_date) <= current_date AND (z.valid_to IS NULL OR z.valid_to > current_date)
     ORDER BY z.id`;

  it('returns the same rows as the hand-written SQL', async () => {
    const got = await all(
      'ecologicalProtection',
      'zoneId divisionCode approvedOn validFrom zoneArea entitiesInside farmlandParcels farmlandOverlapArea entities { uscc } farmland { id }',
    );
    const expected = await db.query<Row>(HAND);
    expect(expected.length).toBeGreaterThan(16);
    expect(expected.filter((e) => Number(e.entitiesInside) > 0).length).toBeGreaterThan(5);
    expect(expected.filter((e) => Number(e.farmlandParcels) > 0).length).toBeGreaterThan(3);
    expect(got).toHaveLength(expected.length);
    for (const [i, { zoneArea, farmlandOverlapArea, entityIds, farmlandIds, ...e }] of expected.entries()) {
      const { zoneArea: gArea, farmlandOverlapArea: gOverlap, entities, farmland, ...g } = got[i]!;
      expect(g).toEqual(e);
      expect(gArea as number).toBeCloseTo(Number(zoneArea), 1);
      expect(gOverlap as number).toBeCloseTo(Number(farmlandOverlapArea), 1);
      expect((entities as { uscc: string }[]).map((x) => x.uscc)).toEqual(entityIds ?? []);
      expect((farmland as { id: string }[]).map((x) => x.id)).toEqual(farmlandIds ?? []);
    }
  });

  it('is an OGC collection with the same zones and counts, open to the public', async () => {
    const response = await gateway.fetch(
      'http://govbase.test/ogc/collections/subject-ecological-protection/items?limit=1000',
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      numberMatched?: number;
      features: { id: number | string; properties: Record<string, unknown>; geometry: { type: string } }[];
    };
    const expected = await db.query<Row>(HAND);
    expect(body.features.map((f) => String(f.id))).toEqual(expected.map((e) => e.zoneId));
    for (const [i, feature] of body.features.entries()) {
      expect(feature.geometry.type).toBe('MultiPolygon');
      expect(feature.properties.entities_inside).toBe(expected[i]!.entitiesInside);
      expect(feature.properties.farmland_parcels).toBe(expected[i]!.farmlandParcels);
    }
    const collections = (await (await gateway.fetch('http://govbase.test/ogc/collections')).json()) as {
      collections: { id: string }[];
    };
    const ids = collections.collections.map((c) => c.id);
    expect(ids).toContain('subject-ecological-protection');
    expect(ids).not.toContain('subject-elderly-care');
  });

  it('the elderly-care collection is served to the county with masked points, in its jurisdiction only', async () => {
    const response = await gateway.fetch(
      'http://govbase.test/ogc/collections/subject-elderly-care/items?limit=100',
      {
        headers: COUNTY,
      },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      features: { id: number | string; geometry: { coordinates: number[] } }[];
    };
    expect(body.features.map((f) => Number(f.id))).toEqual(await chaoyangElderly());
    for (const feature of body.features)
      for (const c of feature.geometry.coordinates) expect(Math.round((c * 100 - 0.5) * 1e6) % 1e6).toBe(0);
  });
});
