import { createReadStream, statSync } from 'node:fs';
import { splitCsvLine } from '../csv.ts';

/**
 * Streaming readers of the delivery formats. Each yields records with their row number as a person would
 * find the row: the line number for CSV (the header is line 1) and NDJSON, the 1-based position of the
 * feature for a GeoJSON FeatureCollection. Nothing reads a whole file into memory.
 */

export type ImportFormat = 'csv' | 'ndjson' | 'geojson';

export interface SourceRecord {
  row: number;
  /** Field name → value as the file has it (text for CSV; JSON values otherwise). */
  record: Record<string, unknown>;
  /** The row could not be read at all (bad JSON, wrong field count): it is rejected with this reason. */
  error?: string;
  /** GeoJSON: the feature's geometry and id, beside its properties in `record`. */
  geometry?: unknown;
  featureId?: unknown;
}

export interface RecordSource {
  format: ImportFormat;
  /** Records in batches (one per chunk read): no promise per row. */
  records: AsyncIterable<SourceRecord[]>;
  /** Bytes consumed so far and in total, for the progress bar. */
  bytesRead(): number;
  totalBytes: number;
  /** CSV: the header (the columns every row supplies). */
  columns?: string[];
  /** GeoJSON: the CRS the collection declares, as written. */
  crs?: () => string | null;
}

export function formatOf(path: string, declared?: string): ImportFormat {
  const f = (declared ?? path.replace(/\.gz$/, '').split('.').pop() ?? '').toLowerCase();
  if (f === 'csv') return 'csv';
  if (f === 'ndjson' || f === 'jsonl' || f === 'geojsonl' || f === 'geojsons') return 'ndjson';
  if (f === 'geojson' || f === 'json') return 'geojson';
  throw new Error(`cannot tell the format of '${path}': use a .csv, .ndjson or .geojson file, or --format`);
}

/** Opens a file as a record source. CSV reads the header first (so its columns are known). */
export async function openSource(path: string, format: ImportFormat): Promise<RecordSource> {
  const totalBytes = statSync(path).size;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const bytesRead = () => stream.bytesRead;
  if (format === 'geojson') {
    const reader = featureCollection(stream);
    return { format, records: reader.records, bytesRead, totalBytes, crs: reader.crs };
  }
  const lines = lineBatches(stream)[Symbol.asyncIterator]();
  if (format === 'ndjson') return { format, records: ndjson(lines), bytesRead, totalBytes };
  // The header: the first line of the first non-empty batch.
  let first = await lines.next();
  while (!first.done && first.value.length === 0) first = await lines.next();
  if (first.done) throw new Error(`'${path}' is empty: a CSV import needs a header line`);
  const [header, ...rest] = first.value;
  const columns = splitCsvLine(header!.replace(/^\uFEFF/, '')).map((c) => c.trim());
  return { format, records: csvRows(rest, lines, columns), bytesRead, totalBytes, columns };
}

/** The lines of a text stream in batches, one per chunk read (\n or \r\n endings). */
async function* lineBatches(stream: AsyncIterable<string | Buffer>): AsyncGenerator<string[]> {
  let carry = '';
  for await (const piece of stream) {
    const text = carry + (typeof piece === 'string' ? piece : piece.toString('utf8'));
    const lines = text.split('\n');
    carry = lines.pop()!;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
    }
    yield lines;
  }
  if (carry !== '') yield [carry.endsWith('\r') ? carry.slice(0, -1) : carry];
}

async function* csvRows(
  firstLines: string[],
  batches: AsyncIterator<string[]>,
  columns: string[],
): AsyncGenerator<SourceRecord[]> {
  let row = 1;
  const width = columns.length;
  let lines: string[] | null = firstLines;
  while (lines) {
    const out: SourceRecord[] = [];
    for (const line of lines) {
      row++;
      if (line === '') continue;
      const fields = splitCsvLine(line);
      const record: Record<string, unknown> = {};
      if (fields.length !== width) {
        out.push({ row, record, error: `has ${fields.length} fields; the header has ${width}` });
        continue;
      }
      for (let i = 0; i < width; i++) record[columns[i]!] = fields[i];
      out.push({ row, record });
    }
    yield out;
    const next = await batches.next();
    lines = next.done ? null : next.value;
  }
}

/** Drops the record separators (RS, 0x1e) of GeoJSON text sequences (RFC 8464) and a byte-order mark. */
function stripRecordStart(line: string): string {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === 0x1e || line.charCodeAt(i) === 0xfeff)) i++;
  return line.slice(i);
}

async function* ndjson(batches: AsyncIterator<string[]>): AsyncGenerator<SourceRecord[]> {
  let row = 0;
  for (;;) {
    const next = await batches.next();
    if (next.done) return;
    const out: SourceRecord[] = [];
    for (const text of next.value) {
      row++;
      const line = stripRecordStart(text).trim();
      if (line === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        out.push({ row, record: {}, error: 'is not valid JSON' });
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        out.push({ row, record: {}, error: 'is not a JSON object' });
        continue;
      }
      const object = value as Record<string, unknown>;
      out.push(object.type === 'Feature' ? featureRecord(row, object) : { row, record: object });
    }
    yield out;
  }
}

function featureRecord(row: number, feature: Record<string, unknown>): SourceRecord {
  const properties = feature.properties;
  if (
    properties !== null &&
    properties !== undefined &&
    (typeof properties !== 'object' || Array.isArray(properties))
  ) {
    return { row, record: {}, error: 'has properties that are not an object' };
  }
  return {
    row,
    record: { ...((properties as Record<string, unknown> | null) ?? {}) },
    geometry: feature.geometry,
    featureId: feature.id,
  };
}

/**
 * A streaming reader of a GeoJSON FeatureCollection: scans the text for the elements of the top-level
 * `features` array and parses one feature at a time; a top-level `crs` member is read wherever it is.
 */
function featureCollection(stream: AsyncIterable<string | Buffer>) {
  let crs: string | null = null;
  async function* records(): AsyncGenerator<SourceRecord[]> {
    let depth = 0;
    let inString = false;
    let escaped = false;
    let key = '';
    let keyStart = -1;
    let lastKey = '';
    let keyBuffer = '';
    // Where we are: the features array (at depth 2) and the member being captured.
    let featuresDepth = -1;
    let capture: string[] | null = null;
    let captureStart = 0;
    let captureDepth = 0;
    let crsCapture: string[] | null = null;
    let crsStart = 0;
    let row = 0;
    let sawCollection = false;
    for await (const piece of stream) {
      const out: SourceRecord[] = [];
      const chunk = typeof piece === 'string' ? piece : piece.toString('utf8');
      if (capture) captureStart = 0;
      if (crsCapture) crsStart = 0;
      if (keyStart >= 0) keyStart = 0;
      for (let i = 0; i < chunk.length; i++) {
        const ch = chunk.charCodeAt(i);
        if (inString) {
          if (escaped) escaped = false;
          else if (ch === 92) escaped = true;
          else if (ch === 34) {
            inString = false;
            if (keyStart >= 0) {
              key = keyBuffer + chunk.slice(keyStart, i);
              keyStart = -1;
              keyBuffer = '';
            }
          }
          continue;
        }
        if (ch === 34) {
          inString = true;
          if (depth === 1 && !capture && !crsCapture) {
            keyStart = i + 1;
            keyBuffer = '';
          }
        } else if (ch === 58 && depth === 1) {
          lastKey = key;
          if (lastKey === 'type') sawCollection = true;
        } else if (ch === 123 || ch === 91) {
          depth++;
          if (depth === 2 && lastKey === 'features' && ch === 91) featuresDepth = 2;
          else if (depth === 2 && lastKey === 'crs' && ch === 123 && !crsCapture) {
            crsCapture = [];
            crsStart = i;
          } else if (featuresDepth === 2 && depth === 3 && ch === 123 && !capture) {
            capture = [];
            captureStart = i;
            captureDepth = 3;
          }
        } else if (ch === 125 || ch === 93) {
          if (capture && depth === captureDepth && ch === 125) {
            capture.push(chunk.slice(captureStart, i + 1));
            const text = capture.join('');
            capture = null;
            row++;
            let feature: unknown;
            try {
              feature = JSON.parse(text);
            } catch {
              feature = null;
            }
            if (
              feature === null ||
              typeof feature !== 'object' ||
              (feature as { type?: unknown }).type !== 'Feature'
            ) {
              out.push({ row, record: {}, error: 'is not a GeoJSON Feature' });
            } else out.push(featureRecord(row, feature as Record<string, unknown>));
          } else if (crsCapture && depth === 2 && ch === 125) {
            crsCapture.push(chunk.slice(crsStart, i + 1));
            try {
              const value = JSON.parse(crsCapture.join('')) as { properties?: { name?: unknown } };
              crs = typeof value.properties?.name === 'string' ? value.properties.name : null;
            } catch {
              crs = null;
            }
            crsCapture = null;
          }
          if (depth === 2 && featuresDepth === 2 && ch === 93) featuresDepth = -1;
          depth--;
        }
      }
      if (capture) capture.push(chunk.slice(captureStart));
      if (crsCapture) crsCapture.push(chunk.slice(crsStart));
      if (keyStart >= 0) keyBuffer += chunk.slice(keyStart);
      if (out.length > 0) yield out;
    }
    if (!sawCollection && row === 0) throw new Error('the file is not a GeoJSON FeatureCollection');
  }
  return { records: records(), crs: () => crs };
}
