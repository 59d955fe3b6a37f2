import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/**
 * Splits one CSV line (RFC 4180 quoting, no embedded newlines) into fields. Our reference files and
 * import files are line-oriented; a quoted newline is reported by the importer as a bad row.
 */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

/** Streams a CSV file (plain or .gz) as records keyed by the header, with 1-based line numbers. */
export async function* readCsvRecords(
  path: string,
): AsyncGenerator<{ line: number; record: Record<string, string> }> {
  const raw = createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let header: string[] | undefined;
  let lineNo = 0;
  for await (const text of lines) {
    lineNo++;
    if (text === '') continue;
    const fields = splitCsvLine(lineNo === 1 ? text.replace(/^\uFEFF/, '') : text);
    if (!header) {
      header = fields;
      continue;
    }
    const record: Record<string, string> = {};
    header.forEach((name, i) => {
      record[name] = fields[i] ?? '';
    });
    yield { line: lineNo, record };
  }
}
