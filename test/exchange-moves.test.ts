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

/**
 * A move out of a county reaches the county it left: the change log records the divisions before the
 * change (migration 0016), the feed and the subscription find the event in the old county as well as in
 * the new one, and the old county learns that the person left (record key, action, version) but not where
 * to: divisions outside its jurisdiction are null and the person link resolves to null.
 */

const CHAOYANG = DEMO_PRINCIPALS.countyCivilAffairs.key; // 110105
const HAIDIAN = 'gbk_mvhaid_haidian-county'; // 110108
const FENGTAI = 'gbk_mvfeng_fengtai-county'; // 110106
const GUANGDONG = DEMO_PRINCIPALS.provincialMarketRegulation.key; // 440000

let db: TestDatabase;
let gateway: Gateway;
let dir: string;

async function county(code: string, division: string, key: string) {
  await insertDepartment(db, {
    code,
    kind: 'civil_affairs',
    adminLevel: 'county',
    jurisdictionCode: division,
    key,
    grants: { 'population.persons': 3, 'governance.change_log': 2 },
  });
}

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  dir = tempDir();
  await county('CA-110108', '110108', HAIDIAN);
  await county('CA-110106', '110106', FENGTAI);
});
afterAll(async () => {
  await db?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let serial = 0;
const importRows = (rows: object[]) =>
  runImport(db, {
    registry: 'persons',
    input: { kind: 'file', path: writeCsv(dir, `move-${++serial}.csv`, rows as never) },
    sourceDept: 'MPS',
    submittedBy: 'test',
  });

const FIELDS = `eventId action recordKey version divisionCode otherDivisionCode previousDivisionCode
  previousOtherDivisionCode leftJurisdiction changedFields batch person { name residenceDivisionCode }`;
const PULL = `query($since: String) { changes(registry: POPULATION, since: $since, first: 500) {
  cursor changes { ${FIELDS} } } }`;
const SUB = `subscription($since: String) { changed(registry: POPULATION, since: $since) { ${FIELDS} } }`;

interface Change {
  action: string;
  recordKey: string;
  version: number;
  divisionCode: string | null;
  otherDivisionCode: string | null;
  previousDivisionCode: string | null;
  previousOtherDivisionCode: string | null;
  leftJurisdiction: boolean;
  changedFields: string[];
  batch: string;
  person: { name: string; residenceDivisionCode: string } | null;
}

async function pull(key: string, since: string | null) {
  const response = await gql(gateway, PULL, { since }, asKey(key));
  expect(response.errors).toBeUndefined();
  return response.data!.changes as { cursor: string; changes: Change[] };
}

describe('a record moving out of a jurisdiction', () => {
  it('reaches the county it left (that it left, not where to), the county it reached, and no other', async () => {
    const p = person({ name: '迁出人', county: '110105' });
    await importRows([p]);
    const id = String((await storedPerson(db, p.id_number!))!.id);
    const start = {
      chaoyang: (await pull(CHAOYANG, null)).cursor,
      haidian: (await pull(HAIDIAN, null)).cursor,
      fengtai: (await pull(FENGTAI, null)).cursor,
    };
    const listeners = changeHub(db).size;
    const subs = {
      chaoyang: await subscribe(gateway, SUB, { since: start.chaoyang }, asKey(CHAOYANG)),
      haidian: await subscribe(gateway, SUB, { since: start.haidian }, asKey(HAIDIAN)),
      fengtai: await subscribe(gateway, SUB, { since: start.fengtai }, asKey(FENGTAI)),
    };
    await until(() => changeHub(db).size === listeners + 3);

    // Household registration and residence both move to Haidian (public security, the authority).
    const move = await importRows([
      {
        ...p,
        hukou_division_code: '110108',
        hukou_address: '北京市海淀区新址路8号',
        residence_division_code: '110108',
        residence_address: '北京市海淀区新址路8号3单元',
        residence_point: 'POINT(116.30 39.99)',
      },
    ]);
    expect(move).toMatchObject({ changed: 1, rejected: 0 });

    const ofMove = (changes: Change[]) => changes.filter((c) => c.batch === move.batchId);
    // Chaoyang: both events of the move (household registration updated, residence moved), each saying the
    // person left, with the record key and version, its own former division and nothing of the new one.
    const chaoyang = ofMove((await pull(CHAOYANG, start.chaoyang)).changes);
    expect(chaoyang.map((c) => c.action).sort()).toEqual(['MOVED', 'UPDATED']);
    for (const c of chaoyang) {
      expect(c).toMatchObject({
        recordKey: id,
        version: 2,
        leftJurisdiction: true,
        divisionCode: null,
        otherDivisionCode: null,
        previousDivisionCode: '110105',
        previousOtherDivisionCode: '110105',
        person: null,
      });
    }
    expect(chaoyang.find((c) => c.action === 'MOVED')!.changedFields).toEqual([
      'residenceAddress',
      'residenceDivisionCode',
      'residencePoint',
    ]);

    // Haidian: the same events, the person now in its jurisdiction; the former county is not its to see.
    const haidian = ofMove((await pull(HAIDIAN, start.haidian)).changes);
    expect(haidian.map((c) => c.action).sort()).toEqual(['MOVED', 'UPDATED']);
    for (const c of haidian) {
      expect(c).toMatchObject({
        recordKey: id,
        version: 2,
        leftJurisdiction: false,
        divisionCode: '110108',
        otherDivisionCode: '110108',
        previousDivisionCode: null,
        previousOtherDivisionCode: null,
        person: { name: '迁出人', residenceDivisionCode: '110108' },
      });
    }

    // Fengtai: nothing (not even the registration in Chaoyang before).
    expect((await pull(FENGTAI, start.fengtai)).changes).toEqual([]);

    // The same through the subscriptions.
    await subs.chaoyang.waitFor(() => ofMove(subs.chaoyang.events.map((e) => e.data!.changed)).length >= 2);
    await subs.haidian.waitFor(() => ofMove(subs.haidian.events.map((e) => e.data!.changed)).length >= 2);
    const pushed = (s: typeof subs.chaoyang) => ofMove(s.events.map((e) => e.data!.changed as Change));
    expect(
      pushed(subs.chaoyang).map((c) => [c.action, c.leftJurisdiction, c.divisionCode, c.person]),
    ).toEqual(
      expect.arrayContaining([
        ['MOVED', true, null, null],
        ['UPDATED', true, null, null],
      ]),
    );
    expect(pushed(subs.haidian).every((c) => !c.leftJurisdiction && c.divisionCode === '110108')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subs.fengtai.events).toEqual([]);
    await Promise.all(Object.values(subs).map((s) => s.close()));
    await until(() => changeHub(db).size === listeners);
  });

  it('a move within the county is no move out, and the log keeps the former division', async () => {
    const p = person({ name: '区内人', county: '110105' });
    await importRows([p]);
    const start = (await pull(CHAOYANG, null)).cursor;
    // Residence moves to Haidian; the household registration stays in Chaoyang: Chaoyang keeps the person.
    const move = await importRows([
      { ...p, residence_division_code: '110108', residence_point: 'POINT(116.30 39.99)' },
    ]);
    const [c] = (await pull(CHAOYANG, start)).changes.filter((x) => x.batch === move.batchId);
    expect(c).toMatchObject({
      action: 'MOVED',
      leftJurisdiction: false,
      divisionCode: '110105',
      otherDivisionCode: null, // Haidian: not Chaoyang's to see
      previousOtherDivisionCode: '110105',
      person: { name: '区内人' },
    });
    const [logged] = await db.query<{ previous: string | null; previousOther: string | null }>(
      `SELECT previous_division_code AS previous, previous_other_division_code AS "previousOther"
         FROM change_log WHERE batch = $1`,
      [move.batchId],
    );
    expect(logged).toEqual({ previous: null, previousOther: '110105' });
  });

  it('an entity moving out of a province reaches that province through entityChanges, without where to', async () => {
    const e = entity({ name: '迁址测试有限公司', status_date: '2016-05-01' });
    const importEntity = (row: object) =>
      runImport(db, {
        registry: 'entities',
        input: { kind: 'file', path: writeCsv(dir, `entity-${++serial}.csv`, [row as never], ENTITY_HEADER) },
        sourceDept: 'SAMR',
        submittedBy: 'test',
      });
    expect(await importEntity(e)).toMatchObject({ inserted: 1, rejected: 0 });
    const PAGE = `query($after: String) { entityChanges(after: $after, first: 100) { pageInfo { endCursor }
      edges { node { action uscc version divisionCode previousDivisionCode leftJurisdiction batch entity { name } } } } }`;
    const page = async (key: string, after: string | null) => {
      const r = await gql(gateway, PAGE, { after }, asKey(key));
      expect(r.errors).toBeUndefined();
      return r.data!.entityChanges;
    };
    const start = {
      guangdong: (await page(GUANGDONG, null)).pageInfo.endCursor,
      chaoyang: (await page(CHAOYANG, null)).pageInfo.endCursor,
    };
    const move = await importEntity({
      ...e,
      division_code: '110105',
      address: '北京市朝阳区迁址路1号',
      point: 'POINT(116.45 39.92)',
    });
    expect(move).toMatchObject({ changed: 1, rejected: 0 });
    const ofMove = (p: { edges: { node: { batch: string } }[] }) =>
      p.edges.map((x) => x.node).filter((n) => n.batch === move.batchId);
    expect(ofMove(await page(GUANGDONG, start.guangdong))).toEqual([
      {
        action: 'UPDATED',
        uscc: e.uscc,
        version: 2,
        divisionCode: null,
        previousDivisionCode: '440305',
        leftJurisdiction: true,
        batch: move.batchId,
        entity: null,
      },
    ]);
    expect(ofMove(await page(CHAOYANG, start.chaoyang))).toEqual([
      {
        action: 'UPDATED',
        uscc: e.uscc,
        version: 2,
        divisionCode: '110105',
        previousDivisionCode: null,
        leftJurisdiction: false,
        batch: move.batchId,
        entity: { name: '迁址测试有限公司' },
      },
    ]);
  });
});
