import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDepartment, addGrant, createKey } from '../src/access/admin.ts';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { RULE_TAGS, type RuleTag, TAGS, tagByCode } from '../src/tags/definitions.ts';
import { countStatement, recomputeTags } from '../src/tags/store.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { AS_OF, type TagTestData, tagTestData } from './tags-fixtures.ts';
import { HAND } from './tags-hand.ts';

const STEWARD = asKey(DEMO_PRINCIPALS.platformSteward.key, 'data_governance');
const STEWARD_NO_PURPOSE = asKey(DEMO_PRINCIPALS.platformSteward.key);
const COUNTY = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);
const MARKET = asKey(DEMO_PRINCIPALS.provincialMarketRegulation.key);

let db: TestDatabase;
let gateway: Gateway;
let data: TagTestData;
/** A department of Chaoyang with an 'internal' grant on persons: one level below restricted tags. */
let internalKey: Record<string, string>;

async function current(code: string): Promise<number[]> {
  const found = await db.query<{ id: number }>(
    'SELECT record_id AS id FROM tag_assignments WHERE tag_code = $1 AND valid_to IS NULL ORDER BY record_id',
    [code],
  );
  return found.map((r) => Number(r.id));
}

async function lastAudit(): Promise<{ fields: Record<string, Record<string, number>>; subjects: string[] }> {
  const [row] = await db.query<{ fields: Record<string, Record<string, number>>; subjects: string[] }>(
    'SELECT fields, subjects FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  return row!;
}

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  data = await tagTestData(db);
  await recomputeTags(db, { asOf: AS_OF, triggeredBy: 'test' });
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
  internalKey = asKey((await createKey(db, { department: 'STAT-110105', application: 'tags-test' })).key);
  // Generating and encrypting the fixture population takes minutes on PGlite when the machine is shared.
}, 600_000);
afterAll(() => db?.dispose());

describe('rule tags: the set-based recompute', () => {
  it.each(RULE_TAGS.map((t) => t.code))(
    '%s matches a hand computation on the generated data',
    async (code) => {
      const hand = await HAND[code]!(
        db,
        AS_OF,
        data.layers.invalid.map((i) => i.id),
      );
      expect(hand.length, `${code} should have members`).toBeGreaterThan(0);
      expect(await current(code)).toEqual(hand);
      const bare = countStatement(tagByCode(code) as RuleTag, AS_OF);
      const [count] = await db.query<{ n: number }>(bare.text, bare.params);
      expect(Number(count!.n)).toBe(hand.length);
    },
  );

  it('the hand computations are not trivial: members and non-members of each registry', async () => {
    const [n] = await db.query<{ persons: number; entities: number }>(
      `SELECT (SELECT count(*)::int FROM persons) AS persons, (SELECT count(*)::int FROM entities) AS entities`,
    );
    for (const code of ['elderly', 'living_alone', 'newborn_this_year', 'unregistered_online_operator'])
      expect((await current(code)).length).toBeLessThan(n!.persons);
    // The test zones hold inactive entities and an ended zone: both must be left out.
    const inZones = await db.query<{ id: number; status: string }>(
      `SELECT DISTINCT e.id, e.status FROM entities e JOIN features z ON z.layer_id = 'planning-zones'
         AND z.source_batch LIKE 'test-zones%' AND ST_Intersects(z.geom, e.point)`,
    );
    const tagged = new Set(await current('in_ecological_red_line'));
    expect(inZones.some((e) => !tagged.has(Number(e.id)))).toBe(true);
    // Sellers who are legal representatives of active entities are not "unregistered".
    const [reps] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM online_shops s JOIN entities e ON e.legal_rep_person_id = s.operator_person_id
        WHERE s.source_batch = 'test-shops' AND s.status = 'active' AND e.status = 'active'`,
    );
    expect(reps!.n).toBeGreaterThan(0);
  });

  it('a recompute with nothing changed moves no assignment', async () => {
    const results = await recomputeTags(db, { asOf: AS_OF, triggeredBy: 'test' });
    for (const r of results) {
      expect(r.opened, r.code).toBe(0);
      expect(r.closed, r.code).toBe(0);
      expect(r.matched, r.code).toBe((await current(r.code)).length);
    }
  });

  it('after a change only the changed assignments move, and the closed ones stay as history', async () => {
    const elderly = await current('elderly');
    const [died, reborn] = [elderly[5]!, elderly[6]!];
    await db.query(`UPDATE persons SET status = 'deceased', death_date = date '2025-06-01' WHERE id = $1`, [
      died,
    ]);
    await db.query(`UPDATE persons SET birth_date = date '2025-02-03' WHERE id = $1`, [reborn]);
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tag_assignments');
    const [e, n] = await recomputeTags(db, {
      codes: ['elderly', 'newborn_this_year'],
      asOf: AS_OF,
      triggeredBy: 'test',
    });
    expect(e).toMatchObject({ code: 'elderly', opened: 0, closed: 2, matched: elderly.length - 2 });
    expect(n).toMatchObject({ code: 'newborn_this_year', opened: 1, closed: 0 });
    const history = await db.query<{ recordId: number; validTo: string | null; closedBy: string }>(
      `SELECT record_id AS "recordId", valid_to::text AS "validTo", closed_by AS "closedBy" FROM tag_assignments
        WHERE tag_code = 'elderly' AND record_id = ANY($1::bigint[]) ORDER BY record_id`,
      [[died, reborn]],
    );
    expect(history).toHaveLength(2);
    for (const h of history) {
      expect(h.validTo).not.toBeNull();
      expect(h.closedBy).toBe('rule:elderly@1');
    }
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tag_assignments');
    expect(after[0]!.n).toBe(before[0]!.n + 1);
    expect(await current('elderly')).toEqual(await HAND.elderly!(db, AS_OF, []));
  });

  it('a later reference date opens exactly the persons who reached 60 meanwhile', async () => {
    const later = '2026-06-30';
    const before = new Set(await current('elderly'));
    const expected = (await HAND.elderly!(db, later, [])).filter((id) => !before.has(id));
    const [r] = await recomputeTags(db, { codes: ['elderly'], asOf: later, triggeredBy: 'test' });
    expect(r!.opened).toBe(expected.length);
    expect(r!.opened).toBeGreaterThan(0);
    expect(r!.closed).toBe(0);
    const [opened] = await db.query<{ ids: number[]; asOf: string; version: string }>(
      `SELECT array_agg(record_id ORDER BY record_id) AS ids, min(as_of)::text AS "asOf", min(rule_version) AS version
         FROM tag_assignments WHERE tag_code = 'elderly' AND as_of = $1::date`,
      [later],
    );
    expect(opened!.ids.map(Number)).toEqual(expected);
    expect(opened!.version).toBe('1');
    const [run] = await db.query<{ opened: number }>(
      `SELECT opened FROM tag_runs WHERE tag_code = 'elderly' ORDER BY id DESC LIMIT 1`,
    );
    expect(Number(run!.opened)).toBe(expected.length);
    await recomputeTags(db, { codes: ['elderly'], asOf: AS_OF, triggeredBy: 'test' });
  });

  it('person predicates never read the columns encrypted at rest', () => {
    for (const tag of RULE_TAGS.filter((t) => t.registry === 'person'))
      expect(tag.predicate, tag.code).not.toMatch(/id_number|phone|address/);
  });
});

describe('tags in GraphQL', () => {
  it('lists the definitions to anyone, with whether the caller may read each', async () => {
    const r = await gql(gateway, '{ tags { code registry kind level version readable } }');
    expect(r.data!.tags).toHaveLength(TAGS.length);
    const byCode = Object.fromEntries(r.data!.tags.map((t: { code: string }) => [t.code, t]));
    expect(byCode.in_ecological_red_line).toMatchObject({ registry: 'ENTITY', kind: 'RULE', readable: true });
    expect(byCode.elderly).toMatchObject({ level: 'internal', version: '1', readable: false });
    expect(byCode.low_income).toMatchObject({ kind: 'MANUAL', level: 'sensitive', version: null });
  });

  it('filters persons by tags (any / all / none) exactly as SQL does', async () => {
    const [province] = await db.query<{ code: string }>(
      `SELECT left(residence_division_code, 2) || '0000' AS code FROM persons GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
    );
    const q = `query($code: String!, $tags: TagFilter) {
      persons(divisionCode: $code, first: 1000, tags: $tags) { totalCount edges { node { id } } } }`;
    const sqlCount = async (where: string) => {
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM persons p
          WHERE p.residence_division_code BETWEEN $1 AND $2 AND ${where}`,
        [province!.code.slice(0, 2), `${province!.code.slice(0, 2)}9999999999`],
      );
      return row!.n;
    };
    const has = (code: string) =>
      `EXISTS (SELECT 1 FROM tag_assignments a WHERE a.record_id = p.id AND a.tag_code = '${code}' AND a.valid_to IS NULL)`;
    const cases: [Record<string, string[]>, string][] = [
      [{ any: ['elderly', 'newborn_this_year'] }, `(${has('elderly')} OR ${has('newborn_this_year')})`],
      [{ all: ['elderly', 'living_alone'] }, `${has('elderly')} AND ${has('living_alone')}`],
      [{ all: ['elderly'], none: ['living_alone'] }, `${has('elderly')} AND NOT ${has('living_alone')}`],
    ];
    for (const [tags, where] of cases) {
      const r = await gql(gateway, q, { code: province!.code, tags }, STEWARD);
      expect(r.errors, JSON.stringify(tags)).toBeUndefined();
      const expected = await sqlCount(where);
      expect(expected, JSON.stringify(tags)).toBeGreaterThan(0);
      expect(r.data!.persons.totalCount, JSON.stringify(tags)).toBe(expected);
    }
  });

  it('reads the tags of a page of records in a bounded number of statements (no N+1)', async () => {
    const [province] = await db.query<{ code: string }>(
      `SELECT left(residence_division_code, 2) || '0000' AS code FROM persons GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
    );
    const statements = async (first: number) => {
      const before = db.counter.count;
      const r = await gql(
        gateway,
        `query($code: String!, $first: Int!) { persons(divisionCode: $code, first: $first, tags: { any: ["elderly"] }) {
           edges { node { id tags(history: true) { code validFrom } } } } }`,
        { code: province!.code, first },
        STEWARD,
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.persons.edges).toHaveLength(first);
      return db.counter.count - before;
    };
    await statements(4); // warm the principal cache
    expect(await statements(40)).toBe(await statements(4));
  });

  it('filters entities and features by public tags for anyone; internal tags need a grant', async () => {
    const r = await gql(
      gateway,
      '{ entities(first: 100, tags: { any: ["in_ecological_red_line"] }) { totalCount edges { node { uscc tags { code } } } } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.entities.totalCount).toBe((await current('in_ecological_red_line')).length);
    for (const edge of r.data!.entities.edges)
      expect(edge.node.tags.map((t: { code: string }) => t.code)).toContain('in_ecological_red_line');
    const f = await gql(
      gateway,
      '{ features(layerId: "farmland", first: 100, tags: { all: ["farmland_in_red_line"] }) { edges { node { id } } } }',
    );
    expect(
      f
        .data!.features.edges.map((e: { node: { id: string } }) => Number(e.node.id))
        .sort((a: number, b: number) => a - b),
    ).toEqual(await current('farmland_in_red_line'));
    const denied = await gql(
      gateway,
      '{ entities(first: 5, tags: { any: ["expired_permit"] }) { totalCount } }',
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FILTER');
    const market = await gql(
      gateway,
      '{ entities(first: 5, tags: { any: ["expired_permit"] }) { totalCount } }',
      {},
      MARKET,
    );
    expect(market.errors).toBeUndefined();
    const wrong = await gql(
      gateway,
      '{ entities(first: 5, tags: { any: ["elderly"] }) { totalCount } }',
      {},
      MARKET,
    );
    expect(wrong.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
    expect(wrong.errors?.[0]?.message).toMatch(/tags\.any.*elderly.*person/);
  });

  it('a sensitive tag is denied like a sensitive field: left out, audited, and unusable as a filter', async () => {
    const id = data.chaoyangPersonId;
    const assign = `mutation($id: ID!) { assignTag(input: { code: "low_income", recordId: $id,
        reason: "最低生活保障审批 2025-03", validFrom: "2025-03-01" }) { code validFrom assignedBy } }`;
    const refused = await gql(gateway, assign, { id: String(id) }, COUNTY);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
    const ok = await gql(gateway, assign, { id: String(id) }, STEWARD);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.assignTag).toMatchObject({
      code: 'low_income',
      assignedBy: expect.stringMatching(/^key:/),
    });

    const q = `{ persons(divisionCode: "110105", first: 50) { edges { node { id tags { code masked reason } } } } }`;
    const county = await gql(gateway, q, {}, COUNTY);
    expect(county.errors).toBeUndefined();
    const codes = county.data!.persons.edges.flatMap((e: { node: { tags: { code: string }[] } }) =>
      e.node.tags.map((t) => t.code),
    );
    expect(codes).toContain('elderly');
    expect(codes).not.toContain('low_income');
    expect(JSON.stringify(county.data)).not.toMatch(/最低生活保障/);
    expect((await lastAudit()).fields['Person.tags.low_income']).toEqual({ deny: 1 });

    const filter = await gql(
      gateway,
      '{ persons(divisionCode: "110105", first: 5, tags: { none: ["low_income"] }) { totalCount } }',
      {},
      COUNTY,
    );
    expect(filter.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FILTER');
    const counts = await gql(
      gateway,
      '{ tagCounts(code: "low_income", divisionCode: "110105") { total } }',
      {},
      COUNTY,
    );
    expect(counts.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
    const noPurpose = await gql(
      gateway,
      '{ persons(divisionCode: "110105", first: 5, tags: { any: ["low_income"] }) { totalCount } }',
      {},
      STEWARD_NO_PURPOSE,
    );
    expect(noPurpose.errors?.[0]?.extensions?.code).toBe('PURPOSE_REQUIRED');

    const steward = await gql(
      gateway,
      '{ persons(divisionCode: "110105", first: 5, tags: { any: ["low_income"] }) { totalCount edges { node { id tags { code reason validFrom } } } } }',
      {},
      STEWARD,
    );
    expect(steward.data!.persons.totalCount).toBe(1);
    const tag = steward.data!.persons.edges[0].node.tags.find(
      (t: { code: string }) => t.code === 'low_income',
    );
    expect(tag).toMatchObject({
      reason: '最低生活保障审批 2025-03',
      validFrom: expect.stringMatching(/^2025-0[23]/),
    });
    const audit = await lastAudit();
    expect(audit.fields['Person.tags.low_income']).toMatchObject({ allow: expect.any(Number) });
    expect(audit.subjects).toContain(`person:${id}`);
  });

  it('a restricted tag with a redact mask shows as *** one level below, without provenance', async () => {
    const id = data.chaoyangPersonId;
    const r = await gql(
      gateway,
      `mutation($id: ID!) { assignTag(input: { code: "key_care", recordId: $id, reason: "独居老人，每周走访" }) { code assignerDept } }`,
      { id: String(id) },
      COUNTY,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.assignTag).toEqual({ code: 'key_care', assignerDept: 'CA-110105' });
    const q = `{ persons(divisionCode: "110105", first: 50) { edges { node { tags { code name masked reason assignedBy tag { code } } } } } }`;
    const internal = await gql(gateway, q, {}, internalKey);
    expect(internal.errors).toBeUndefined();
    const tags = internal.data!.persons.edges.flatMap((e: { node: { tags: unknown[] } }) => e.node.tags);
    expect(tags).toContainEqual({
      code: 'elderly',
      name: '老年人 Elderly',
      masked: false,
      reason: null,
      assignedBy: 'rule:elderly@1',
      tag: { code: 'elderly' },
    });
    expect(tags).toContainEqual({
      code: '***',
      name: '***',
      masked: true,
      reason: null,
      assignedBy: null,
      tag: null,
    });
    expect(JSON.stringify(tags)).not.toMatch(/key_care|走访|low_income/);
    expect((await lastAudit()).fields['Person.tags.key_care']).toEqual({ mask: 1 });
    const filter = await gql(
      gateway,
      '{ persons(divisionCode: "110105", first: 5, tags: { any: ["key_care"] }) { totalCount } }',
      {},
      internalKey,
    );
    expect(filter.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FILTER');
  });

  it('a manual tag keeps its history: ended, not deleted, and assigned again', async () => {
    const id = String(data.chaoyangPersonId);
    const end = await gql(
      gateway,
      `mutation($id: ID!) { endTag(input: { code: "key_care", recordId: $id, reason: "迁入养老机构" }) { current closedBy closeReason } }`,
      { id },
      COUNTY,
    );
    expect(end.errors).toBeUndefined();
    expect(end.data!.endTag).toMatchObject({ current: false, closeReason: '迁入养老机构' });
    const again = await gql(
      gateway,
      `mutation($id: ID!) { endTag(input: { code: "key_care", recordId: $id, reason: "再次" }) { current } }`,
      { id },
      COUNTY,
    );
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const reassign = await gql(
      gateway,
      `mutation($id: ID!) { assignTag(input: { code: "key_care", recordId: $id, reason: "返回家中居住" }) { current } }`,
      { id },
      COUNTY,
    );
    expect(reassign.data!.assignTag.current).toBe(true);
    const twice = await gql(
      gateway,
      `mutation($id: ID!) { assignTag(input: { code: "key_care", recordId: $id, reason: "重复" }) { current } }`,
      { id },
      COUNTY,
    );
    expect(twice.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
    const history = await gql(
      gateway,
      `{ persons(divisionCode: "110105", first: 50, tags: { any: ["key_care"] }) { edges { node {
          tags(history: true) { code current reason closeReason validFrom validTo } } } } }`,
      {},
      COUNTY,
    );
    const keyCare = history.data!.persons.edges[0].node.tags.filter(
      (t: { code: string }) => t.code === 'key_care',
    );
    expect(keyCare).toHaveLength(2);
    expect(keyCare[0]).toMatchObject({
      current: false,
      reason: '独居老人，每周走访',
      closeReason: '迁入养老机构',
    });
    expect(keyCare[0].validTo).not.toBeNull();
    expect(keyCare[1]).toMatchObject({ current: true, reason: '返回家中居住', validTo: null });
  });

  it('assigning needs the tag’s line of business, the record in scope, and a manual tag', async () => {
    const id = String(data.chaoyangPersonId);
    const m = `mutation($code: String!, $id: ID!) { assignTag(input: { code: $code, recordId: $id, reason: "测试原因" }) { code } }`;
    const market = await gql(gateway, m, { code: 'key_care', id }, MARKET);
    expect(market.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN/);
    const rule = await gql(gateway, m, { code: 'elderly', id }, STEWARD);
    expect(rule.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
    const [outside] = await db.query<{ id: number }>(
      `SELECT id FROM persons WHERE residence_division_code NOT LIKE '110105%' AND hukou_division_code NOT LIKE '110105%' LIMIT 1`,
    );
    const far = await gql(gateway, m, { code: 'key_care', id: String(outside!.id) }, COUNTY);
    expect(far.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    const missing = await gql(gateway, m, { code: 'key_care', id: '999999999' }, COUNTY);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('counts a tag per child division, with small counts suppressed below the restricted grant', async () => {
    const [province] = await db.query<{ code: string }>(
      `SELECT left(residence_division_code, 2) || '0000' AS code FROM persons GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
    );
    const q = `query($code: String!) { tagCounts(code: "elderly", divisionCode: $code) {
        total cells { divisionCode count suppressed } } }`;
    const r = await gql(gateway, q, { code: province!.code }, STEWARD);
    expect(r.errors).toBeUndefined();
    const expected = await db.query<{ code: string; n: number }>(
      `SELECT k.code, count(p.id)::int AS n
         FROM divisions k LEFT JOIN (tag_assignments a JOIN persons p ON p.id = a.record_id AND a.tag_code = 'elderly' AND a.valid_to IS NULL)
           ON p.residence_division_code BETWEEN k.prefix AND k.prefix || repeat('9', 12 - length(k.prefix))
        WHERE k.parent_code = $1 AND k.valid_to IS NULL GROUP BY k.code ORDER BY k.code`,
      [province!.code],
    );
    expect(
      r.data!.tagCounts.cells.map((c: { divisionCode: string; count: number }) => [c.divisionCode, c.count]),
    ).toEqual(expected.map((e) => [e.code, e.n]));
    expect(r.data!.tagCounts.total).toBe(expected.reduce((s, e) => s + e.n, 0));

    const county = await gql(
      gateway,
      '{ tagCounts(code: "elderly", divisionCode: "110000") { total } }',
      {},
      COUNTY,
    );
    expect(county.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    const small = await gql(
      gateway,
      '{ tagCounts(code: "elderly", divisionCode: "110105") { total totalSuppressed } }',
      {},
      internalKey,
    );
    expect(small.errors).toBeUndefined();
    expect(small.data!.tagCounts).toEqual({ total: null, totalSuppressed: true });
    const cleared = await gql(
      gateway,
      '{ tagCounts(code: "elderly", divisionCode: "110105") { total } }',
      {},
      COUNTY,
    );
    expect(cleared.data!.tagCounts.total).toBeGreaterThan(0);
  });

  it('stewards recompute from a mutation; others may not', async () => {
    const m =
      'mutation { recomputeTags(codes: ["living_alone"], asOf: "2025-06-30") { code matched opened closed } }';
    const county = await gql(gateway, m, {}, COUNTY);
    expect(county.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const r = await gql(gateway, m, {}, STEWARD);
    expect(r.errors).toBeUndefined();
    expect(r.data!.recomputeTags).toEqual([
      { code: 'living_alone', matched: (await current('living_alone')).length, opened: 0, closed: 0 },
    ]);
  });
});
