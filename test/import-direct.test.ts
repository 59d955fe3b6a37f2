import { describe, expect, it } from 'vitest';
import { codecFor } from '../src/crypto/at-rest.ts';
import { ImportError, loadSource } from '../src/ingest/import/batches.ts';
import { DirectPath } from '../src/ingest/import/direct.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { personsSpec } from '../src/ingest/import/registries/persons.ts';
import type { MergeContext } from '../src/ingest/import/spec.ts';
import { type StagedRow, storageFor } from '../src/ingest/import/storage-row.ts';
import type { TestDatabase } from '../src/testing/database.ts';
import {
  countRows,
  type PersonLine,
  person,
  personsImportSuite,
  readRejects,
  storedPerson,
  until,
  writeCsv,
} from './import-fixtures.ts';

/**
 * The direct path (src/ingest/import/direct.ts): which rows of a delivery are written straight into the
 * registry and which are staged, and that a delivery gives the same result whichever way its rows go.
 */

let db: TestDatabase;
let dir: string;
const importFile = personsImportSuite(['110105-H-0900'], (opened, folder) => {
  db = opened;
  dir = folder;
});

/** A parsed row as the stage hands it over: every column of the spec, null when absent. */
function staged(line: PersonLine): StagedRow {
  const row: StagedRow = {};
  for (const column of personsSpec.columns) {
    const value = (line as Record<string, string | undefined>)[column.name];
    row[column.name] = value === undefined || value === '' ? null : value;
  }
  row.nationality ??= null;
  return row;
}

describe('routing a chunk', () => {
  it('writes directly only new, complete rows whose references Node knows, and refuses a repeat of one', async () => {
    const held = person({ name: '已登记' });
    await importFile(writeCsv(dir, 'held.csv', [held]));
    const storage = await storageFor(db);
    const ctx: MergeContext = {
      db,
      batchId: 'direct-routing',
      source: await loadSource(db, 'CA-110105'),
      storage,
      stage: 'unused_stage',
      rejects: 'unused_rejects',
    };
    const direct = (await DirectPath.open(personsSpec, ctx, db))!;
    const fresh = person({ name: '新人' });
    const lines: PersonLine[] = [
      fresh, // 2: direct
      held, // 3: the registry holds it → staged (an update)
      person({ hukou_division_code: '110199', residence_division_code: '110199' }), // 4: no such county → staged
      person({ household_number: '110105-H-0900', household_relation: '20' }), // 5: household resolved in SQL
      { ...person(), name: '' }, // 6: a new record without a name → staged (refused there)
      { ...fresh, name: '重复' }, // 7: repeats row 2, written directly → refused here
      person({ county: '110108' }), // 8: outside CA-110105's jurisdiction → staged
      person(), // 9: already refused for another field (clean false) → staged
    ];
    const rows = lines.map(staged);
    const rowNos = lines.map((_l, i) => i + 2);
    const clean = rowNos.map((n) => n !== 9);
    const refused: string[] = [];
    const routed = await direct.route(rows, rowNos, clean, (row, field, reason) =>
      refused.push(`${row},${field},${reason}`),
    );
    expect(routed.direct.map((i) => rowNos[i])).toEqual([2]);
    expect(routed.staged.map((i) => rowNos[i])).toEqual([3, 4, 5, 6, 8, 9]);
    expect(refused).toEqual(['7,id_number,repeats the record of row 2']);

    // The next chunk: a repeat of a staged row is staged too (SQL refuses it against its first row).
    const again = await direct.route([staged({ ...held, name: '再次' })], [10], [true], () => {
      throw new Error('not refused here');
    });
    expect(again).toEqual({ direct: [], staged: [0] });

    // Written: the stored form (encrypted, with blind indexes), version 1, the batch's lineage.
    const prepared = await direct.prepare([rows[0]!], [2], async (columns, heads, batch) => [
      await storage.copyText('persons', columns, heads, batch),
    ]);
    await db.transaction((tx) => direct.write(tx, prepared));
    await storage.close();
    expect(direct.inserted).toBe(1);
    expect(await storedPerson(db, fresh.id_number!)).toMatchObject({
      name: '新人',
      version: 1,
      sourceDept: 'CA-110105',
      sourceBatch: 'direct-routing',
      phone: fresh.phone,
    });
    const [lineage] = await db.query<{ row_no: number; action: string; version: number }>(
      `SELECT row_no, action, version FROM import_lineage WHERE batch_id = 'direct-routing'`,
    );
    expect(lineage).toEqual({ row_no: 2, action: 'inserted', version: 1 });
    const [stored] = await db.query<{ id_number: string; nationality: string; status: string }>(
      `SELECT id_number, nationality, status FROM persons WHERE source_batch = 'direct-routing'`,
    );
    // Sealed at rest; the insert defaults of the spec filled what the row left out.
    expect(stored?.id_number.startsWith('sm4.')).toBe(true);
    expect(stored).toMatchObject({ nationality: 'CHN', status: 'alive' });
  });
  it('keeps at most its limit of keys: later rows are staged, repeats of direct rows still refused', async () => {
    const ctx: MergeContext = {
      db,
      batchId: 'direct-limit',
      source: await loadSource(db, 'MPS'),
      storage: await storageFor(db),
      stage: 'unused_stage',
      rejects: 'unused_rejects',
    };
    const direct = (await DirectPath.open(personsSpec, ctx, db, 2))!;
    const [a, b, c] = [person(), person(), person()];
    const lines = [a, b, c, a, c];
    const refused: string[] = [];
    const routed = await direct.route(
      lines.map(staged),
      [2, 3, 4, 5, 6],
      lines.map(() => true),
      (row, field, reason) => refused.push(`${row},${field},${reason}`),
    );
    // a and b fill the limit; c is staged, and so is its repeat (SQL refuses it); a's repeat is refused here.
    expect(routed).toEqual({ direct: [0, 1], staged: [2, 4] });
    expect(refused).toEqual(['5,id_number,repeats the record of row 2']);
  });
});

describe('a delivery whose rows take both ways', () => {
  it('refuses a repeated key the same way whether its first row was written directly or staged', async () => {
    const viaDirect = person({ name: '直写' });
    const viaStage = person({ name: '暂存', household_number: '110105-H-0900', household_relation: '20' });
    const path = writeCsv(dir, 'both-ways.csv', [
      viaDirect, // 2: direct
      viaStage, // 3: staged (household)
      { ...viaDirect, name: '直写又来', household_number: '110105-H-0900', household_relation: '20' }, // 4
      { ...viaStage, name: '暂存又来', household_number: '', household_relation: '' }, // 5
      person({ name: '另一新人' }), // 6: direct
    ]);
    const report = await importFile(path);
    expect(report).toMatchObject({ status: 'merged', totalRows: 5, accepted: 3, rejected: 2, inserted: 3 });
    expect(readRejects(path)).toEqual([
      'row,field,reason',
      '4,id_number,repeats the record of row 2',
      '5,id_number,repeats the record of row 3',
    ]);
    expect(await storedPerson(db, viaDirect.id_number!)).toMatchObject({ name: '直写' });
    expect(await storedPerson(db, viaStage.id_number!)).toMatchObject({ name: '暂存' });
    const lineage = await db.query<{ row: number; action: string }>(
      `SELECT row_no AS row, action FROM import_lineage
        WHERE batch_id = $1 AND record_type = 'person' ORDER BY row_no`,
      [report.batchId],
    );
    expect(lineage).toEqual([
      { row: 2, action: 'inserted' },
      { row: 3, action: 'inserted' },
      { row: 6, action: 'inserted' },
    ]);
    // Each new record registered once in the change log.
    expect(await countRows(db, 'change_log', `batch = $1 AND action = 'registered'`, [report.batchId])).toBe(
      3,
    );
  });

  it('keeps nothing of the directly written rows when a later check fails the batch', async () => {
    const before = await countRows(db, 'persons');
    const rows = [person({ name: '回滚甲' }), person({ name: '回滚乙' })];
    const path = writeCsv(dir, 'rolled-back.csv', rows);
    await expect(
      runImport(db, {
        registry: 'persons',
        input: { kind: 'file', path },
        sourceDept: 'MPS',
        submittedBy: 'test',
        onPhase: (phase) => {
          if (phase === 'staged') throw new Error('stopped after staging');
        },
      }),
    ).rejects.toThrow('stopped after staging');
    expect(await countRows(db, 'persons')).toBe(before);
    expect(await storedPerson(db, rows[0]!.id_number!)).toBeNull();
    // The rerun writes them.
    expect(await importFile(path)).toMatchObject({ status: 'merged', inserted: 2 });
  });

  // PGlite has one connection: no other session can take a key meanwhile.
  it.skipIf(!process.env.DATABASE_URL)(
    'fails with a clear error and writes nothing when another session takes one of its keys meanwhile',
    async () => {
      const mine = person({ name: '本批' });
      const path = writeCsv(dir, 'raced.csv', [person({ name: '同批' }), mine]);
      const before = await countRows(db, 'persons');
      const stored = codecFor(db).encodeRow('persons', { id_number: mine.id_number });
      let importing: Promise<unknown> = Promise.resolve();
      let waiting = false;
      await db.transaction(async (tx) => {
        // Uncommitted: the import's probe does not see this record, its COPY waits on the key, then finds it taken.
        await tx.query(
          `INSERT INTO persons (id_number, id_number_bidx, name, gender, birth_date, hukou_division_code, source_dept)
           VALUES ($1, $2, '抢先', $3, $4, '110105', 'MPS')`,
          [stored.id_number, stored.id_number_bidx, mine.gender, mine.birth_date],
        );
        importing = importFile(path).catch((error: unknown) => error);
        const blocked = async () => {
          const [row] = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          waiting = Number(row?.n) > 0;
        };
        await until(() => {
          void blocked();
          return waiting;
        });
      });
      const error = await importing;
      expect(error).toBeInstanceOf(ImportError);
      expect((error as Error).message).toBe(
        'another session wrote a record with a key of this delivery meanwhile (persons_id_number_bidx_key): ' +
          'nothing of this batch was written; run the import again',
      );
      expect(await countRows(db, 'persons')).toBe(before + 1);
      // The rerun merges against the record that won: one new person, the other changed.
      expect(await importFile(path)).toMatchObject({ status: 'merged', inserted: 1, changed: 1 });
      expect(await storedPerson(db, mine.id_number!)).toMatchObject({ name: '本批' });
    },
  );
});
