import { createHash } from 'node:crypto';
import type { FieldEntry } from '../../schema/catalogue.ts';
import type { AuditEntry } from '../access/audit.ts';
import { sm3Hex } from '../access/sm3.ts';
import { attributeEntry } from '../attributes/access.ts';
import { currentDefinitions } from '../attributes/definitions.ts';
import type { Queryable } from '../db/index.ts';
import {
  entryOf,
  isOpenable,
  type OpenColumnType,
  type OpenDataset,
  type OpenParameters,
  type OpenRow,
} from './datasets.ts';

/**
 * Renders an open dataset as CSV or GeoJSON with its manifest: source datasets and their owners, when it
 * was generated and for which parameters, the row count, the byte size and the SHA-256 and SM3 checksums
 * of the exact bytes served, and every field with the catalogue entry it is published under.
 */

export const OPEN_FORMATS = ['csv', 'geojson'] as const;
export type OpenFormat = (typeof OPEN_FORMATS)[number];

export const CONTENT_TYPES: Record<OpenFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  geojson: 'application/geo+json',
};

export interface Manifest {
  dataset: string;
  title: string;
  description: string;
  format: OpenFormat;
  file: string;
  contentType: string;
  sources: string[];
  generatedAt: string;
  parameters: Record<string, unknown>;
  rows: number;
  bytes: number;
  sha256: string;
  sm3: string;
  crs?: string;
  fields: { name: string; type: string; description: string; source: string; level: string; open: boolean }[];
}

export interface OpenExport {
  body: Buffer;
  manifest: Manifest;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A column added at export time: an attribute of the dataset's layer, with the entry it is published under. */
export interface OpenAttributeColumn {
  name: string;
  type: OpenColumnType | 'number';
  description: string;
  /** `attribute:<code>@v<version>`, as the catalogue names it. */
  source: string;
  entry: FieldEntry;
  code: string;
}

const ATTRIBUTE_TYPE: Record<string, OpenAttributeColumn['type']> = {
  text: 'string',
  code: 'string',
  integer: 'integer',
  decimal: 'number',
  date: 'date',
  boolean: 'boolean',
};

/**
 * The attribute columns an export of the dataset carries: its layer's active attributes whose entry — built
 * from the definition by attributeEntry, the entry the access layer and the catalogue use — is public and
 * open (open = public level with unconditional sharing), decided by the same isOpenable as a built-in
 * column's catalogue entry. Geometry attributes are not exported (a row has one geometry). An attribute
 * whose code collides with a declared column is left out rather than overwrite it.
 */
export async function openAttributeColumns(
  db: Queryable,
  dataset: OpenDataset,
): Promise<OpenAttributeColumn[]> {
  if (!dataset.attributes) return [];
  const declared = new Set(dataset.columns.map((c) => c.name));
  const out: OpenAttributeColumn[] = [];
  for (const def of await currentDefinitions(db, 'feature')) {
    if (def.layerId !== dataset.attributes.layerId || def.status !== 'active') continue;
    const type = ATTRIBUTE_TYPE[def.dataType];
    const entry = attributeEntry(def);
    if (!type || !isOpenable(entry) || declared.has(def.code)) continue;
    out.push({
      name: def.code,
      type,
      description: `${def.name}: ${def.description} (attribute v${def.version}, owner ${def.ownerDept})`,
      source: `attribute:${def.code}@v${def.version}`,
      entry,
      code: def.code,
    });
  }
  return out;
}

/** Adds the current attribute values to the rows (one statement), typed per column; absent → null. */
async function addAttributeValues(
  db: Queryable,
  dataset: OpenDataset,
  columns: readonly OpenAttributeColumn[],
  rows: OpenRow[],
): Promise<void> {
  if (!dataset.attributes || columns.length === 0) return;
  const idColumn = dataset.attributes.idColumn;
  const ids = rows.map((r) => Number(r.values[idColumn]));
  const byCode = new Map(columns.map((c) => [c.code, c]));
  // A value row fills the one column of its data type.
  const found = await db.query<{ recordId: number; code: string; value: string | null }>(
    `SELECT record_id AS "recordId", code,
            coalesce(value_text, value_int::text, value_num::text, value_date::text, value_bool::text) AS value
       FROM attribute_values
      WHERE record_type = 'feature' AND valid_to IS NULL AND code = ANY($1::text[])
        AND record_id = ANY($2::int8[])`,
    [[...byCode.keys()], ids],
  );
  const values = new Map<string, string | null>();
  for (const f of found) values.set(`${Number(f.recordId)}\u0000${f.code}`, f.value);
  for (const row of rows) {
    const id = Number(row.values[idColumn]);
    for (const column of columns) {
      const text = values.get(`${id}\u0000${column.code}`) ?? null;
      row.values[column.name] =
        text === null
          ? null
          : column.type === 'integer' || column.type === 'number'
            ? Number(text)
            : column.type === 'boolean'
              ? text === 'true'
              : text;
    }
  }
}

function renderCsv(names: readonly string[], rows: OpenRow[]): string {
  const lines = [names.join(',')];
  for (const row of rows) lines.push(names.map((n) => csvCell(row.values[n])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function renderGeoJson(dataset: OpenDataset, rows: OpenRow[]): string {
  // One feature per line keeps a large file diffable and streamable by line-oriented tools.
  const features = rows.map((row) =>
    JSON.stringify({ type: 'Feature', geometry: row.geometry ?? null, properties: row.values }),
  );
  return `{"type":"FeatureCollection","name":${JSON.stringify(dataset.id)},"features":[\n${features.join(',\n')}\n]}\n`;
}

export function fileName(dataset: OpenDataset, format: OpenFormat): string {
  return `${dataset.id}.${format}`;
}

export async function exportOpenDataset(
  db: Queryable,
  dataset: OpenDataset,
  format: OpenFormat,
  parameters: OpenParameters,
  now = new Date(),
): Promise<OpenExport> {
  const attributes = await openAttributeColumns(db, dataset);
  const rows = await dataset.rows(db, parameters);
  await addAttributeValues(db, dataset, attributes, rows);
  const names = [...dataset.columns.map((c) => c.name), ...attributes.map((c) => c.name)];
  const text = format === 'csv' ? renderCsv(names, rows) : renderGeoJson(dataset, rows);
  const body = Buffer.from(text, 'utf8');
  const fields: Manifest['fields'] = dataset.columns.map((c) => {
    const entry = entryOf(c.source)!;
    return {
      name: c.name,
      type: c.type,
      description: c.description,
      source: `${c.source.dataset.id}.${c.source.field}`,
      level: entry.level,
      open: entry.open === true,
    };
  });
  for (const c of attributes) {
    fields.push({
      name: c.name,
      type: c.type,
      description: c.description,
      source: c.source,
      level: c.entry.level,
      open: c.entry.open === true,
    });
  }
  if (dataset.geometry && format === 'geojson') {
    const entry = entryOf(dataset.geometry.source)!;
    fields.push({
      name: 'geometry',
      type: 'geometry',
      description: 'GeoJSON geometry (RFC 7946), CGCS2000 ≈ WGS 84',
      source: `${dataset.geometry.source.dataset.id}.${dataset.geometry.source.field}`,
      level: entry.level,
      open: entry.open === true,
    });
  }
  const usesDate = dataset.id.startsWith('population');
  const manifest: Manifest = {
    dataset: dataset.id,
    title: dataset.title,
    description: dataset.description,
    format,
    file: fileName(dataset, format),
    contentType: CONTENT_TYPES[format],
    sources: [...dataset.sources],
    generatedAt: now.toISOString(),
    parameters: {
      ...(usesDate ? { asOf: parameters.asOf, suppressionThreshold: parameters.suppressionThreshold } : {}),
      ...(dataset.id === 'divisions' ? { levels: [...(parameters.levels ?? [])] } : {}),
    },
    rows: rows.length,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    sm3: sm3Hex(body),
    ...(format === 'geojson' ? { crs: 'OGC:CRS84 (stored as CGCS2000, EPSG:4490)' } : {}),
    fields,
  };
  return { body, manifest };
}

/** The audit record of one export (channel `export`): which fields went out, how many rows. */
export function exportAuditEntry(
  principal: { id: string; department: { code: string } | null; purpose: string | null },
  exported: OpenExport,
): AuditEntry {
  const fields: Record<string, Record<string, number>> = {};
  for (const f of exported.manifest.fields)
    fields[`${exported.manifest.dataset}.${f.name}`] = { allow: exported.manifest.rows };
  return {
    principal: principal.id,
    departmentCode: principal.department?.code ?? null,
    purpose: principal.purpose,
    channel: 'export',
    operation: `open:${exported.manifest.file}`,
    documentHash: exported.manifest.sm3,
    fields,
    rowCounts: { [exported.manifest.dataset]: exported.manifest.rows },
    subjects: [],
    outcome: 'ok',
  };
}
