import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as attributesCli } from '../scripts/attributes.ts';
import { addDepartment, addGrant, createKey } from '../src/access/admin.ts';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { defineAttribute, retireAttribute } from '../src/attributes/definitions.ts';
import { attributeValueSql } from '../src/attributes/sql.ts';
import { buildIdNumber } from '../src/codes/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { runQualityPass } from '../src/quality/runner.ts';
import type { RuleTag } from '../src/tags/definitions.ts';
import { recomputeTag, syncTagDefinitions } from '../src/tags/store.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { registerEntity } from './legal-entity-fixtures.ts';

/**
 * Fields on demand end to end (issue #10): define attributes, import their values from a file (bad values
 * refused with row, field and reason), read and filter them in GraphQL, masked or denied by their own
 * classification, retire one and still read its history.
 */

const STEWARD = asKey(DEMO_PRINCIPALS.platformSteward.key, 'data_governance');
const STEWARD_NO_PURPOSE = asKey(DEMO_PRINCIPALS.platformSteward.key);
const COUNTY = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);
const MARKET = asKey(DEMO_PRINCIPALS.provincialMarketRegulation.key);

let db: TestDatabase;
let gateway: Gateway;
let dir: string;
/** A Chaoyang department with an 'internal' grant on persons. */
let internalKey: Record<string, string>;
const people: { id: number; idNumber: string }[] = [];

const base = {
  recordType: 'person' as const,
  ownerDept: 'CA-110105',
  updateFrequency: 'monthly' as const,
};

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  for (let i = 0; i < 4; i++) people.push(await insertPerson(db, { sequence: 500 + i * 2 }));
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
  internalKey = asKey(
    (await createKey(db, { department: 'STAT-110105', application: 'attributes-test' })).key,
  );
  dir = mkdtempSync(join(tmpdir(), 'govbase-attributes-'));
}, 600_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.dispose();
});

/** A person's fields through the persons list (a county may not look a person up by ID number). */
async function personVia(headers: Record<string, string>, id: number, selection: string) {
  const r = await gql(
    gateway,
    `{ persons(divisionCode: "110105", first: 50) { edges { node { id ${selection} } } } }`,
    {},
    headers,
  );
  const node = r.data?.persons?.edges
    .map((e: { node: { id: string } | null }) => e?.node)
    .filter(Boolean)
    .find((n: { id: string }) => Buffer.from(n.id, 'base64').toString() === `Person:${id}`);
  return { errors: r.errors, person: node };
}

describe('attributes (fields on demand)', () => {
  it('a steward defines attributes through GraphQL; others may not', async () => {
    const define = `mutation DefineAttribute($input: DefineAttributeInput!) { defineAttribute(input: $input) { outcome definition { code version level readable } } }`;
    const disability = {
      ...base,
      recordType: 'PERSON',
      code: 'disability_level',
      name: '残疾等级',
      description: 'Disability certificate level (1 most severe … 4)',
      dataType: 'integer',
      minValue: '1',
      maxValue: '4',
      level: 'sensitive',
      share: 'conditional',
      mask: 'redact',
    };
    const denied = await gql(gateway, define, { input: disability }, COUNTY);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const created = await gql(gateway, define, { input: disability }, STEWARD);
    expect(created.errors).toBeUndefined();
    expect(created.data?.defineAttribute).toEqual({
      outcome: 'created',
      definition: { code: 'disability_level', version: 1, level: 'sensitive', readable: true },
    });
    const [audit] = await db.query<{
      principal: string;
      operation: string;
      outcome: string;
      department: string;
    }>(
      `SELECT principal, operation, outcome, department_code AS department FROM audit_log ORDER BY seq DESC LIMIT 1`,
    );
    expect(audit).toMatchObject({ operation: 'DefineAttribute', outcome: 'ok', department: 'PLATFORM' });
    const again = await gql(gateway, define, { input: disability }, STEWARD);
    expect(again.data?.defineAttribute.outcome).toBe('unchanged');
    const bad = await gql(gateway, define, { input: { ...disability, code: 'Bad-Code' } }, STEWARD);
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_ATTRIBUTE_DEFINITION');
    expect(bad.errors?.[0]?.message).toContain("'code'");

    await defineAttribute(
      db,
      {
        ...base,
        code: 'volunteer_hours',
        name: '志愿服务时长',
        description: 'Hours of volunteer service',
        dataType: 'integer',
        minValue: 0,
        maxValue: 10000,
        level: 'internal',
        share: 'unconditional',
        mask: 'none',
      },
      'test',
    );
    await defineAttribute(
      db,
      {
        ...base,
        code: 'care_status',
        name: '照护状态',
        description: 'Where the person is cared for',
        dataType: 'code',
        codeValues: ['home', 'institution', 'none'],
        level: 'restricted',
        share: 'unconditional',
        mask: 'redact',
      },
      'test',
    );
    await defineAttribute(
      db,
      {
        ...base,
        code: 'old_item',
        name: '旧数据项',
        description: 'A retired item',
        dataType: 'text',
        level: 'internal',
        share: 'unconditional',
        mask: 'none',
      },
      'test',
    );
    await retireAttribute(db, 'person', 'old_item', 'test', 'replaced by care_status');
  });

  it('imports values from a file: bad values refused with row, field and reason; the same file twice changes nothing', async () => {
    const [a, b, c, d] = people;
    const stranger = buildIdNumber('110105', '1990-01-01', 991);
    const rows = [
      'record_type,record_key,code,value',
      `person,${a!.idNumber},disability_level,2`, // 2
      `person,${a!.idNumber},volunteer_hours,120`, // 3
      `person,${b!.idNumber},volunteer_hours,80`, // 4
      `person,${c!.idNumber},volunteer_hours,300`, // 5
      `person,${a!.idNumber},care_status,home`, // 6
      `person,${b!.idNumber},care_status,hospital`, // 7 not in the code list
      `person,${b!.idNumber},disability_level,9`, // 8 above the maximum
      `person,${c!.idNumber},disability_level,two`, // 9 not an integer
      `person,${c!.idNumber},height_cm,170`, // 10 unknown code
      `person,${c!.idNumber},old_item,x`, // 11 retired
      `person,${stranger},volunteer_hours,5`, // 12 unknown record
      `person,110105199001010000,volunteer_hours,5`, // 13 not an ID number
      `person,${d!.idNumber},disability_level,4`, // 14
    ];
    const file = join(dir, 'attributes.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const report = await runImport(db, {
      registry: 'attributes',
      input: { kind: 'file', path: file },
      sourceDept: 'CA-110105',
      submittedBy: 'test',
    });
    expect(report.status).toBe('merged');
    const byRow = Object.fromEntries(report.rejects.map((r) => [r.row, `${r.field}: ${r.reason}`]));
    expect(
      Object.keys(byRow)
        .map(Number)
        .sort((x, y) => x - y),
    ).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(byRow[7]).toMatch(/^value: is not in the code list \(home, institution, none\)/);
    expect(byRow[8]).toMatch(/^value: is above the maximum 4/);
    expect(byRow[9]).toMatch(/^value: is not an integer/);
    expect(byRow[10]).toMatch(/^code: is not an attribute of person records \(ATTRIBUTE_UNKNOWN\)/);
    expect(byRow[11]).toMatch(/^code: is retired \(ATTRIBUTE_RETIRED/);
    expect(byRow[12]).toMatch(/^record_key: names no person/);
    expect(byRow[13]).toMatch(/^record_key: is not a citizen ID number/);
    expect(report).toMatchObject({ totalRows: 13, accepted: 6, rejected: 7, inserted: 6, changed: 0 });

    const log = await db.query<{ recordKey: string; fields: string[] }>(
      `SELECT record_key AS "recordKey", changed_fields AS fields FROM change_log
        WHERE batch = $1 ORDER BY seq`,
      [report.batchId],
    );
    expect(log.length).toBe(4);
    expect(log.find((l) => l.recordKey === String(a!.id))?.fields).toEqual([
      'attributes.care_status',
      'attributes.disability_level',
      'attributes.volunteer_hours',
    ]);
    // The change feed carries them to the county, like any change of its persons.
    const feed = await gql(
      gateway,
      `{ changes(registry: POPULATION, first: 500) { changes { action batch changedFields person { id } } } }`,
      {},
      COUNTY,
    );
    expect(feed.errors).toBeUndefined();
    const ofBatch = feed.data?.changes.changes.filter((c: { batch: string }) => c.batch === report.batchId);
    expect(ofBatch).toHaveLength(4);
    expect(ofBatch.every((c: { action: string }) => c.action === 'UPDATED')).toBe(true);
    expect(ofBatch.flatMap((c: { changedFields: string[] }) => c.changedFields)).toContain(
      'attributes.disability_level',
    );
    const lineage = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM import_lineage WHERE batch_id = $1 AND record_type = 'attribute_value'`,
      [report.batchId],
    );
    expect(lineage[0]!.n).toBe(6);

    const again = await runImport(db, {
      registry: 'attributes',
      input: { kind: 'file', path: file },
      sourceDept: 'CA-110105',
      submittedBy: 'test',
    });
    expect(again.status).toBe('already_merged');

    // A second delivery: one value changed, one the same → one new version, history kept.
    const file2 = join(dir, 'attributes-2.csv');
    writeFileSync(
      file2,
      `record_type,record_key,code,value\nperson,${a!.idNumber},volunteer_hours,150\nperson,${b!.idNumber},volunteer_hours,80\n`,
    );
    const second = await runImport(db, {
      registry: 'attributes',
      input: { kind: 'file', path: file2 },
      sourceDept: 'CA-110105',
      submittedBy: 'test',
    });
    expect(second).toMatchObject({ accepted: 2, inserted: 0, changed: 1, unchanged: 1 });
    // A department that is not the owner's kind is refused.
    const file3 = join(dir, 'attributes-3.csv');
    writeFileSync(file3, `record_type,record_key,code,value\nperson,${a!.idNumber},volunteer_hours,1\n`);
    const foreign = await runImport(db, {
      registry: 'attributes',
      input: { kind: 'file', path: file3 },
      sourceDept: 'MPS',
      submittedBy: 'test',
    });
    expect(foreign.rejects[0]?.reason).toMatch(/may be written only by CA-110105/);
  });

  it('reads values typed, masked or denied by their own classification, and audits them', async () => {
    const [a] = people;
    const query = `query ($id: String!) { person(idNumber: $id) { attributes { code dataType integer codeValue masked maskedValue source } } }`;
    const steward = await gql(gateway, query, { id: a!.idNumber }, STEWARD);
    expect(steward.errors).toBeUndefined();
    expect(steward.data?.person.attributes).toEqual([
      {
        code: 'care_status',
        dataType: 'code',
        integer: null,
        codeValue: 'home',
        masked: false,
        maskedValue: null,
        source: 'CA-110105',
      },
      {
        code: 'disability_level',
        dataType: 'integer',
        integer: '2',
        codeValue: null,
        masked: false,
        maskedValue: null,
        source: 'CA-110105',
      },
      {
        code: 'volunteer_hours',
        dataType: 'integer',
        integer: '150',
        codeValue: null,
        masked: false,
        maskedValue: null,
        source: 'CA-110105',
      },
    ]);
    const [audit] = await db.query<{ fields: Record<string, Record<string, number>>; subjects: string[] }>(
      'SELECT fields, subjects FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(audit!.fields['Person.attributes.disability_level']).toEqual({ allow: 1 });
    expect(audit!.subjects).toContain(`person:${a!.id}`);

    // County civil affairs: grant 'restricted' → the sensitive disability level is masked.
    const selection = 'attributes { code dataType integer codeValue masked maskedValue source }';
    const county = await personVia(COUNTY, a!.id, selection);
    expect(county.errors).toBeUndefined();
    const level = county.person.attributes.find((x: { code: string }) => x.code === 'disability_level');
    expect(level).toEqual({
      code: 'disability_level',
      dataType: 'integer',
      integer: null,
      codeValue: null,
      masked: true,
      maskedValue: '***',
      source: null,
    });

    // Steward without a purpose: a conditional attribute named explicitly → PURPOSE_REQUIRED.
    const named = 'attributes(codes: ["disability_level"]) { integer }';
    const noPurpose = await personVia(STEWARD_NO_PURPOSE, a!.id, named);
    expect(noPurpose.errors?.[0]?.extensions?.code).toBe('PURPOSE_REQUIRED');
    expect(noPurpose.errors?.[0]?.message).toContain('Person.attributes.disability_level');

    // An 'internal' grant: restricted care status masked, sensitive disability level denied (FORBIDDEN_FIELD
    // when named, left out otherwise).
    const internal = await personVia(internalKey, a!.id, selection);
    expect(internal.errors).toBeUndefined();
    const codes = internal.person.attributes.map(
      (x: { code: string; masked: boolean }) => `${x.code}:${x.masked}`,
    );
    expect(codes).toEqual(['care_status:true', 'volunteer_hours:false']);
    const internalNamed = await personVia(internalKey, a!.id, named);
    expect(internalNamed.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
    expect(internalNamed.errors?.[0]?.message).toContain('Person.attributes.disability_level');
    const [denial] = await db.query<{ fields: Record<string, Record<string, number>> }>(
      'SELECT fields FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    // One denial per person of the list the caller asked it for.
    expect(denial!.fields['Person.attributes.disability_level']).toEqual({ deny: people.length });
  });

  it('filters lists by attribute values (index probes), refusing filters on values the caller may not read in clear', async () => {
    const [a, b, c, d] = people;
    const list = `query ($f: [AttributeFilter!]) { persons(divisionCode: "110105", first: 50, attributeFilter: $f) { totalCount edges { node { id } } } }`;
    const ids = (r: { data?: any }) =>
      r.data?.persons.edges
        .map((e: { node: { id: string } }) => Buffer.from(e.node.id, 'base64').toString())
        .sort();
    const gt = await gql(gateway, list, { f: [{ code: 'volunteer_hours', gt: '100' }] }, COUNTY);
    expect(gt.errors).toBeUndefined();
    expect(ids(gt)).toEqual([`Person:${a!.id}`, `Person:${c!.id}`].sort());
    const range = await gql(
      gateway,
      list,
      { f: [{ code: 'volunteer_hours', gte: '80', lte: '150' }] },
      COUNTY,
    );
    expect(ids(range)).toEqual([`Person:${a!.id}`, `Person:${b!.id}`].sort());
    const none = await gql(gateway, list, { f: [{ code: 'volunteer_hours', isNull: true }] }, COUNTY);
    expect(ids(none)).toContain(`Person:${d!.id}`);
    expect(ids(none)).not.toContain(`Person:${a!.id}`);
    const sensitive = await gql(gateway, list, { f: [{ code: 'disability_level', eq: '4' }] }, COUNTY);
    expect(sensitive.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FILTER');
    const steward = await gql(gateway, list, { f: [{ code: 'disability_level', in: ['2', '4'] }] }, STEWARD);
    expect(steward.errors).toBeUndefined();
    expect(ids(steward)).toEqual([`Person:${a!.id}`, `Person:${d!.id}`].sort());
    const unknown = await gql(gateway, list, { f: [{ code: 'height_cm', eq: '1' }] }, COUNTY);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('ATTRIBUTE_UNKNOWN');
    const badValue = await gql(gateway, list, { f: [{ code: 'volunteer_hours', gt: 'many' }] }, COUNTY);
    expect(badValue.errors?.[0]?.extensions?.code).toBe('INVALID_ATTRIBUTE_VALUE');
    expect(badValue.errors?.[0]?.message).toContain('volunteer_hours');

    // The planner answers `code = X AND value_int > N` from the partial index.
    const plan = await db.query<Record<string, string>>(
      `EXPLAIN SELECT record_id FROM attribute_values
        WHERE record_type = 'person' AND code = 'volunteer_hours' AND value_int > 100 AND valid_to IS NULL`,
    );
    await db.query('SET enable_seqscan = off').catch(() => undefined);
    const forced = await db.query<Record<string, string>>(
      `EXPLAIN SELECT record_id FROM attribute_values
        WHERE record_type = 'person' AND code = 'volunteer_hours' AND value_int > 100 AND valid_to IS NULL`,
    );
    await db.query('RESET enable_seqscan').catch(() => undefined);
    expect(JSON.stringify(plan) + JSON.stringify(forced)).toMatch(
      /attribute_values_int_idx|attribute_values_current_key/,
    );
  });

  it('serves a layer’s attributes through OGC API – Features (queryables, CQL2 filter, properties) and GraphQL', async () => {
    const square = (x: number) =>
      `ST_SetSRID(ST_GeomFromText('MULTIPOLYGON(((${x} 39.9, ${x + 0.01} 39.9, ${x + 0.01} 39.91, ${x} 39.91, ${x} 39.9)))'), 4490)`;
    const ids: number[] = [];
    for (const x of [116.4, 116.42]) {
      const [f] = await db.query<{ id: number }>(
        `INSERT INTO features (layer_id, geom, properties, division_code, source_dept)
         VALUES ('farmland', ${square(x)}, '{"crop":"rice","irrigated":true}', '110105', 'MNR') RETURNING id`,
      );
      ids.push(Number(f!.id));
    }
    const farmland = {
      recordType: 'feature' as const,
      layerId: 'farmland',
      ownerDept: 'MNR',
      updateFrequency: 'yearly' as const,
    };
    await defineAttribute(
      db,
      {
        ...farmland,
        code: 'irrigation_class',
        name: '灌溉保证率等级',
        description: 'Irrigation class',
        dataType: 'code',
        codeValues: ['A', 'B', 'C'],
        level: 'public',
        share: 'unconditional',
        mask: 'none',
      },
      'test',
    );
    await defineAttribute(
      db,
      {
        ...farmland,
        code: 'soil_ph',
        name: '土壤 pH',
        description: 'Soil pH',
        dataType: 'decimal',
        minValue: 0,
        maxValue: 14,
        level: 'internal',
        share: 'unconditional',
        mask: 'none',
      },
      'test',
    );
    const report = await runImport(db, {
      registry: 'attributes',
      input: {
        kind: 'records',
        name: 'farmland-attributes',
        records: [
          { record_type: 'feature', record_key: String(ids[0]), code: 'irrigation_class', value: 'A' },
          { record_type: 'feature', record_key: String(ids[1]), code: 'irrigation_class', value: 'C' },
          { record_type: 'feature', record_key: String(ids[0]), code: 'soil_ph', value: '6.5' },
          { record_type: 'feature', record_key: String(ids[1]), code: 'soil_ph', value: '15' },
        ],
      },
      sourceDept: 'MNR',
      submittedBy: 'test',
    });
    expect(report.rejects).toEqual([
      { row: 4, field: 'value', reason: 'is above the maximum 14 (INVALID_ATTRIBUTE_VALUE)' },
    ]);

    const ogc = async (path: string, headers: Record<string, string> = {}) => {
      const response = await gateway.fetch(`http://govbase.test/ogc/collections/layer-farmland${path}`, {
        headers: { accept: 'application/json', ...headers },
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const queryables = await ogc('/queryables');
    expect(queryables.status).toBe(200);
    expect(queryables.body.properties.irrigation_class).toMatchObject({
      title: '灌溉保证率等级',
      type: 'string',
    });
    // Internal: not for the public caller, listed for a department with a grant.
    expect(queryables.body.properties.soil_ph).toBeUndefined();
    // The steward holds no grant on spatial.features; a department with an internal grant on it does.
    expect((await ogc('/queryables', STEWARD)).body.properties.soil_ph).toBeUndefined();
    await addGrant(db, {
      department: 'STAT-110105',
      dataset: 'spatial.features',
      level: 'internal',
      grantedBy: 'test',
    });
    const granted = asKey(
      (await createKey(db, { department: 'STAT-110105', application: 'attributes-ogc' })).key,
    );
    const grantedQueryables = await ogc('/queryables', granted);
    expect(grantedQueryables.body.properties.soil_ph).toMatchObject({ type: 'number' });

    const filtered = await ogc(`/items?filter=${encodeURIComponent("irrigation_class = 'A'")}`);
    expect(filtered.status).toBe(200);
    expect(filtered.body.features.map((f: { id: number }) => f.id)).toEqual([ids[0]]);
    expect(filtered.body.features[0].properties.irrigation_class).toBe('A');
    expect(filtered.body.features[0].properties).not.toHaveProperty('soil_ph');
    const denied = await ogc(`/items?filter=${encodeURIComponent('soil_ph > 6')}`);
    expect(denied.status).toBe(403);
    const steward = await ogc(`/items?filter=${encodeURIComponent('soil_ph > 6')}`, granted);
    expect(
      steward.body.features.map((f: { id: number; properties: any }) => [f.id, f.properties.soil_ph]),
    ).toEqual([[ids[0], 6.5]]);

    const graphql = await gql(
      gateway,
      `{ features(layerId: "farmland", first: 10, attributeFilter: [{ code: "irrigation_class", in: ["C"] }]) { edges { node { id attributes { code codeValue decimal } } } } }`,
      {},
      STEWARD,
    );
    expect(graphql.errors).toBeUndefined();
    expect(
      graphql.data?.features.edges.map((e: { node: { attributes: unknown } }) => e.node.attributes),
    ).toEqual([[{ code: 'irrigation_class', codeValue: 'C', decimal: null }]]);
  });

  it('stores geometry attributes in CGCS2000 and masks them with the point rule', async () => {
    const [a, b] = people;
    await defineAttribute(
      db,
      {
        ...base,
        code: 'care_visit_point',
        name: '上门服务点位',
        description: 'Where home care visits take place',
        dataType: 'geometry',
        level: 'sensitive',
        share: 'conditional',
        mask: 'point',
      },
      'test',
    );
    const report = await runImport(db, {
      registry: 'attributes',
      input: {
        kind: 'records',
        name: 'visit-points',
        records: [
          {
            record_type: 'person',
            record_key: a!.idNumber,
            code: 'care_visit_point',
            value: { type: 'Point', coordinates: [116.4567, 39.9123] },
          },
          { record_type: 'person', record_key: b!.idNumber, code: 'care_visit_point', value: 'not json' },
          {
            record_type: 'person',
            record_key: people[2]!.idNumber,
            code: 'care_visit_point',
            value: { type: 'Point', coordinates: [116] },
          },
        ],
      },
      sourceDept: 'CA-110105',
      submittedBy: 'test',
    });
    expect(report.rejects[0]).toEqual({
      row: 2,
      field: 'value',
      reason: 'is not a GeoJSON geometry (INVALID_ATTRIBUTE_VALUE)',
    });
    // PostGIS cannot parse row 3: a reject of its own, not an error that stops the batch.
    expect(report.rejects.slice(1).map((r) => `${r.row} ${r.field}`)).toEqual(['3 value']);
    expect(report.rejects[1]!.reason).toMatch(/^is not a GeoJSON geometry: .+\(INVALID_ATTRIBUTE_VALUE\)$/);
    expect(report.inserted).toBe(1);
    const [stored] = await db.query<{ srid: number }>(
      `SELECT ST_SRID(value_geom) AS srid FROM attribute_values WHERE code = 'care_visit_point' AND valid_to IS NULL`,
    );
    expect(Number(stored!.srid)).toBe(4490);
    const selection = 'attributes(codes: ["care_visit_point"]) { geometry masked }';
    const clear = await personVia(STEWARD, a!.id, selection);
    expect(clear.person.attributes).toEqual([
      { geometry: { type: 'Point', coordinates: [116.4567, 39.9123] }, masked: false },
    ]);
    const masked = await personVia(COUNTY, a!.id, selection);
    expect(masked.person.attributes).toEqual([
      { geometry: { type: 'Point', coordinates: [116.455, 39.915] }, masked: true },
    ]);
  });

  it('carries entity attributes: imported by USCC, read and filtered by market regulation', async () => {
    const high = await registerEntity(db, { name: '深圳绿能科技有限公司' });
    const low = await registerEntity(db, { name: '深圳灰色制造有限公司' });
    await defineAttribute(
      db,
      {
        recordType: 'entity',
        code: 'esg_score',
        name: 'ESG 评分',
        description: 'ESG score 0–100',
        dataType: 'integer',
        minValue: 0,
        maxValue: 100,
        ownerDept: 'SAMR-440000',
        updateFrequency: 'yearly',
        level: 'restricted',
        share: 'unconditional',
        mask: 'redact',
      },
      'test',
    );
    const report = await runImport(db, {
      registry: 'attributes',
      input: {
        kind: 'records',
        name: 'esg',
        records: [
          { record_type: 'entity', record_key: high.uscc, code: 'esg_score', value: 82 },
          { record_type: 'entity', record_key: low.uscc, code: 'esg_score', value: 35 },
        ],
      },
      sourceDept: 'SAMR-440000',
      submittedBy: 'test',
    });
    expect(report).toMatchObject({ accepted: 2, inserted: 2, rejected: 0 });
    const r = await gql(
      gateway,
      `{ entities(first: 10, attributeFilter: [{ code: "esg_score", gte: "60" }]) { edges { node { uscc attributes { code integer } } } } }`,
      {},
      MARKET,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.entities.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { uscc: high.uscc, attributes: [{ code: 'esg_score', integer: '82' }] },
    ]);
  });

  it('lists attributes in the data-resource catalogue with their classification, owner and frequency', async () => {
    const r = await gql(
      gateway,
      `{ dataCatalogue(id: "population.persons") { fields { name kind level share mask owner updateFrequency status source } } }`,
    );
    expect(r.errors).toBeUndefined();
    const fields = r.data?.dataCatalogue[0].fields.filter((f: { kind: string }) => f.kind === 'attribute');
    expect(fields.find((f: { name: string }) => f.name === 'attribute:disability_level')).toEqual({
      name: 'attribute:disability_level',
      kind: 'attribute',
      level: 'sensitive',
      share: 'conditional',
      mask: 'redact',
      owner: 'CA-110105',
      updateFrequency: 'monthly',
      status: 'active',
      source: 'attribute:disability_level@v1',
    });
    expect(fields.find((f: { name: string }) => f.name === 'attribute:old_item')?.status).toBe('retired');
  });

  it('turns each definition into a quality rule, versioned with it: a pass reports stored values that break it', async () => {
    const [a] = people;
    // Version 2 of care_status no longer lists 'home', which person a holds.
    const changed = await defineAttribute(
      db,
      {
        ...base,
        code: 'care_status',
        name: '照护状态',
        description: 'Where the person is cared for',
        dataType: 'code',
        codeValues: ['institution', 'none'],
        level: 'restricted',
        share: 'unconditional',
        mask: 'redact',
      },
      'test',
    );
    expect(changed).toMatchObject({ outcome: 'changed', definition: { version: 2 } });
    const run = await runQualityPass(db, {
      rules: ['attributes.person.care_status.valid', 'attributes.person.disability_level.valid'],
      triggeredBy: 'test',
    });
    const byId = Object.fromEntries(run.rules.map((r) => [r.ruleId, r]));
    expect(byId['attributes.person.care_status.valid']).toMatchObject({
      version: 'v2',
      checked: 1,
      failed: 1,
    });
    expect(byId['attributes.person.disability_level.valid']).toMatchObject({
      version: 'v1',
      checked: 2,
      failed: 0,
    });
    const failures = await db.query<{ key: string; detail: string }>(
      `SELECT record_key AS key, detail FROM quality_failures WHERE run_id = $1`,
      [run.runId],
    );
    expect(failures).toEqual([
      { key: String(a!.id), detail: 'attribute care_status is not in the code list (institution, none)' },
    ]);
  });

  it('corrects one value through the import pipeline (validated, owner only, history and lineage kept)', async () => {
    const [, b] = people;
    const correct = `mutation ($key: String!, $value: String!) {
      correctAttribute(recordType: PERSON, recordKey: $key, code: "care_status", value: $value, reason: "home visit") {
        status batchId rejects { field reason } } }`;
    const bad = await gql(gateway, correct, { key: b!.idNumber, value: 'hospital' }, COUNTY);
    expect(bad.errors).toBeUndefined();
    expect(bad.data?.correctAttribute).toMatchObject({
      status: 'rejected',
      rejects: [
        { field: 'value', reason: 'is not in the code list (institution, none) (INVALID_ATTRIBUTE_VALUE)' },
      ],
    });
    const applied = await gql(gateway, correct, { key: b!.idNumber, value: 'institution' }, COUNTY);
    expect(applied.data?.correctAttribute.status).toBe('applied');
    const again = await gql(gateway, correct, { key: b!.idNumber, value: 'institution' }, COUNTY);
    expect(again.data?.correctAttribute.status).toBe('unchanged');
    // The internal-grant department may not even read the value in clear: no write either.
    const refused = await gql(gateway, correct, { key: b!.idNumber, value: 'none' }, internalKey);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
    const [lineage] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM import_lineage WHERE batch_id = $1`,
      [applied.data?.correctAttribute.batchId],
    );
    expect(lineage!.n).toBe(1);
    // null removes the current value: closed (kept in history), logged as a change of the person.
    const remove = `mutation ($key: String!) {
      correctAttribute(recordType: PERSON, recordKey: $key, code: "care_status", value: null, reason: "moved away") { status } }`;
    const removed = await gql(gateway, remove, { key: b!.idNumber }, COUNTY);
    expect(removed.errors).toBeUndefined();
    expect(removed.data?.correctAttribute.status).toBe('applied');
    const [log] = await db.query<{ recordKey: string; fields: string[] }>(
      `SELECT record_key AS "recordKey", changed_fields AS fields FROM change_log ORDER BY seq DESC LIMIT 1`,
    );
    expect(log).toEqual({ recordKey: String(b!.id), fields: ['attributes.care_status'] });
    const history = await personVia(
      COUNTY,
      b!.id,
      'attributeHistory(code: "care_status") { codeValue current }',
    );
    expect(history.person.attributeHistory).toEqual([{ codeValue: 'institution', current: false }]);
    expect((await gql(gateway, remove, { key: b!.idNumber }, COUNTY)).data?.correctAttribute.status).toBe(
      'unchanged',
    );
  });

  it('reads attributes of a page of records in a bounded number of statements (no N+1)', async () => {
    const list = (first: number) =>
      `{ persons(divisionCode: "110105", first: ${first}) { edges { node { id attributes { code integer codeValue } } } } }`;
    const count = async (first: number) => {
      const before = db.counter.count;
      const r = await gql(gateway, list(first), {}, STEWARD);
      expect(r.errors).toBeUndefined();
      return db.counter.count - before;
    };
    const one = await count(1);
    const four = await count(4);
    expect(four).toBe(one);
  });

  it('lets set-based SQL (a rule tag predicate over r) read an attribute like a column', async () => {
    const [a, , , d] = people;
    const predicate = `r.status = 'alive' AND ${attributeValueSql('person', 'disability_level', 'int')} >= 2`;
    const found = await db.query<{ id: number }>(
      `SELECT r.id FROM persons r WHERE ${predicate} ORDER BY r.id`,
    );
    expect(found.map((r) => Number(r.id))).toEqual([a!.id, d!.id].sort((x, y) => x - y));
    expect(() => attributeValueSql('person', "x'; DROP TABLE persons; --", 'int')).toThrow();

    // The same predicate as a rule tag: the tag recompute assigns exactly those records.
    const tag: RuleTag = {
      kind: 'rule',
      code: 'severe_disability_test',
      name: 'Severe disability (test)',
      description: 'Living persons whose disability level attribute is 2 or more',
      registry: 'person',
      owner: 'MCA',
      level: 'sensitive',
      share: 'conditional',
      mask: 'redact',
      version: '1',
      predicate,
    };
    await syncTagDefinitions(db, [tag]);
    const result = await recomputeTag(db, tag, { asOf: '2026-11-27', triggeredBy: 'test' });
    expect(result.opened).toBe(2);
    const assigned = await db.query<{ record_id: number }>(
      `SELECT record_id FROM tag_assignments WHERE tag_code = $1 AND valid_to IS NULL ORDER BY record_id`,
      [tag.code],
    );
    expect(assigned.map((r) => Number(r.record_id))).toEqual(found.map((r) => Number(r.id)));
  });

  it('is managed by npm run attributes -- define|retire|list, audited through the audit writer', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { db, log: (l: string) => out.push(l), error: (l: string) => err.push(l) };
    const file = join(dir, 'esg.json');
    writeFileSync(
      file,
      JSON.stringify({
        recordType: 'entity',
        code: 'esg_rating',
        name: 'ESG 评级',
        description: 'Environmental, social and governance rating',
        dataType: 'code',
        codeValues: ['AAA', 'AA', 'A', 'BBB', 'BB', 'B'],
        ownerDept: 'SAMR',
        updateFrequency: 'yearly',
        level: 'internal',
        share: 'unconditional',
        mask: 'none',
      }),
    );
    expect(await attributesCli(['define', '--file', file], io)).toBe(0);
    expect(out.at(-1)).toBe('entity.esg_rating: created (version 1)');
    expect(
      await attributesCli(
        [
          'define',
          '--record-type',
          'entity',
          '--code',
          'BAD',
          '--name',
          'x',
          '--description',
          'x',
          '--type',
          'text',
          '--owner',
          'SAMR',
          '--frequency',
          'yearly',
          '--level',
          'internal',
          '--share',
          'unconditional',
          '--mask',
          'none',
        ],
        io,
      ),
    ).toBe(1);
    expect(err.at(-1)).toMatch(/^INVALID_ATTRIBUTE_DEFINITION: .*'code'/);
    expect(
      await attributesCli(
        ['retire', '--record-type', 'entity', '--code', 'esg_rating', '--reason', 'test'],
        io,
      ),
    ).toBe(0);
    expect(
      await attributesCli(
        ['retire', '--record-type', 'entity', '--code', 'esg_rating', '--reason', 'again'],
        io,
      ),
    ).toBe(1);
    expect(err.at(-1)).toMatch(/^ATTRIBUTE_RETIRED/);
    expect(await attributesCli(['list', '--record-type', 'entity', '--all'], io)).toBe(0);
    expect(out.some((l) => /^entity\.esg_rating\s+v2 code\s+internal .* retired/.test(l))).toBe(true);
    expect(await attributesCli(['frobnicate'], io)).toBe(2);
    const audit = await db.query<{ operation: string; outcome: string }>(
      `SELECT operation, outcome FROM audit_log WHERE channel = 'script' AND operation LIKE 'attributes:%' ORDER BY seq`,
    );
    expect(audit.map((a) => `${a.operation} ${a.outcome}`)).toEqual([
      'attributes:define:entity.esg_rating@v1:created ok',
      'attributes:define:refused:INVALID_ATTRIBUTE_DEFINITION error',
      'attributes:retire:entity.esg_rating@v2 ok',
      'attributes:retire:refused:ATTRIBUTE_RETIRED error',
    ]);
  });

  it('retires an attribute: definitions keep their versions and the values their history', async () => {
    const [a] = people;
    const retire = `mutation { retireAttribute(recordType: PERSON, code: "volunteer_hours", reason: "measured elsewhere now") { status version } }`;
    const retired = await gql(gateway, retire, {}, STEWARD);
    expect(retired.errors).toBeUndefined();
    expect(retired.data?.retireAttribute).toEqual({ status: 'retired', version: 2 });
    const found = await personVia(
      COUNTY,
      a!.id,
      'attributeHistory(code: "volunteer_hours") { integer current validTo }',
    );
    expect(found.errors).toBeUndefined();
    const values = found.person.attributeHistory;
    const current = await personVia(COUNTY, a!.id, 'attributes { code }');
    expect(current.person.attributes.map((x: { code: string }) => x.code)).not.toContain('volunteer_hours');
    expect(values.map((v: { integer: string; current: boolean }) => `${v.integer}:${v.current}`)).toEqual([
      '120:false',
      '150:true',
    ]);
    const versions = await gql(
      gateway,
      `{ attributeDefinitionVersions(recordType: PERSON, code: "volunteer_hours") { version status } attributeDefinitions { code } }`,
      {},
      COUNTY,
    );
    expect(versions.data?.attributeDefinitionVersions).toEqual([
      { version: 1, status: 'active' },
      { version: 2, status: 'retired' },
    ]);
    expect(versions.data?.attributeDefinitions.map((d: { code: string }) => d.code)).not.toContain(
      'volunteer_hours',
    );
    await expect(db.query('DELETE FROM attribute_values')).rejects.toThrow(/never deleted/);
  });
});
