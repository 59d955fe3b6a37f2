import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDemoAccess } from '../src/access/demo.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { person, readRejects, storedPerson, tempDir, writeCsv } from './import-fixtures.ts';

/**
 * Households through the same import pipeline (registry `households`): validated rows, the head named by
 * ID number and resolved to a living person, merged by household number, the change log written by the
 * table's trigger, authority of public security over household registration.
 */

const HEADER = ['household_number', 'type', 'division_code', 'address', 'head_id_number'] as const;

let db: TestDatabase;
let dir: string;
const head = person({ name: '户主' });
const dead = person({ name: '已故户主', status: 'deceased', death_date: '2020-02-02' });

beforeAll(async () => {
  db = await testDatabase();
  await installDemoAccess(db);
  dir = tempDir();
  await run(writeCsv(dir, 'heads.csv', [head, dead]), 'MPS');
});
afterAll(async () => {
  await db?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(path: string, source: string, registry = 'persons') {
  return runImport(db, {
    registry,
    input: { kind: 'file', path },
    sourceDept: source,
    submittedBy: 'test',
  });
}

const line = (values: Partial<Record<(typeof HEADER)[number], string>>) =>
  ({
    household_number: 'H110105000001',
    type: 'family',
    division_code: '110105',
    address: '北京市朝阳区户籍路1号',
    head_id_number: head.id_number,
    ...values,
  }) as never;

describe('a households CSV', () => {
  it('merges good rows and refuses each kind of defect', async () => {
    const path = writeCsv(
      dir,
      'households.csv',
      [
        line({}), // 2: good
        line({ household_number: 'H110105000002', type: 'collective', head_id_number: '' }), // 3: good, no head
        line({ household_number: 'H110105000003', type: 'clan' }), // 4
        line({ household_number: 'H110105000004', division_code: '110199' }), // 5
        line({ household_number: 'H110105000005', head_id_number: dead.id_number }), // 6
        line({ household_number: 'H110105000006', head_id_number: person().id_number }), // 7: not registered
        line({ household_number: 'H110105000007', head_id_number: '110105194912310021' }), // 8: check digit
        line({ household_number: 'H110105000008', type: '' }), // 9: type is required
        line({}), // 10: duplicate of row 2
      ],
      HEADER,
    );
    const report = await run(path, 'MPS', 'households');
    const rejects = readRejects(path);
    expect(rejects[0]).toBe('row,field,reason');
    expect(rejects.slice(1).map((r) => r.split(',').slice(0, 2).join(','))).toEqual([
      '4,type',
      '5,division_code',
      '6,head_id_number',
      '7,head_id_number',
      '8,head_id_number',
      '9,type',
      '10,household_number',
    ]);
    expect(rejects.find((r) => r.startsWith('6,'))).toContain('names a deceased person');
    expect(rejects.find((r) => r.startsWith('7,'))).toContain('names no person of the population registry');
    expect(report).toMatchObject({ accepted: 2, inserted: 2, rejected: 7 });

    const stored = await db.query<{ number: string; type: string; head: number | null; batch: string }>(
      `SELECT household_number AS number, type, head_person_id AS head, source_batch AS batch
         FROM households WHERE household_number LIKE 'H1101050000%' ORDER BY household_number`,
    );
    const headId = (await storedPerson(db, head.id_number!))!.id;
    expect(stored).toEqual([
      { number: 'H110105000001', type: 'family', head: headId, batch: report.batchId },
      { number: 'H110105000002', type: 'collective', head: null, batch: report.batchId },
    ]);
    // The staging never held the head's ID number in clear, and lineage and the change log name the rows.
    const lineage = await db.query<{ row: number; action: string }>(
      `SELECT row_no AS row, action FROM import_lineage WHERE batch_id = $1 ORDER BY row_no`,
      [report.batchId],
    );
    expect(lineage).toEqual([
      { row: 2, action: 'inserted' },
      { row: 3, action: 'inserted' },
    ]);
    const [{ n }] = (await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM change_log WHERE record_type = 'household' AND batch = $1 AND action = 'registered'`,
      [report.batchId],
    )) as [{ n: number }];
    expect(n).toBe(2);

    // The same file again: nothing to do.
    expect(await run(path, 'MPS', 'households')).toMatchObject({ status: 'already_merged', changed: 0 });
  });

  it('updates only real changes, logs them, and keeps household registration to public security', async () => {
    const moved = writeCsv(
      dir,
      'households-2.csv',
      [
        line({ address: '北京市朝阳区新户籍路2号' }),
        line({ household_number: 'H110105000002', type: 'collective', head_id_number: '' }),
      ],
      HEADER,
    );
    const report = await run(moved, 'MPS', 'households');
    expect(report).toMatchObject({ changed: 1, unchanged: 1, inserted: 0 });
    const log = await db.query<{ action: string; fields: string[] }>(
      `SELECT action, changed_fields AS fields FROM change_log WHERE record_type = 'household' AND batch = $1`,
      [report.batchId],
    );
    expect(log).toEqual([{ action: 'updated', fields: ['address'] }]);
    // The previous version is kept, with the time it was current; the household is at version 2.
    const versions = await db.query<{ version: number; batch: string; current: boolean; closed: boolean }>(
      `SELECT version, source_batch AS batch, true AS current, false AS closed
         FROM households WHERE household_number = 'H110105000001'
       UNION ALL
       SELECT version, source_batch, false, superseded_at >= valid_from
         FROM households_history WHERE household_number = 'H110105000001'
       ORDER BY version`,
    );
    expect(versions).toEqual([
      { version: 1, batch: expect.not.stringMatching(report.batchId), current: false, closed: true },
      { version: 2, batch: report.batchId, current: true, closed: false },
    ]);
    const [logged] = await db.query<{ version: number }>(
      `SELECT version FROM change_log WHERE record_type = 'household' AND batch = $1`,
      [report.batchId],
    );
    expect(logged!.version).toBe(2);

    // Civil affairs (Chaoyang) may not change the registration.
    const byCivil = writeCsv(
      dir,
      'households-3.csv',
      [line({ type: 'collective', address: '北京市朝阳区新户籍路2号' })],
      HEADER,
    );
    const refused = await run(byCivil, 'CA-110105', 'households');
    expect(refused).toMatchObject({ rejected: 1, changed: 0 });
    expect(readRejects(byCivil)[1]).toMatch(/^2,type,.*public_security/);

    // A person then references the household by its number.
    const member = person({ name: '户成员', household_number: 'H110105000001', household_relation: '30' });
    expect(await run(writeCsv(dir, 'member.csv', [member]), 'MPS')).toMatchObject({ inserted: 1 });
    const [h] = await db.query<{ id: number }>(
      `SELECT id FROM households WHERE household_number = 'H110105000001'`,
    );
    const [p] = await db.query<{ household: number }>(
      `SELECT household_id AS household FROM persons WHERE id = $1`,
      [(await storedPerson(db, member.id_number!))!.id],
    );
    expect(p!.household).toBe(h!.id);
  });

  it('keeps household_members with the household a delivery gives a person', async () => {
    const memberships = async (idNumber: string) =>
      db.query<{ household: string; relation: string; current: boolean }>(
        `SELECT h.household_number AS household, m.relation, m.valid_to IS NULL AS current
           FROM household_members m JOIN households h ON h.id = m.household_id
          WHERE m.person_id = $1 ORDER BY m.id`,
        [(await storedPerson(db, idNumber))!.id],
      );
    const child = person({ name: '户成员二', household_number: 'H110105000001', household_relation: '20' });
    const joined = writeCsv(dir, 'join.csv', [
      child, // 2: joins as a son
      person({ household_number: 'H110105000001' }), // 3: joins without a relation
      person({ household_relation: '20' }), // 4: a relation without a household
      person({ household_number: 'H110105000001', household_relation: '77' }), // 5: not a GB/T 4761 code
      { ...head, household_number: 'H110105000001' }, // 6: the head joins their own household: 户主
    ]);
    const report = await run(joined, 'MPS');
    expect(report).toMatchObject({ inserted: 1, changed: 1, rejected: 3 });
    expect(readRejects(joined)).toEqual([
      'row,field,reason',
      '3,household_relation,is required when the person joins a household (GB/T 4761)',
      '4,household_relation,needs household_number: the household the relation is to',
      '5,household_relation,is not a code of the household_relation code list',
    ]);
    expect(await memberships(child.id_number!)).toEqual([
      { household: 'H110105000001', relation: '20', current: true },
    ]);
    expect(await memberships(head.id_number!)).toEqual([
      { household: 'H110105000001', relation: '02', current: true },
    ]);

    // The same rows again: nothing changes, no second membership.
    const again = writeCsv(dir, 'join-again.csv', [child, { ...head, household_number: 'H110105000001' }]);
    expect(await run(again, 'MPS')).toMatchObject({ changed: 0, unchanged: 2 });
    expect(await memberships(child.id_number!)).toHaveLength(1);

    // A move to another household closes the membership and opens one there; a new relation does the same.
    const moved = writeCsv(dir, 'move.csv', [
      { ...child, household_number: 'H110105000002', household_relation: '99' },
    ]);
    expect(await run(moved, 'MPS')).toMatchObject({ changed: 1 });
    expect(await memberships(child.id_number!)).toEqual([
      { household: 'H110105000001', relation: '20', current: false },
      { household: 'H110105000002', relation: '99', current: true },
    ]);
    const relation = writeCsv(dir, 'relation.csv', [
      { ...child, household_number: 'H110105000002', household_relation: '80' },
    ]);
    // The person record is untouched, but the delivery changed the membership: it counts as changed, has
    // its lineage, and the household's members_changed event reaches the change log.
    const relationReport = await run(relation, 'MPS');
    expect(relationReport).toMatchObject({ changed: 1, unchanged: 0 });
    expect((await memberships(child.id_number!)).map((m) => [m.relation, m.current])).toEqual([
      ['20', false],
      ['99', false],
      ['80', true],
    ]);
    const lineage = await db.query<{ row: number; action: string; relation: string }>(
      `SELECT l.row_no AS row, l.action, m.relation FROM import_lineage l
         JOIN household_members m ON m.id = l.record_id
        WHERE l.batch_id = $1 AND l.record_type = 'household_member' ORDER BY l.action`,
      [relationReport.batchId],
    );
    expect(lineage).toEqual([
      { row: 2, action: 'inserted', relation: '80' },
      { row: 2, action: 'updated', relation: '99' },
    ]);
    const logged = await db.query<{ key: string; action: string; fields: string[] }>(
      `SELECT c.record_key AS key, c.action, c.changed_fields AS fields FROM change_log c
        WHERE c.batch = $1 ORDER BY c.seq`,
      [relationReport.batchId],
    );
    const [h2] = await db.query<{ id: string }>(
      `SELECT id::text FROM households WHERE household_number = 'H110105000002'`,
    );
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.every((c) => c.key === h2!.id && c.action === 'members_changed')).toBe(true);
    expect(logged[0]!.fields).toEqual(['members']);

    // Cleared: no household, no current membership.
    const left = writeCsv(dir, 'leave.csv', [{ ...child, household_number: '', household_relation: '' }]);
    expect(await run(left, 'MPS')).toMatchObject({ changed: 1 });
    expect((await memberships(child.id_number!)).some((m) => m.current)).toBe(false);
  });
});
