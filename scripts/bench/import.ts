import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildIdNumber } from '../../src/codes/index.ts';
import {
  type AtRestCodec,
  bindAtRest,
  codecFor,
  unencryptedCodecForBenchmarks,
} from '../../src/crypto/at-rest.ts';
import { csvField, type Database } from '../../src/db/index.ts';
import { type ImportPhase, runImport } from '../../src/ingest/import/pipeline.ts';
import { type StorageRows, storageFor } from '../../src/ingest/import/storage-row.ts';
import type { BenchContext } from './context.ts';
import type { Comparison, Measurement } from './harness.ts';

/**
 * The import suite: `npm run import` of N persons from one CSV file (stream, validate each row, and in one
 * transaction route each chunk: new records COPYed into persons with their lineage, the rest staged, checked
 * in SQL and merged with history; the change log from the triggers),
 * against a bare COPY of the very same file into the very same table (persons, with its indexes and
 * triggers) in the same run. The import encrypts the sensitive columns at rest (SM4 + blind indexes, as
 * it must); the same import with the benchmark's clear codec shows what the cryptography costs.
 */

const COLUMNS = [
  'id_number',
  'name',
  'gender',
  'birth_date',
  'ethnicity',
  'nationality',
  'hukou_division_code',
  'hukou_address',
  'residence_division_code',
  'residence_address',
  'residence_point',
  'marital_status',
  'education',
  'phone',
  'status',
] as const;

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛'];

/**
 * Writes N persons in the import's CSV format (untimed). Birth years 1901–1920 keep them apart from
 * the generated population, so every row is new. With `stored`, also writes the same rows in their stored
 * form (ciphertexts and blind indexes, as the import leaves them) for the second baseline.
 */
async function writeFile(
  db: Database,
  path: string,
  rows: number,
  stored?: { path: string; storage: StorageRows; columns: readonly string[] },
): Promise<void> {
  const counties = await db.query<{ code: string; name: string; x: number; y: number }>(
    `SELECT code, name, ST_X(ST_PointOnSurface(boundary)) AS x, ST_Y(ST_PointOnSurface(boundary)) AS y
       FROM divisions WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL
      ORDER BY md5(code) LIMIT 400`,
  );
  const out = createWriteStream(path, { encoding: 'utf8' });
  const storedOut = stored ? createWriteStream(stored.path, { encoding: 'utf8' }) : null;
  out.write(`${COLUMNS.join(',')}\n`);
  const epoch = Date.UTC(1901, 0, 1);
  let chunk = '';
  let storedChunk = '';
  for (let i = 0; i < rows; i++) {
    const county = counties[i % counties.length]!;
    const j = Math.floor(i / counties.length);
    const birth = new Date(epoch + (j % 7000) * 86_400_000).toISOString().slice(0, 10);
    const seq = Math.floor(j / 7000) % 1000;
    const male = seq % 2 === 1;
    const x = (Number(county.x) + ((i * 7919) % 1000) / 1e5).toFixed(5);
    const y = (Number(county.y) + ((i * 104_729) % 1000) / 1e5).toFixed(5);
    const address = `${county.name}人民路${(i % 900) + 1}号`;
    const values = [
      buildIdNumber(county.code, birth, seq),
      `${SURNAMES[i % SURNAMES.length]}${GIVEN[(i >> 3) % GIVEN.length]}${GIVEN[(i >> 7) % GIVEN.length]}`,
      male ? '1' : '2',
      birth,
      '01',
      'CHN',
      county.code,
      address,
      county.code,
      `${address}${(i % 30) + 1}室`,
      `SRID=4490;POINT(${x} ${y})`,
      '20',
      '30',
      `139${String(i % 100_000_000).padStart(8, '0')}`,
      'alive',
    ];
    chunk += `${values.map(csvField).join(',')}\n`;
    if (stored && storedOut) {
      const row = stored.storage.row('persons', Object.fromEntries(COLUMNS.map((c, k) => [c, values[k]!])));
      storedChunk += `${stored.columns.map((c) => csvField(row[c])).join(',')}\n`;
      if (storedChunk.length > 1 << 20) {
        if (!storedOut.write(storedChunk)) await once(storedOut, 'drain');
        storedChunk = '';
      }
    }
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  if (storedOut) {
    storedOut.end(storedChunk);
    await once(storedOut, 'finish');
  }
}

/** The file's data lines (the header dropped unless `header` is false), in chunks of whole lines. */
async function* dataLines(path: string, header = true): AsyncGenerator<string> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }),
  });
  let first = header;
  let chunk = '';
  for await (const line of lines) {
    if (first) {
      first = false;
      continue;
    }
    chunk += `${line}\n`;
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Every measurement starts from the same state: the dirty pages of what ran before (the generator, an
 * earlier round and its cleanup) are written now, untimed, not by the checkpoint that would otherwise fall
 * inside the next measurement.
 */
async function settle(db: Database): Promise<void> {
  await db.exec('CHECKPOINT');
}

/** Removes what a run wrote (untimed, triggers off so the history is not filled by the cleanup itself). */
async function cleanup(db: Database, where: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(`DELETE FROM persons WHERE ${where}`);
    await tx.query(`DELETE FROM change_log WHERE ${where.replace('source_batch', 'batch')}`);
  });
  await db.exec('VACUUM ANALYZE persons');
  await db.exec('VACUUM ANALYZE change_log');
}

async function bareCopy(
  db: Database,
  path: string,
  rows: number,
  columns: readonly string[] = COLUMNS,
  name = 'bare COPY of the same file into persons',
): Promise<Measurement> {
  await db.exec(`ALTER TABLE persons ALTER COLUMN source_dept SET DEFAULT 'BENCH-COPY'`);
  await settle(db);
  try {
    const start = performance.now();
    await db.copyCsv(`persons (${columns.join(', ')})`, dataLines(path, columns === COLUMNS));
    const seconds = (performance.now() - start) / 1000;
    return {
      name,
      count: rows,
      seconds,
      perSecond: rows / seconds,
    };
  } finally {
    await db.exec(`ALTER TABLE persons ALTER COLUMN source_dept DROP DEFAULT`);
    await cleanup(db, `source_dept = 'BENCH-COPY'`);
  }
}

async function timedImport(db: Database, path: string, rows: number, name: string): Promise<Measurement> {
  await settle(db);
  const marks: [ImportPhase | 'start', number][] = [['start', performance.now()]];
  const report = await runImport(db, {
    registry: 'persons',
    input: { kind: 'file', path },
    sourceDept: 'MPS',
    submittedBy: 'bench',
    rejectsPath: null,
    onPhase: (phase) => {
      marks.push([phase, performance.now()]);
    },
  });
  const seconds = (marks.at(-1)![1] - marks[0]![1]) / 1000;
  if (report.inserted !== rows) {
    throw new Error(
      `bench import: expected ${rows} new persons, got ${JSON.stringify({ ...report, rejects: report.rejects.slice(0, 5) })}`,
    );
  }
  const phases = marks
    .slice(1)
    .map(([phase, t], i) => `${phase} +${((t - marks[i]![1]) / 1000).toFixed(1)}s`)
    .join(', ');
  console.log(`  ${name}: ${seconds.toFixed(1)} s (${phases})`);
  // Undo it for the next round: the rows, their log, and the batch (so the file is new again).
  await cleanup(db, `source_batch = '${report.batchId}'`);
  await db.query(`DELETE FROM import_lineage WHERE batch_id = $1`, [report.batchId]);
  await db.query(`DELETE FROM import_batches WHERE id = $1`, [report.batchId]);
  return { name, count: rows, seconds, perSecond: rows / seconds };
}

/** `rows` persons imported from CSV against a bare COPY of the same file into the same table. */
export async function benchImport(ctx: BenchContext, rows: number): Promise<Comparison[]> {
  const { db } = ctx;
  const path = join(tmpdir(), `govbase-bench-import-${process.pid}.csv`);
  const storedPath = join(tmpdir(), `govbase-bench-import-${process.pid}.stored.csv`);
  console.log(`import: writing ${rows.toLocaleString()} persons to ${path} (and their stored form)`);
  const storage = await storageFor(db);
  const storedColumns = COLUMNS.flatMap((c) => storage.storedColumns('persons', c));
  await writeFile(db, path, rows, { path: storedPath, storage, columns: storedColumns });
  const codec: AtRestCodec = codecFor(db);
  try {
    // One round each (a million rows per round); the bare COPY first, then the imports of the same file.
    const baseline = await bareCopy(db, path, rows);
    console.log(`  bare COPY: ${baseline.seconds.toFixed(1)} s`);
    const encrypted = await timedImport(db, path, rows, 'npm run import (persons/s), encrypted at rest');
    bindAtRest(db, unencryptedCodecForBenchmarks());
    let clear: Measurement;
    try {
      clear = await timedImport(db, path, rows, 'same import, clear codec (no cryptography)');
    } finally {
      bindAtRest(db, codec);
    }
    // Last, so its million random blind-index keys do not shape the index the imports write into.
    const storedBaseline = await bareCopy(
      db,
      storedPath,
      rows,
      storedColumns,
      'bare COPY of the same rows in stored form (ciphertexts, blind indexes) into persons',
    );
    console.log(`  bare COPY of the stored form: ${storedBaseline.seconds.toFixed(1)} s`);
    const ratio = (m: Measurement) => m.seconds / m.count / (baseline.seconds / baseline.count);
    return [
      {
        suite: 'import',
        subject: encrypted,
        baseline,
        ratio: ratio(encrypted),
        note: 'aim ≤ 2 (≥ 0.5× COPY)',
      },
      {
        suite: 'import',
        subject: clear,
        baseline,
        ratio: ratio(clear),
        note: 'what the SM4 + blind indexes cost',
      },
      {
        suite: 'import',
        subject: encrypted,
        baseline: storedBaseline,
        ratio: encrypted.seconds / encrypted.count / (storedBaseline.seconds / storedBaseline.count),
        note: 'the database work an encrypted registry needs for these rows, without validation or merge',
      },
    ];
  } finally {
    rmSync(path, { force: true });
    rmSync(storedPath, { force: true });
  }
}
