import { describe, expect, it } from 'vitest';
import type { TestDatabase } from '../src/testing/database.ts';
import {
  countRows,
  PERSON_HEADER,
  person,
  personsImportSuite,
  readRejects,
  storedPerson,
  writeCsv,
} from './import-fixtures.ts';

let db: TestDatabase;
let dir: string;
const importFile = personsImportSuite(['110105-H-0001'], (opened, folder) => {
  db = opened;
  dir = folder;
});

describe('a persons CSV with good and bad rows', () => {
  it('merges the good rows and writes each defect, with row and field, to the rejects file', async () => {
    const existing = person({ name: '旧居民' });
    const unchanged = person({ name: '不变者' });
    const seeded = await importFile(writeCsv(dir, 'seed.csv', [existing, unchanged]));
    expect(seeded).toMatchObject({ status: 'merged', inserted: 2, rejected: 0 });

    const good = [
      person({ name: '新甲' }),
      person({ name: '新乙', household_number: '110105-H-0001', household_relation: '20' }),
    ];
    const moved = {
      ...existing,
      residence_division_code: '110108',
      residence_point: 'SRID=4326;POINT(116.3 39.96)',
    };
    const dupOf = person({ name: '重复' });
    const badCheck = person();
    badCheck.id_number = `${badCheck.id_number!.slice(0, 17)}${badCheck.id_number!.endsWith('0') ? '1' : '0'}`;
    const rows: (ReturnType<typeof person> | string)[] = [
      good[0]!, // 2
      moved, // 3
      badCheck, // 4: check digit
      person({ birth_date: '1985-03-04', name: '错生日' }), // 5: replaced below (birth date mismatch)
      person({ name: '' }), // 6: required
      person({ ethnicity: '99' }), // 7: not in code list
      person({ hukou_division_code: '1101' }), // 8: not a division code
      person({ residence_division_code: '110199' }), // 9: no such division (SQL)
      person({ residence_point: 'POINT(12958175 4825923)' }), // 10: projected coordinates
      person({ residence_point: 'POINT(39.9 116.4)' }), // 11: latitude first
      person({ residence_point: 'SRID=3857;POINT(116.4 39.9)' }), // 12: unsupported CRS
      person({ phone: '12345' }), // 13: phone
      person({ status: 'deceased' }), // 14: deceased without a date
      dupOf, // 15
      { ...dupOf, name: '重复二' }, // 16: duplicate of 15
      person({ household_number: '110105-H-9999' }), // 17: no such household
      '110105198501010011,太短', // 18: wrong field count
      unchanged, // 19: unchanged
      good[1]!, // 20
      person({ gender: '1', female: true }), // 21: gender differs from the ID number
      person({ residence_point: 'POINT(2.35 48.85)' }), // 22: outside China
    ];
    // Row 5: an ID number born on 1985-03-04 but a birth date of the day after.
    (rows[3] as ReturnType<typeof person>).birth_date = '1985-03-05';
    const path = writeCsv(dir, 'mixed.csv', rows);
    const report = await importFile(path);
    expect(report).toMatchObject({
      status: 'merged',
      totalRows: 21,
      accepted: 5,
      rejected: 16,
      inserted: 3,
      changed: 1,
      unchanged: 1,
    });
    expect(readRejects(path)).toEqual([
      'row,field,reason',
      '4,id_number,is not a valid citizen ID number: check digit is wrong',
      '5,birth_date,differs from the birth date in the ID number',
      '6,name,is required',
      '7,ethnicity,is not a code of the ethnicity code list',
      '8,hukou_division_code,"is not a GB/T 2260 division code (division code must be 6, 9 or 12 digits, got ""1101"")"',
      '9,residence_division_code,names no division of GB/T 2260',
      '10,residence_point,"coordinates (12958175, 4825923) are not longitude/latitude: projected coordinates, or the wrong CRS"',
      '11,residence_point,"coordinates (39.9, 116.4) are latitude, longitude: GeoJSON and WKT put longitude first"',
      '12,residence_point,has CRS EPSG:3857; only EPSG:4490 or EPSG:4326 is accepted',
      '13,phone,is not a mobile (11 digits from 13–19) or landline number',
      '14,death_date,is required for a deceased person',
      '16,id_number,repeats the record of row 15',
      '17,household_number,names no registered household',
      '18,*,row has 2 fields; the header has 15',
      '21,gender,differs from the gender digit of the ID number',
      '22,residence_point,"coordinates (2.35, 48.85) lie outside China: a wrong coordinate or the wrong CRS"',
    ]);
    // Good rows merged: new persons, the move (a new version), the unchanged row untouched.
    expect(await storedPerson(db, good[0]!.id_number!)).toMatchObject({
      name: '新甲',
      version: 1,
      sourceDept: 'MPS',
    });
    const member = await storedPerson(db, good[1]!.id_number!);
    const [household] = await db.query<{ id: number }>(
      `SELECT household_id AS id FROM persons WHERE id = $1`,
      [member!.id],
    );
    expect(household!.id).not.toBeNull();
    expect(await storedPerson(db, existing.id_number!)).toMatchObject({
      residenceDivisionCode: '110108',
      version: 2,
      sourceBatch: report.batchId,
    });
    expect(await storedPerson(db, unchanged.id_number!)).toMatchObject({
      version: 1,
      sourceBatch: seeded.batchId,
    });
    // Of two rows with one key, the first is taken.
    expect(await storedPerson(db, dupOf.id_number!)).toMatchObject({ name: '重复' });
    // Lineage: the row of the batch that produced each version.
    const lineage = await db.query<{ row: number; action: string; version: number }>(
      `SELECT row_no AS row, action, version FROM import_lineage WHERE batch_id = $1 AND record_type = 'person' ORDER BY row_no`,
      [report.batchId],
    );
    expect(lineage.map((l) => [l.row, l.action, l.version])).toEqual([
      [2, 'inserted', 1],
      [3, 'updated', 2],
      [15, 'inserted', 1],
      [20, 'inserted', 1],
    ]);
    // The change log: three registrations and one move, from this batch, and the household 新乙 joined
    // (in no particular order: new records written directly come before the staged rows' merge).
    const log = await db.query<{ action: string; fields: string[] | null }>(
      `SELECT action, changed_fields AS fields FROM change_log WHERE batch = $1 ORDER BY action, seq`,
      [report.batchId],
    );
    expect(log.map((l) => [l.action, l.fields])).toEqual([
      ['members_changed', ['members']],
      ['moved', ['residence_division_code', 'residence_point']],
      ['registered', null],
      ['registered', null],
      ['registered', null],
    ]);
    expect(await countRows(db, 'import_rejects', 'batch_id = $1', [report.batchId])).toBe(16);
  });

  it('reports every row unchanged when the same file comes again, and writes nothing', async () => {
    const rows = [person({ name: '两次甲' }), person({ name: '两次乙' })];
    const path = writeCsv(dir, 'twice.csv', rows);
    const first = await importFile(path);
    expect(first).toMatchObject({ status: 'merged', inserted: 2 });
    const logBefore = await countRows(db, 'change_log');
    const versions = await countRows(db, 'persons_history');
    const second = await importFile(path);
    expect(second).toMatchObject({
      status: 'already_merged',
      batchId: first.batchId,
      accepted: 2,
      inserted: 0,
      changed: 0,
      unchanged: 2,
    });
    // A copy of the delivery under another name and with another batch id: the merge itself finds nothing.
    const copy = writeCsv(dir, 'twice-again.csv', [...rows].reverse());
    const third = await importFile(copy);
    expect(third).toMatchObject({ status: 'merged', inserted: 0, changed: 0, unchanged: 2 });
    expect(third.batchId).not.toBe(first.batchId);
    expect(await countRows(db, 'change_log')).toBe(logBefore);
    expect(await countRows(db, 'persons_history')).toBe(versions);
  });

  it('refuses a lower-authority change of an authoritative field, and writes outside the jurisdiction', async () => {
    const p = person({ name: '权威者' });
    const far = person({ county: '440305', name: '深圳人', residence_point: 'POINT(113.93 22.53)' });
    await importFile(writeCsv(dir, 'authority-seed.csv', [p, far]));
    // Civil affairs of Chaoyang (CA-110105) may update a residence, not a name; and only in its county.
    const header = ['id_number', 'name', 'residence_address'];
    const path = writeCsv(
      dir,
      'authority.csv',
      [
        { id_number: p.id_number, name: '改名者', residence_address: '北京市朝阳区新址9号' },
        { id_number: p.id_number, name: p.name, residence_address: '北京市朝阳区新址9号' },
        { id_number: far.id_number, name: far.name, residence_address: '深圳市南山区' },
      ] as never,
      header,
    );
    const report = await importFile(path, 'CA-110105');
    expect(readRejects(path)).toEqual([
      'row,field,reason',
      '2,name,"may be changed only by a public_security department, its authoritative source (CA-110105 is civil_affairs)"',
      '3,id_number,repeats the record of row 2',
      '4,hukou_division_code,lies outside the jurisdiction of CA-110105 (110105)',
    ]);
    expect(report).toMatchObject({ accepted: 0, rejected: 3, changed: 0 });

    const ok = writeCsv(
      dir,
      'authority-ok.csv',
      [{ id_number: p.id_number, residence_address: '北京市朝阳区新址9号' }] as never,
      ['id_number', 'residence_address'],
    );
    expect(await importFile(ok, 'CA-110105')).toMatchObject({ accepted: 1, changed: 1 });
    expect(await storedPerson(db, p.id_number!)).toMatchObject({
      name: '权威者',
      version: 2,
      sourceDept: 'CA-110105',
    });
  });

  it('validates and counts in a dry run, and writes nothing', async () => {
    const path = writeCsv(dir, 'dry.csv', [person({ name: '试运行' }), person({ phone: 'x' })]);
    const before = await countRows(db, 'persons');
    const report = await importFile(path, 'MPS', { dryRun: true });
    expect(report).toMatchObject({ status: 'dry_run', inserted: 1, rejected: 1 });
    expect(await countRows(db, 'persons')).toBe(before);
    expect(readRejects(path)).toHaveLength(2);
    // The real run afterwards merges.
    expect(await importFile(path)).toMatchObject({ status: 'merged', inserted: 1 });
  });

  it('refuses a file whose header names an unknown column', async () => {
    const path = writeCsv(dir, 'unknown.csv', [], [...PERSON_HEADER, 'shoe_size']);
    await expect(importFile(path)).rejects.toThrow(/unknown column shoe_size/);
  });
});
