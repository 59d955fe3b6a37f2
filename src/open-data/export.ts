import { createHash } from 'node:crypto';
import type { AuditEntry } from '../access/audit.ts';
import { sm3Hex } from '../access/sm3.ts';
import type { Queryable } from '../db/index.ts';
import { entryOf, type OpenDataset, type OpenParameters, type OpenRow } from './datasets.ts';

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

function renderCsv(dataset: OpenDataset, rows: OpenRow[]): string {
  const names = dataset.columns.map((c) => c.name);
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
  const rows = await dataset.rows(db, parameters);
  const text = format === 'csv' ? renderCsv(dataset, rows) : renderGeoJson(dataset, rows);
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
      ...(dataset.geometry ? { levels: [...(parameters.levels ?? [])] } : {}),
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
