import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { changeHub } from '../src/registries/legal-entity/change-feed.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertDepartment } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import {
  ENTITY_HEADER,
  entity,
  person,
  storedPerson,
  subscribe,
  tempDir,
  until,
  writeCsv,
} from './import-fixtures.ts';

const MPS = DEMO_PRINCIPALS.nationalPublicSecurity.key;
const MPS_PURPOSE = 'criminal_investigation';
const CA = DEMO_PRINCIPALS.countyCivilAffairs.key; // Chaoyang, Beijing
const SAMR = DEMO_PRINCIPALS.provincialMarketRegulation.key; // Guangdong
const NO_PERSONS_KEY = 'gbk_testimp_change-log-only';

let db: TestDatabase;
let gateway: Gateway;
let dir: string;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  dir = tempDir();
  // A national department that may read the change log but no registry.
  await insertDepartment(db, {
    code: 'TEST-LOG',
    name: '只读日志部门',
    key: NO_PERSONS_KEY,
    grants: { 'governance.change_log': 2 },
  });
});
afterAll(async () => {
  await db?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const importRows = (registry: string, rows: object[], source: string, header?: readonly string[]) =>
  runImport(db, {
    registry,
    input: {
      kind: 'file',
      path: writeCsv(dir, `${registry}-${Date.now()}-${Math.random()}.csv`, rows as never, header),
    },
    sourceDept: source,
    submittedBy: 'test',
  });

const pause = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('bitemporal reads', () => {
  it('person(asOf:) returns the version current then, and personVersions lists them all', async () => {
    const p = person({ name: '版本人', residence_division_code: '110105' });
    await importRows('persons', [p], 'MPS');
    await pause();
    const between = new Date();
    await pause();
    await importRows('persons', [{ ...p, name: '版本人新名', residence_division_code: '110108' }], 'MPS');

    const query = `query($id: String!, $asOf: DateTime) { person(idNumber: $id, asOf: $asOf) {
      name residenceDivisionCode version validFrom } }`;
    const before = await gql(
      gateway,
      query,
      { id: p.id_number, asOf: between.toISOString() },
      asKey(MPS, MPS_PURPOSE),
    );
    expect(before.errors).toBeUndefined();
    expect(before.data!.person).toMatchObject({
      name: '版本人',
      residenceDivisionCode: '110105',
      version: 1,
    });
    const now = await gql(gateway, query, { id: p.id_number }, asKey(MPS, MPS_PURPOSE));
    expect(now.data!.person).toMatchObject({ name: '版本人新名', version: 2 });
    const earlier = await gql(
      gateway,
      query,
      { id: p.id_number, asOf: '2000-01-01T00:00:00Z' },
      asKey(MPS, MPS_PURPOSE),
    );
    expect(earlier.data!.person).toBeNull();

    const versions = await gql(
      gateway,
      `query($id: String!) { personVersions(idNumber: $id) { version name idNumber validFrom validTo } }`,
      { id: p.id_number },
      asKey(MPS, MPS_PURPOSE),
    );
    expect(versions.errors).toBeUndefined();
    const [v2, v1] = versions.data!.personVersions;
    expect([v2.version, v2.name, v1.version, v1.name]).toEqual([2, '版本人新名', 1, '版本人']);
    expect(v2.validTo).toBeNull();
    expect(v1.validTo).toBe(v2.validFrom);
    expect(v1.idNumber).toBe(p.id_number);
    expect(new Date(v1.validTo).getTime()).toBeGreaterThan(between.getTime());
    // Without a grant on the history (Guangdong market regulation reads persons only), no past state.
    const far = person({ county: '440305', residence_point: 'POINT(113.93 22.53)' });
    await importRows('persons', [far], 'MPS');
    const province = await gql(
      gateway,
      `query($id: String!) { personVersions(idNumber: $id) { version } }`,
      { id: far.id_number },
      asKey(SAMR),
    );
    expect(province.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
  });

  it('entity(asOf:) returns the entity before its status change', async () => {
    const e = entity({ name: '深圳市历史测试有限公司' });
    await importRows('entities', [e], 'SAMR-440000', ENTITY_HEADER);
    await pause();
    const between = new Date();
    await pause();
    const report = await importRows(
      'entities',
      [{ uscc: e.uscc, status: 'revoked', status_date: '2024-06-01' }],
      'SAMR-440000',
      ['uscc', 'status', 'status_date'],
    );
    expect(report).toMatchObject({ changed: 1 });
    const query = `query($u: String!, $asOf: DateTime) { entity(uscc: $u, asOf: $asOf) { status version } }`;
    const then = await gql(gateway, query, { u: e.uscc, asOf: between.toISOString() }, asKey(SAMR));
    expect(then.errors).toBeUndefined();
    expect(then.data!.entity).toMatchObject({ status: 'ACTIVE', version: 1 });
    const now = await gql(gateway, query, { u: e.uscc }, asKey(SAMR));
    expect(now.data!.entity).toMatchObject({ status: 'REVOKED', version: 2 });
    const versions = await gql(
      gateway,
      `query($u: String!) { entityVersions(uscc: $u) { status version } }`,
      { u: e.uscc },
      asKey(SAMR),
    );
    expect(versions.errors).toBeUndefined();
    expect(versions.data!.entityVersions).toEqual([
      { status: 'REVOKED', version: 2 },
      { status: 'ACTIVE', version: 1 },
    ]);
  });

  it('householdVersions lists the versions of a household, its address decrypted', async () => {
    const head = person({ name: '版本户主' });
    await importRows('persons', [head], 'MPS');
    const header = ['household_number', 'type', 'division_code', 'address', 'head_id_number'] as const;
    const household = (address: string) => ({
      household_number: 'H110105880001',
      type: 'family',
      division_code: '110105',
      address,
      head_id_number: head.id_number,
    });
    await importRows('households', [household('朝阳区旧址路1号')], 'MPS', header);
    await pause();
    const moved = await importRows('households', [household('朝阳区新址路2号')], 'MPS', header);
    expect(moved).toMatchObject({ changed: 1 });
    const query = `query($n: String!) { householdVersions(householdNumber: $n) {
      version address divisionCode sourceBatch validFrom validTo } }`;
    const versions = await gql(gateway, query, { n: 'H110105880001' }, asKey(CA));
    expect(versions.errors).toBeUndefined();
    const [now, before] = versions.data!.householdVersions;
    expect(now).toMatchObject({
      version: 2,
      address: '朝阳区新址路2号',
      sourceBatch: moved.batchId,
      validTo: null,
    });
    expect(before).toMatchObject({ version: 1, address: '朝阳区旧址路1号' });
    expect(before.validTo).toBe(now.validFrom);
    // Without a grant on the history: refused; outside the jurisdiction: refused.
    const noGrant = await gql(gateway, query, { n: 'H110105880001' }, asKey(NO_PERSONS_KEY));
    expect(noGrant.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    const elsewhere = await gql(gateway, query, { n: 'H110105880001' }, asKey(SAMR));
    expect(elsewhere.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|OUT_OF_JURISDICTION/);
  });
});

const CORRECT_PERSON = `mutation($id: String!, $changes: PersonCorrection!, $reason: String!) {
  correctPerson(idNumber: $id, changes: $changes, reason: $reason) { status batchId version rejects { field reason } } }`;

describe('corrections through the merge path', () => {
  it('applies a correction by a department with a write grant, attributed and audited', async () => {
    const p = person({ name: '更正前' });
    await importRows('persons', [p], 'MPS');
    const r = await gql(
      gateway,
      CORRECT_PERSON,
      { id: p.id_number, changes: { name: '更正后', phone: '13700002222' }, reason: '户籍核对' },
      asKey(MPS, MPS_PURPOSE),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.correctPerson).toMatchObject({ status: 'APPLIED', version: 2, rejects: [] });
    const stored = await storedPerson(db, p.id_number!);
    expect(stored).toMatchObject({ name: '更正后', phone: '13700002222', sourceDept: 'MPS' });
    const [batch] = await db.query<{ format: string; note: string; submittedBy: string; status: string }>(
      `SELECT format, note, submitted_by AS "submittedBy", status FROM import_batches WHERE id = $1`,
      [r.data!.correctPerson.batchId],
    );
    expect(batch).toEqual({
      format: 'graphql',
      note: '户籍核对',
      submittedBy: expect.stringMatching(/^key:/),
      status: 'merged',
    });
    const [audit] = await db.query<{ operation: string | null; subjects: string[]; outcome: string }>(
      `SELECT operation, subjects, outcome FROM audit_log ORDER BY seq DESC LIMIT 1`,
    );
    expect(audit).toMatchObject({ subjects: [`person:${stored!.id}`], outcome: 'ok' });

    const again = await gql(
      gateway,
      CORRECT_PERSON,
      { id: p.id_number, changes: { name: '更正后' }, reason: '重复提交' },
      asKey(MPS, MPS_PURPOSE),
    );
    expect(again.data!.correctPerson).toMatchObject({ status: 'UNCHANGED', version: 2 });
  });

  it('refuses departments without a write grant, and lower-authority or invalid corrections', async () => {
    const p = person({ name: '民政核对' });
    await importRows('persons', [p], 'MPS');
    const denied = await gql(
      gateway,
      CORRECT_PERSON,
      { id: p.id_number, changes: { phone: '13700003333' }, reason: 'x' },
      asKey(CA),
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    await db.query(
      `UPDATE grants SET can_write = true WHERE department_code = 'CA-110105' AND dataset = 'population.persons'`,
    );
    gateway.authenticator.invalidate();
    try {
      const name = await gql(
        gateway,
        CORRECT_PERSON,
        { id: p.id_number, changes: { name: '民政改名' }, reason: '居民申请' },
        asKey(CA),
      );
      expect(name.errors).toBeUndefined();
      expect(name.data!.correctPerson).toMatchObject({
        status: 'REJECTED',
        version: 1,
        rejects: [
          {
            field: 'name',
            reason:
              'may be changed only by a public_security department, its authoritative source (CA-110105 is civil_affairs)',
          },
        ],
      });
      const bad = await gql(
        gateway,
        CORRECT_PERSON,
        { id: p.id_number, changes: { phone: '12' }, reason: '居民申请' },
        asKey(CA),
      );
      expect(bad.data!.correctPerson.rejects).toEqual([
        { field: 'phone', reason: 'is not a mobile (11 digits from 13–19) or landline number' },
      ]);
      const ok = await gql(
        gateway,
        CORRECT_PERSON,
        {
          id: p.id_number,
          changes: {
            residenceAddress: '北京市朝阳区更正路2号',
            residencePoint: { type: 'Point', coordinates: [116.47, 39.93] },
          },
          reason: '居住登记',
        },
        asKey(CA),
      );
      expect(ok.data!.correctPerson).toMatchObject({ status: 'APPLIED', version: 2 });
      // A relation to the head of a household writes household_members: a write grant on persons is not enough.
      const relation = await gql(
        gateway,
        CORRECT_PERSON,
        {
          id: p.id_number,
          changes: { householdNumber: '110105-H-0001', householdRelation: '20' },
          reason: 'x',
        },
        asKey(CA),
      );
      expect(relation.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(relation.errors?.[0]?.message).toMatch(/population\.household_members/);
      const far = person({ county: '440305', residence_point: 'POINT(113.93 22.53)' });
      await importRows('persons', [far], 'MPS');
      const outside = await gql(
        gateway,
        CORRECT_PERSON,
        { id: far.id_number, changes: { phone: '13700004444' }, reason: 'x' },
        asKey(CA),
      );
      expect(outside.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    } finally {
      await db.query(`UPDATE grants SET can_write = false WHERE department_code = 'CA-110105'`);
      gateway.authenticator.invalidate();
    }
  });
});

describe('data disputes', () => {
  it('routes a dispute to the owning department, which resolves it', async () => {
    const p = person({ name: '异议人' });
    await importRows('persons', [p], 'MPS');
    const id0 = String((await storedPerson(db, p.id_number!))!.id);
    const raise = `mutation($key: String, $rid: ID) { raiseDispute(target: PERSON, key: $key, recordId: $rid, field: "name", reason: "姓名有误：应为异义人") {
      id status ownerDept raisedByDept field } }`;
    // Civil affairs reads ID numbers masked only: it names the person by id, not by ID number.
    const byIdNumber = await gql(gateway, raise, { key: p.id_number }, asKey(CA));
    expect(byIdNumber.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FILTER');
    const raised = await gql(gateway, raise, { rid: id0 }, asKey(CA));
    expect(raised.errors).toBeUndefined();
    expect(raised.data!.raiseDispute).toMatchObject({
      status: 'OPEN',
      ownerDept: 'MPS',
      raisedByDept: 'CA-110105',
      field: 'name',
    });
    const id = raised.data!.raiseDispute.id;

    const list = `query($role: DisputeRole!) { disputes(role: $role, status: OPEN) { edges { node { id reason } } } }`;
    const routed = await gql(gateway, list, { role: 'ROUTED' }, asKey(MPS));
    expect(routed.data!.disputes.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id);
    const mine = await gql(gateway, list, { role: 'RAISED' }, asKey(CA));
    expect(mine.data!.disputes.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id);
    expect((await gql(gateway, list, { role: 'ROUTED' }, asKey(CA))).data!.disputes.edges).toEqual([]);

    const resolve = `mutation($id: ID!, $batch: String) { resolveDispute(id: $id, status: ACCEPTED, resolution: "已核实更正", correctionBatch: $batch) {
      status resolvedByDept resolution correctionBatch } }`;
    const byRaiser = await gql(gateway, resolve, { id }, asKey(CA));
    expect(byRaiser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const fix = await gql(
      gateway,
      CORRECT_PERSON,
      { id: p.id_number, changes: { name: '异义人' }, reason: `异议 ${id}` },
      asKey(MPS, MPS_PURPOSE),
    );
    const done = await gql(gateway, resolve, { id, batch: fix.data!.correctPerson.batchId }, asKey(MPS));
    expect(done.errors).toBeUndefined();
    expect(done.data!.resolveDispute).toEqual({
      status: 'ACCEPTED',
      resolvedByDept: 'MPS',
      resolution: '已核实更正',
      correctionBatch: fix.data!.correctPerson.batchId,
    });
    const twice = await gql(gateway, resolve, { id }, asKey(MPS));
    expect(twice.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
  });
});

describe('a dispute on an entity', () => {
  it('is routed to market regulation, and a provincial bureau of that line resolves it in its province', async () => {
    const e = entity({ name: '深圳市异议测试有限公司' });
    await importRows('entities', [e], 'SAMR-440000', ENTITY_HEADER);
    const raised = await gql(
      gateway,
      `mutation($k: String!) { raiseDispute(target: ENTITY, key: $k, field: "address", reason: "住所已迁移") { id ownerDept status } }`,
      { k: e.uscc },
      asKey(MPS),
    );
    expect(raised.data!.raiseDispute).toMatchObject({ ownerDept: 'SAMR', status: 'OPEN' });
    const id = raised.data!.raiseDispute.id;
    const routed = await gql(
      gateway,
      `{ disputes(role: ROUTED) { edges { node { id field reason raisedByDept } } } }`,
      {},
      asKey(SAMR),
    );
    expect(routed.data!.disputes.edges.map((x: { node: unknown }) => x.node)).toContainEqual({
      id,
      field: 'address',
      reason: '住所已迁移',
      raisedByDept: 'MPS',
    });
    // Chaoyang civil affairs is another line of business: not routed to it, and it may not resolve it.
    const ca = await gql(gateway, `{ disputes(role: ROUTED) { edges { node { id } } } }`, {}, asKey(CA));
    expect(ca.data!.disputes.edges.map((x: { node: { id: string } }) => x.node.id)).not.toContain(id);
    const resolve = `mutation($id: ID!) { resolveDispute(id: $id, status: REJECTED, resolution: "经核实住所未变更") {
      status resolvedByDept } }`;
    expect((await gql(gateway, resolve, { id }, asKey(CA))).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const done = await gql(gateway, resolve, { id }, asKey(SAMR));
    expect(done.data!.resolveDispute).toEqual({ status: 'REJECTED', resolvedByDept: 'SAMR-440000' });
  });
});

const PULL = `query($since: String, $r: Registry!) { changes(registry: $r, since: $since, first: 500) {
  cursor hasMore changes { eventId action recordType recordKey version divisionCode otherDivisionCode batch } } }`;

describe('the change feed of every registry', () => {
  it('pulls population changes after a cursor, by jurisdiction and grant', async () => {
    const start = (await gql(gateway, PULL, { r: 'POPULATION' }, asKey(CA))).data!.changes.cursor;
    const chaoyang = person({ name: '朝阳新人' });
    const shenzhen = person({ county: '440305', name: '深圳新人', residence_point: 'POINT(113.93 22.53)' });
    const report = await importRows('persons', [chaoyang, shenzhen], 'MPS');
    const ids = [
      await storedPerson(db, chaoyang.id_number!),
      await storedPerson(db, shenzhen.id_number!),
    ].map((p) => String(p!.id));

    const ca = await gql(gateway, PULL, { r: 'POPULATION', since: start }, asKey(CA));
    expect(ca.errors).toBeUndefined();
    const caChanges = ca.data!.changes.changes.filter((c: { batch: string }) => c.batch === report.batchId);
    expect(caChanges).toEqual([
      expect.objectContaining({
        action: 'REGISTERED',
        recordType: 'person',
        recordKey: ids[0],
        version: 1,
        divisionCode: '110105',
      }),
    ]);
    const gd = await gql(gateway, PULL, { r: 'POPULATION', since: start }, asKey(SAMR));
    expect(
      gd
        .data!.changes.changes.filter((c: { batch: string }) => c.batch === report.batchId)
        .map((c: { recordKey: string }) => c.recordKey),
    ).toEqual([ids[1]]);
    // No grant on persons: nothing; no grant on the change log at all: refused.
    const none = await gql(gateway, PULL, { r: 'POPULATION', since: start }, asKey(NO_PERSONS_KEY));
    expect(none.data!.changes.changes).toEqual([]);
    const anonymous = await gql(gateway, PULL, { r: 'POPULATION' });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    // Resuming from the cursor returns nothing new.
    const resumed = await gql(gateway, PULL, { r: 'POPULATION', since: ca.data!.changes.cursor }, asKey(CA));
    expect(resumed.data!.changes.changes).toEqual([]);
  });

  it('pushes a change to a subscriber in its jurisdiction, not to one outside it or without a grant', async () => {
    const SUB = `subscription { changed(registry: POPULATION) { action recordType recordKey divisionCode person { name } } }`;
    const listeners = changeHub(db).size;
    const chaoyang = await subscribe(gateway, SUB, {}, asKey(CA));
    const guangdong = await subscribe(gateway, SUB, {}, asKey(SAMR));
    const noGrant = await subscribe(gateway, SUB, {}, asKey(NO_PERSONS_KEY));
    await until(() => changeHub(db).size === listeners + 3); // LISTEN is active for all three

    const bj = person({ name: '推送朝阳' });
    await importRows('persons', [bj], 'MPS');
    await chaoyang.waitFor(() => chaoyang.events.length >= 1);
    expect(chaoyang.events[0]!.errors).toBeUndefined();
    expect(chaoyang.events[0]!.data!.changed).toMatchObject({
      action: 'REGISTERED',
      recordType: 'person',
      divisionCode: '110105',
      person: { name: '推送朝阳' },
    });
    // Then a Shenzhen person: Guangdong's first event is that one, so it never got the Chaoyang change.
    const sz = person({ county: '440305', name: '推送深圳', residence_point: 'POINT(113.93 22.53)' });
    await importRows('persons', [sz], 'MPS');
    await guangdong.waitFor(() => guangdong.events.length >= 1);
    expect(guangdong.events.map((e) => e.data!.changed.divisionCode)).toEqual(['440305']);
    // Let any stray delivery arrive, then check the unauthorised subscribers saw nothing else.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(noGrant.events).toEqual([]);
    expect(chaoyang.events).toHaveLength(1);
    await Promise.all([chaoyang.close(), guangdong.close(), noGrant.close()]);
    await until(() => changeHub(db).size === listeners);

    const anonymous = await subscribe(gateway, SUB, {}, {});
    await anonymous.waitFor(() => anonymous.events.length >= 1);
    expect(anonymous.events[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    await anonymous.close();
  });
  it('tells of a household whose members changed only consumers granted the members', async () => {
    // TEST-HH may read households (and the change log) but not their members; Chaoyang civil affairs may
    // read both.
    const HOUSEHOLDS_ONLY = 'gbk_testhh_households-only';
    await insertDepartment(db, {
      code: 'TEST-HH',
      name: '户籍只读部门',
      key: HOUSEHOLDS_ONLY,
      grants: { 'governance.change_log': 2, 'population.households': 2 },
    });
    const start = (await gql(gateway, PULL, { r: 'POPULATION' }, asKey(CA))).data!.changes.cursor;
    const head = person({ name: '成员户主' });
    await importRows('persons', [head], 'MPS');
    const number = 'H110105990001';
    await importRows(
      'households',
      [
        {
          household_number: number,
          type: 'family',
          division_code: '110105',
          address: '朝阳区成员路1号',
          head_id_number: head.id_number,
        },
      ],
      'MPS',
      ['household_number', 'type', 'division_code', 'address', 'head_id_number'],
    );
    const joined = await importRows('persons', [{ ...head, household_number: number }], 'MPS');
    expect(joined).toMatchObject({ changed: 1 });
    const [h] = await db.query<{ id: string }>(
      `SELECT id::text FROM households WHERE household_number = $1`,
      [number],
    );
    const membersChanged = async (key: string) =>
      (await gql(gateway, PULL, { r: 'POPULATION', since: start }, asKey(key))).data!.changes.changes.filter(
        (c: { recordKey: string; recordType: string }) =>
          c.recordType === 'household' && c.recordKey === h!.id,
      );
    expect((await membersChanged(CA)).map((c: { action: string }) => c.action)).toEqual([
      'REGISTERED',
      'MEMBERS_CHANGED',
    ]);
    expect((await membersChanged(HOUSEHOLDS_ONLY)).map((c: { action: string }) => c.action)).toEqual([
      'REGISTERED',
    ]);
  });
});
