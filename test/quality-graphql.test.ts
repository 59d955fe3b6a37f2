import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { runQualityPass } from '../src/quality/index.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';

const STEWARD = asKey(DEMO_PRINCIPALS.platformSteward.key);
const COUNTY = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);
const REQUIRED = 'population.persons.required_fields';
const DUPLICATE = 'population.persons.duplicate';
const AS_OF = '2025-06-30';

let db: TestDatabase;
let gateway: Gateway;
const people: Record<string, number> = {};
const runs: number[] = [];

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  // Chaoyang (110105), in the county department's jurisdiction; Haidian (110108) outside it.
  people.clean = (await insertPerson(db, { name: '周清', birthDate: '1980-01-01' })).id;
  people.noAddress = (await insertPerson(db, { name: '吴缺', birthDate: '1981-02-02' })).id;
  people.original = (await insertPerson(db, { name: '郑同', birthDate: '1982-03-03' })).id;
  people.duplicate = (await insertPerson(db, { name: '郑同', birthDate: '1982-03-03', sequence: 500 })).id;
  people.elsewhere = (
    await insertPerson(db, { name: '冯远', birthDate: '1983-04-04', county: '110108', point: [116.3, 39.96] })
  ).id;
  await db.query('UPDATE persons SET hukou_address = NULL WHERE id = ANY($1::bigint[])', [
    [people.noAddress, people.elsewhere],
  ]);
  for (let i = 0; i < 3; i++) {
    const run = await runQualityPass(db, { asOf: AS_OF, rules: [REQUIRED, DUPLICATE], triggeredBy: 'test' });
    runs.push(run.runId);
  }
});
afterAll(() => db?.dispose());

describe('steward API', () => {
  it('refuses callers without the steward role with FORBIDDEN', async () => {
    for (const headers of [COUNTY, {}]) {
      const r = await gql(gateway, '{ qualityRuns(first: 1) { edges { node { id } } } }', {}, headers);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(r.errors?.[0]?.message).toMatch(/steward/);
    }
    const m = await gql(
      gateway,
      'mutation { updateQualityIssue(id: "1", status: FIXED) { id } }',
      {},
      COUNTY,
    );
    expect(m.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const i = await gql(gateway, '{ qualityIssues { totalCount } }', {}, COUNTY);
    expect(i.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lists runs newest first, a page at a time, with rule results and scores', async () => {
    const q = `query($after: String) { qualityRuns(first: 2, after: $after) {
      edges { node { id status rules rowsChecked failures asOf triggeredBy
        results { ruleId version dimension severity checked failed failureRate exceeded rule { description source } }
        scores { registry dimension checked passed score } } }
      pageInfo { hasNextPage endCursor } } }`;
    const first = await gql(gateway, q, {}, STEWARD);
    expect(first.errors).toBeUndefined();
    const page1 = first.data!.qualityRuns;
    expect(page1.edges.map((e: any) => Number(e.node.id))).toEqual([runs[2], runs[1]]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const node = page1.edges[0].node;
    expect(node).toMatchObject({ status: 'FAILED', rules: 2, rowsChecked: 10, failures: 3, asOf: AS_OF });
    const required = node.results.find((r: any) => r.ruleId === REQUIRED);
    expect(required).toMatchObject({ dimension: 'COMPLETENESS', severity: 'ERROR', checked: 5, failed: 2 });
    expect(required.failureRate).toBeCloseTo(0.4);
    expect(required.rule.source).toMatch(/population\.ts$/);
    expect(node.scores).toContainEqual({
      registry: 'population',
      dimension: 'UNIQUENESS',
      checked: 5,
      passed: 4,
      score: 0.8,
    });
    const second = await gql(gateway, q, { after: page1.pageInfo.endCursor }, STEWARD);
    expect(second.data!.qualityRuns.edges.map((e: any) => Number(e.node.id))).toEqual([runs[0]]);
    expect(second.data!.qualityRuns.pageInfo.hasNextPage).toBe(false);
  });

  it('reads nested results in a bounded number of statements', async () => {
    const before = db.counter.count;
    const r = await gql(
      gateway,
      '{ qualityRuns(first: 3) { edges { node { id results { ruleId rule { id } } scores { score } } } } }',
      {},
      STEWARD,
    );
    expect(r.errors).toBeUndefined();
    // authentication, the page, results of all runs, rules of all results, the audit record
    expect(db.counter.count - before).toBeLessThanOrEqual(8);
  });

  it('pages through issues by rule and division, and summarises them', async () => {
    const q = `query($filter: QualityIssueFilter, $after: String) {
      qualityIssues(filter: $filter, first: 1, after: $after) {
        totalCount edges { node { id ruleId dataset recordKey divisionCode detail status firstSeenRun lastSeenRun
          rule { dimension severity } } }
        pageInfo { hasNextPage endCursor } } }`;
    const all = await gql(gateway, q, { filter: { ruleId: REQUIRED } }, STEWARD);
    expect(all.errors).toBeUndefined();
    expect(all.data!.qualityIssues.totalCount).toBe(2);
    const firstIssue = all.data!.qualityIssues.edges[0].node;
    expect(firstIssue).toMatchObject({
      ruleId: REQUIRED,
      dataset: 'population.persons',
      recordKey: String(people.noAddress),
      detail: 'missing: hukou_address',
      status: 'OPEN',
      firstSeenRun: String(runs[0]),
      lastSeenRun: String(runs[2]),
      rule: { dimension: 'COMPLETENESS', severity: 'ERROR' },
    });
    const next = await gql(
      gateway,
      q,
      { filter: { ruleId: REQUIRED }, after: all.data!.qualityIssues.pageInfo.endCursor },
      STEWARD,
    );
    expect(next.data!.qualityIssues.edges[0].node.recordKey).toBe(String(people.elsewhere));
    expect(next.data!.qualityIssues.pageInfo.hasNextPage).toBe(false);

    const chaoyang = await gql(gateway, q, { filter: { divisionCode: '110105' } }, STEWARD);
    expect(chaoyang.data!.qualityIssues.totalCount).toBe(2);
    const bad = await gql(gateway, q, { filter: { divisionCode: '119999' } }, STEWARD);
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_DIVISION_CODE');

    const summary = await gql(
      gateway,
      `{ byRule: qualityIssueSummary(by: RULE) { key count }
         byCounty: qualityIssueSummary(by: COUNTY) { key name count } }`,
      {},
      STEWARD,
    );
    expect(summary.errors).toBeUndefined();
    expect(summary.data!.byRule).toEqual([
      { key: REQUIRED, count: 2 },
      { key: DUPLICATE, count: 1 },
    ]);
    expect(summary.data!.byCounty).toEqual([
      { key: '110105', name: '朝阳区', count: 2 },
      { key: '110108', name: '海淀区', count: 1 },
    ]);
  });

  it('records who marked an issue, when and why, and keeps a false positive out of the open list', async () => {
    const [issue] = await db.query<{ id: number }>(
      'SELECT id FROM quality_issues WHERE rule_id = $1 AND record_key = $2',
      [DUPLICATE, String(people.duplicate)],
    );
    const m = `mutation($id: ID!, $status: QualityIssueResolution!, $comment: String) {
      updateQualityIssue(id: $id, status: $status, comment: $comment) {
        id status updatedAt history { fromStatus status comment principal departmentCode at } } }`;
    const ack = await gql(
      gateway,
      m,
      { id: String(issue!.id), status: 'ACKNOWLEDGED', comment: '核实中' },
      STEWARD,
    );
    expect(ack.errors).toBeUndefined();
    expect(ack.data!.updateQualityIssue.status).toBe('ACKNOWLEDGED');
    const fp = await gql(
      gateway,
      m,
      { id: String(issue!.id), status: 'FALSE_POSITIVE', comment: '双胞胎，非重复登记' },
      STEWARD,
    );
    expect(fp.errors).toBeUndefined();
    const history = fp.data!.updateQualityIssue.history;
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({
      fromStatus: 'ACKNOWLEDGED',
      status: 'FALSE_POSITIVE',
      comment: '双胞胎，非重复登记',
      principal: 'key:gbk_demo04',
      departmentCode: 'PLATFORM',
    });
    expect(Date.now() - Date.parse(history[1].at)).toBeLessThan(60_000);

    const open = await gql(
      gateway,
      '{ qualityIssues(filter: { ruleId: "population.persons.duplicate" }) { totalCount } }',
      {},
      STEWARD,
    );
    expect(open.data!.qualityIssues.totalCount).toBe(0);
    const dismissed = await gql(
      gateway,
      '{ qualityIssues(filter: { status: [FALSE_POSITIVE] }) { totalCount } }',
      {},
      STEWARD,
    );
    expect(dismissed.data!.qualityIssues.totalCount).toBe(1);

    // A later run still finds the record; a false positive stays dismissed.
    await runQualityPass(db, { asOf: AS_OF, rules: [DUPLICATE], triggeredBy: 'test' });
    const [after] = await db.query<{ status: string }>('SELECT status FROM quality_issues WHERE id = $1', [
      issue!.id,
    ]);
    expect(after!.status).toBe('false_positive');

    for (const [id, code] of [
      ['abc', 'INVALID_ARGUMENT'],
      ['99999999', 'NOT_FOUND'],
    ] as const) {
      const r = await gql(gateway, m, { id, status: 'FIXED' }, STEWARD);
      expect(r.errors?.[0]?.extensions?.code).toBe(code);
    }
  });
});

describe('Person.qualityFlags', () => {
  const q = `{ persons(divisionCode: "110105", by: HOUSEHOLD_REGISTRATION, first: 20) {
    edges { node { name qualityFlags { ruleId dimension severity description status } } } } }`;

  it('shows a record’s open issues — rule and severity, no values — to a caller who may see the person', async () => {
    const r = await gql(gateway, q, {}, COUNTY);
    expect(r.errors).toBeUndefined();
    const byName = new Map(r.data!.persons.edges.map((e: any) => [e.node.name, e.node.qualityFlags]));
    expect(byName.get('周清')).toEqual([]);
    expect(byName.get('吴缺')).toEqual([
      {
        ruleId: REQUIRED,
        dimension: 'COMPLETENESS',
        severity: 'ERROR',
        description: expect.stringContaining('Required fields'),
        status: 'OPEN',
      },
    ]);
    // The duplicate was dismissed as a false positive by the steward: no flag any more.
    expect(
      r.data!.persons.edges.filter((e: any) => e.node.name === '郑同').map((e: any) => e.node.qualityFlags),
    ).toEqual([[], []]);
    // The person registered in Haidian is not a row this caller sees, flags included.
    expect(byName.has('冯远')).toBe(false);
  });

  it('is classified in the catalogue: the audit records the field decision', async () => {
    await gql(gateway, q, {}, COUNTY);
    const [record] = await db.query<{ fields: Record<string, unknown> }>(
      'SELECT fields FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(record!.fields['Person.qualityFlags']).toMatchObject({ allow: expect.any(Number) });
  });
});
