/**
 * npm run catalogue -- [--format json|csv] [--out FILE]
 *
 * Prints (or writes) the data-resource catalogue generated from the field catalogues, the subjects, the
 * tags and the attribute definitions (fields on demand, read from the database of the environment: embedded
 * by default, DATABASE_URL for a server — the same catalogue GraphQL `dataCatalogue` serves): every dataset
 * and field with description, owner department, update frequency, classification, sharing class, mask rule
 * and open attribute. Checks the declared catalogue first: a column missing or listed twice is an error
 * (exit 1). Exit 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { dataCatalogueOf } from '../src/attributes/catalogue.ts';
import { catalogueCsv, checkFullCatalogue } from '../src/catalogue/index.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';

const USAGE = 'usage: npm run catalogue -- [--format json|csv] [--out FILE]';

export interface MainOptions {
  db?: Database;
  log?: (text: string) => void;
  error?: (line: string) => void;
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const log = options.log ?? ((text: string) => process.stdout.write(text));
  const error = options.error ?? ((line: string) => console.error(line));
  let values: { format?: string; out?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { format: { type: 'string' }, out: { type: 'string' } },
    }));
  } catch (e) {
    error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'csv') {
    error(`--format '${format}' is not json or csv\n${USAGE}`);
    return 2;
  }
  const problems = checkFullCatalogue();
  if (problems.length > 0) {
    for (const p of problems) error(`catalogue: ${p}`);
    return 1;
  }
  const config = loadConfig();
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  try {
    if (!options.db) await migrate(db);
    const catalogue = await dataCatalogueOf(db);
    const text = format === 'csv' ? catalogueCsv(catalogue) : `${JSON.stringify(catalogue, null, 2)}\n`;
    if (values.out) {
      writeFileSync(values.out, text);
      const fields = catalogue.datasets.reduce((n, d) => n + d.fields.length, 0);
      error(`wrote ${values.out}: ${catalogue.datasets.length} resources, ${fields} fields`);
    } else log(text);
    return 0;
  } finally {
    if (!options.db) await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
