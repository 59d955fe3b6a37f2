import { csvField, type Database } from '../../src/db/index.ts';
import { generatePopulation } from '../../src/ingest/generate/population.ts';
import { type Comparison, type Measurement, timeBulk } from './harness.ts';

const TABLES = ['households', 'persons', 'household_members', 'residences', 'vital_events'] as const;

/** Exports a table's rows as CSV chunks (untimed), so the baseline COPY loads exactly the generated rows. */
async function exportCsv(
  db: Database,
  table: string,
): Promise<{ columns: string[]; chunks: string[]; rows: number }> {
  const chunks: string[] = [];
  let columns: string[] = [];
  let last = 0;
  let count = 0;
  for (;;) {
    const page = await db.query<Record<string, unknown>>(
      `SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT 50000`,
      [last],
    );
    if (page.length === 0) break;
    if (columns.length === 0) columns = Object.keys(page[0]!);
    let chunk = '';
    for (const row of page) chunk += `${columns.map((c) => csvField(row[c])).join(',')}\n`;
    chunks.push(chunk);
    count += page.length;
    last = Number(page.at(-1)!.id);
  }
  return { columns, chunks, rows: count };
}

/**
 * The generator (values, ID numbers, points, households, events, COPY into five tables) against a bare
 * COPY of exactly the rows it produced into tables with the same columns and indexes.
 */
export async function benchGenerator(
  db: Database,
  persons: number,
  compareWithCopy: boolean,
): Promise<Comparison[]> {
  let totalRows = 0;
  const subject: Measurement = await timeBulk('generate (persons/s; all tables)', persons, async () => {
    let lastShown = 0;
    await generatePopulation(db, {
      persons,
      seed: 'bench',
      onProgress: (done, total) => {
        if (done - lastShown >= total / 10) {
          lastShown = done;
          process.stdout.write(`  generated ${done.toLocaleString()} / ${total.toLocaleString()}\r`);
        }
      },
    });
  });
  console.log(`\ngenerator: ${Math.round(subject.perSecond).toLocaleString()} persons/s`);
  if (!compareWithCopy) return [];
  let copySeconds = 0;
  for (const table of TABLES) {
    await db.exec(
      `DROP TABLE IF EXISTS bench_copy_${table}; CREATE TABLE bench_copy_${table} (LIKE ${table} INCLUDING ALL)`,
    );
    const { columns, chunks, rows } = await exportCsv(db, table);
    totalRows += rows;
    const t0 = performance.now();
    await db.copyCsv(`bench_copy_${table} (${columns.map((c) => `"${c}"`).join(', ')})`, chunks);
    copySeconds += (performance.now() - t0) / 1000;
    await db.exec(`DROP TABLE bench_copy_${table}`);
  }
  const baseline: Measurement = {
    name: `bare COPY of the same ${totalRows.toLocaleString()} rows`,
    count: persons,
    seconds: copySeconds,
    perSecond: persons / copySeconds,
  };
  return [{ suite: 'generator', subject, baseline, ratio: subject.seconds / baseline.seconds }];
}
