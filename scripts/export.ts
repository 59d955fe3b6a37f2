/**
 * npm run export -- --dataset ID --format csv|geojson [--out DIR] [--as-of YYYY-MM-DD] [--level province,city,county]
 * npm run export -- --list
 *
 * Writes an open dataset (public level only: src/open-data/datasets.ts) and its manifest (sources, time,
 * rows, SHA-256 and SM3 of the file) to DIR (default ./exports) from the database of the environment, and
 * appends an audit record (channel export). Exit codes: 0 done, 2 bad arguments, 1 unexpected failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AuditLog } from '../src/access/audit.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';
import { GovError } from '../src/errors.ts';
import {
  exportAuditEntry,
  exportOpenDataset,
  OPEN_DATASETS,
  OPEN_FORMATS,
  type OpenFormat,
  openDatasetById,
  openParameters,
} from '../src/open-data/index.ts';

const USAGE = `usage: npm run export -- --dataset ID --format csv|geojson [--out DIR] [--as-of YYYY-MM-DD] [--level L,…]
       npm run export -- --list
datasets: ${OPEN_DATASETS.map((d) => d.id).join(', ')}`;

export interface MainOptions {
  db?: Database;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        dataset: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        'as-of': { type: 'string' },
        level: { type: 'string' },
        list: { type: 'boolean' },
      },
    }));
  } catch (e) {
    error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.list) {
    for (const d of OPEN_DATASETS) log(`${d.id.padEnd(32)} ${d.title}`);
    return 0;
  }
  const dataset = openDatasetById(String(values.dataset ?? ''));
  if (!dataset) {
    error(`--dataset '${values.dataset ?? ''}' is not an open dataset\n${USAGE}`);
    return 2;
  }
  const format = String(values.format ?? '') as OpenFormat;
  if (!OPEN_FORMATS.includes(format)) {
    error(`--format '${values.format ?? ''}' is not one of ${OPEN_FORMATS.join(', ')}\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  let parameters: ReturnType<typeof openParameters>;
  try {
    parameters = openParameters(
      { asOf: values['as-of'] as string | undefined, level: values.level as string | undefined },
      config.suppressionThreshold,
    );
  } catch (e) {
    if (e instanceof GovError) {
      error(`${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  try {
    if (!options.db) await migrate(db);
    const exported = await exportOpenDataset(db, dataset, format, parameters);
    let user = 'cli';
    try {
      user = `cli:${userInfo().username}`;
    } catch {
      // keep 'cli'
    }
    await new AuditLog(db).append(
      exportAuditEntry({ id: `system:export:${user}`, department: null, purpose: null }, exported),
    );
    const dir = String(values.out ?? 'exports');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, exported.manifest.file);
    writeFileSync(file, exported.body);
    writeFileSync(`${file}.manifest.json`, `${JSON.stringify(exported.manifest, null, 2)}\n`);
    log(
      `${file}: ${exported.manifest.rows} rows, ${exported.manifest.bytes} bytes, sha256 ${exported.manifest.sha256}`,
    );
    log(`${file}.manifest.json`);
    return 0;
  } finally {
    if (!options.db) await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
