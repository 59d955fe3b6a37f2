import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDemoAccess } from '../src/access/demo.ts';
import { codecFor } from '../src/crypto/at-rest.ts';
import { csvField } from '../src/db/index.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { type StagedRow, storageFor } from '../src/ingest/import/storage-row.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { person, storedPerson, tempDir, writeCsv } from './import-fixtures.ts';

/**
 * Bulk imports seal (SM4, blind indexes) and write COPY text on worker threads (src/crypto/seal-pool.ts):
 * what they produce must be what the calling thread produces, value for value, and an import large enough
 * to use them must store what it was given.
 */

const COLUMNS = [
  'id_number',
  'id_number_bidx',
  'name',
  'phone',
  'phone_bidx',
  'hukou_address',
  'hukou_address_bidx',
];

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await installDemoAccess(db);
}, 600_000);

afterAll(async () => {
  await db?.dispose();
});

/** Parses COPY text (FORMAT csv) into rows of fields: null for an unquoted empty field, as COPY reads it. */
function fields(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let at = 0;
  while (at < text.length) {
    let value: string | null;
    if (text[at] === '"') {
      let end = at + 1;
      value = '';
      for (;;) {
        const quote = text.indexOf('"', end);
        value += text.slice(end, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          end = quote + 2;
        } else {
          at = quote + 1;
          break;
        }
      }
    } else {
      let end = at;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      value = end === at ? null : text.slice(at, end);
      at = end;
    }
    row.push(value);
    if (text[at] === ',') at++;
    else {
      rows.push(row);
      row = [];
      at++;
    }
  }
  return rows;
}

/** The COPY text of a batch, whether a worker wrote it (UTF-8 bytes) or this thread (a string). */
const textOf = (copy: string | Uint8Array) =>
  typeof copy === 'string' ? copy : Buffer.from(copy).toString('utf8');

describe('seal workers', () => {
  it('write the same COPY text as the calling thread: ciphertexts open to the same values, same blind indexes', async () => {
    const storage = await storageFor(db);
    const codec = codecFor(db);
    const awkward = ['a,b', 'say "hi"', 'two\nlines', '', '   ', null, '北京市朝阳区', 'x'.repeat(300)];
    const make = (): StagedRow[] =>
      Array.from({ length: 600 }, (_, i) => ({
        id_number: `11010519491231${String(i % 1000).padStart(3, '0')}X`,
        name: awkward[i % awkward.length]!,
        phone: i % 3 === 0 ? null : `139${String(i).padStart(8, '0')}`,
        hukou_address: awkward[(i + 3) % awkward.length]!,
      }));
    const heads = Array.from({ length: 600 }, (_, i) => `${i + 1},7`);
    try {
      const pooled = fields(textOf(await storage.copyText('persons', COLUMNS, heads, make())));
      const own = make();
      let local = '';
      for (let i = 0; i < own.length; i++) {
        const stored = storage.row('persons', own[i]!);
        local += `${heads[i]},${COLUMNS.map((c) => csvField(stored[c])).join(',')}\n`;
      }
      const expected = fields(local);
      expect(pooled).toHaveLength(600);
      const open = (v: string | null) => codec.decodeValue(v);
      for (let i = 0; i < 600; i++) {
        const [got, want] = [pooled[i]!, expected[i]!];
        expect(got.slice(0, 2)).toEqual(want.slice(0, 2));
        // Fresh IVs: ciphertexts differ, their clear values do not; blind indexes and clear columns are equal.
        for (const at of [2, 5, 7]) expect(open(got[at]!)).toBe(open(want[at]!));
        for (const at of [3, 4, 6, 8]) expect(got[at]).toBe(want[at]);
      }
      // A value holding a separator of the batch encoding is written on the calling thread, just as well.
      const odd = make();
      odd[5]!.name = 'a\u0000b';
      const text = fields(textOf(await storage.copyText('persons', COLUMNS, heads, odd)));
      expect(text[5]![4]).toBe('a\u0000b');
    } finally {
      await storage.close();
    }
  });

  it('an import of a few thousand persons stores exactly what the file held', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 3000 }, (_, i) =>
      person({ name: `人${i}`, phone: `139${String(i).padStart(8, '0')}` }),
    );
    const file = writeCsv(dir, 'many.csv', rows);
    const report = await runImport(db, {
      registry: 'persons',
      input: { kind: 'file', path: file },
      sourceDept: 'MPS',
      submittedBy: 'test',
    });
    expect(report).toMatchObject({ rejected: 0, inserted: 3000 });
    for (const i of [0, 1234, 2999]) {
      const stored = await storedPerson(db, rows[i]!.id_number!);
      expect(stored).toMatchObject({ name: rows[i]!.name, phone: rows[i]!.phone });
    }
  });
});
