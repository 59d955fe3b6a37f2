/**
 * npm run catalogue -- [--format json|csv] [--out FILE]
 *
 * Prints (or writes) the data-resource catalogue generated from the field catalogues, the subjects and the
 * tags: every dataset and field with description, owner department, update frequency, classification,
 * sharing class, mask rule and open attribute. Checks it against the declarations first: a column missing
 * or listed twice is an error (exit 1). Exit 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { catalogueCsv, checkFullCatalogue, fullCatalogue } from '../src/catalogue/index.ts';

const USAGE = 'usage: npm run catalogue -- [--format json|csv] [--out FILE]';

export function main(
  argv: readonly string[],
  log: (text: string) => void = (text) => process.stdout.write(text),
  error: (line: string) => void = (line) => console.error(line),
): number {
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
  const catalogue = fullCatalogue();
  const problems = checkFullCatalogue(catalogue);
  if (problems.length > 0) {
    for (const p of problems) error(`catalogue: ${p}`);
    return 1;
  }
  const text = format === 'csv' ? catalogueCsv(catalogue) : `${JSON.stringify(catalogue, null, 2)}\n`;
  if (values.out) {
    writeFileSync(values.out, text);
    const fields = catalogue.datasets.reduce((n, d) => n + d.fields.length, 0);
    error(`wrote ${values.out}: ${catalogue.datasets.length} resources, ${fields} fields`);
  } else log(text);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
