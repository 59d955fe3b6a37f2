import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { scopeFromPrefix } from '../../access/principal.ts';
import type { Queryable } from '../../db/index.ts';
import type { ImportSource } from './spec.ts';

/**
 * Import batches: one row per delivery, keyed by registry, source department and content checksum, so a
 * delivery is recognised however often it arrives. A batch is `running` until its merge commits
 * (`merged`, in the same transaction as the data), or `failed`; a dry run leaves `dry_run`. A batch left
 * `running` by a killed process is simply started again: nothing of it reached the registry.
 */

export type BatchStatus = 'running' | 'merged' | 'failed' | 'dry_run';

export interface BatchRow {
  id: string;
  registry: string;
  sourceDept: string;
  fileName: string;
  fileChecksum: string;
  format: string;
  submittedBy: string;
  note: string | null;
  status: BatchStatus;
  phase: string;
  attempts: number;
  startedAt: Date;
  finishedAt: Date | null;
  totalRows: number;
  accepted: number;
  rejected: number;
  inserted: number;
  changed: number;
  unchanged: number;
  error: string | null;
}

export const BATCH_COLUMNS = `id, registry, source_dept AS "sourceDept", file_name AS "fileName",
  file_checksum AS "fileChecksum", format, submitted_by AS "submittedBy", note, status, phase, attempts,
  started_at AS "startedAt", finished_at AS "finishedAt", total_rows AS "totalRows", accepted, rejected,
  inserted, changed, unchanged, error`;

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** SHA-256 of a file, hex, streamed. */
export async function fileChecksum(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function loadSource(db: Queryable, code: string): Promise<ImportSource> {
  const [row] = await db.query<{
    code: string;
    name: string;
    kind: string;
    jurisdiction_code: string | null;
    prefix: string | null;
  }>(
    `SELECT d.code, d.name, d.kind, d.jurisdiction_code, v.prefix
       FROM departments d LEFT JOIN divisions v ON v.code = d.jurisdiction_code
      WHERE d.code = $1`,
    [code],
  );
  if (!row)
    throw new ImportError(
      `--source '${code}' is not a registered department (npm run access -- departments)`,
    );
  if (row.jurisdiction_code && !row.prefix) {
    throw new ImportError(`department '${code}' has an unknown jurisdiction '${row.jurisdiction_code}'`);
  }
  return {
    code: row.code,
    name: row.name,
    kind: row.kind,
    scope: row.jurisdiction_code && row.prefix ? scopeFromPrefix(row.jurisdiction_code, row.prefix) : null,
  };
}

export async function batchByKey(
  db: Queryable,
  registry: string,
  sourceDept: string,
  checksum: string,
): Promise<BatchRow | null> {
  const [row] = await db.query<BatchRow>(
    `SELECT ${BATCH_COLUMNS} FROM import_batches WHERE registry = $1 AND source_dept = $2 AND file_checksum = $3`,
    [registry, sourceDept, checksum],
  );
  return row ?? null;
}

export async function batchById(db: Queryable, id: string): Promise<BatchRow | null> {
  const [row] = await db.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM import_batches WHERE id = $1`, [id]);
  return row ?? null;
}

export interface BatchStart {
  id: string;
  registry: string;
  sourceDept: string;
  fileName: string;
  checksum: string;
  format: string;
  submittedBy: string;
  note: string | null;
}

/**
 * Registers a run of a batch: a new batch, or a new attempt of one that never merged. Returns the attempt
 * number (it names the attempt's staging tables). A merged batch is not started again (the caller
 * reports it as already merged).
 */
export async function startBatch(db: Queryable, start: BatchStart): Promise<number> {
  const existing = await batchById(db, start.id);
  if (
    existing &&
    (existing.registry !== start.registry ||
      existing.sourceDept !== start.sourceDept ||
      existing.fileChecksum !== start.checksum)
  ) {
    throw new ImportError(
      `batch id '${start.id}' is already used by another delivery (${existing.registry} from ` +
        `${existing.sourceDept}, file ${existing.fileName})`,
    );
  }
  const [row] = await db.query<{ attempts: number }>(
    `INSERT INTO import_batches (id, registry, source_dept, file_name, file_checksum, format, submitted_by, note,
                                 status, phase)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', 'importing')
     ON CONFLICT (id) DO UPDATE
        SET status = 'running', phase = 'importing', attempts = import_batches.attempts + 1, started_at = now(),
            finished_at = NULL, error = NULL, submitted_by = EXCLUDED.submitted_by, file_name = EXCLUDED.file_name,
            total_rows = 0, accepted = 0, rejected = 0, inserted = 0, changed = 0, unchanged = 0
      WHERE import_batches.status <> 'merged'
     RETURNING attempts`,
    [
      start.id,
      start.registry,
      start.sourceDept,
      start.fileName,
      start.checksum,
      start.format,
      start.submittedBy,
      start.note,
    ],
  );
  if (!row) throw new ImportError(`batch '${start.id}' has been merged meanwhile`);
  return Number(row.attempts);
}

export async function failBatch(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE import_batches SET status = 'failed', finished_at = now(), error = $2
      WHERE id = $1 AND status = 'running'`,
    [id, error.slice(0, 2000)],
  );
}

export interface BatchCounts {
  totalRows: number;
  accepted: number;
  rejected: number;
  inserted: number;
  changed: number;
  unchanged: number;
}

export async function finishBatch(
  db: Queryable,
  id: string,
  status: 'merged' | 'dry_run',
  counts: BatchCounts,
): Promise<void> {
  await db.query(
    `UPDATE import_batches
        SET status = $2, phase = $2, finished_at = now(), total_rows = $3, accepted = $4, rejected = $5,
            inserted = $6, changed = $7, unchanged = $8
      WHERE id = $1`,
    [
      id,
      status,
      counts.totalRows,
      counts.accepted,
      counts.rejected,
      counts.inserted,
      counts.changed,
      counts.unchanged,
    ],
  );
}

/** Recent batches, newest first. */
export async function listBatches(
  db: Queryable,
  options: { registry?: string | null; limit?: number } = {},
): Promise<BatchRow[]> {
  const params: unknown[] = [options.limit ?? 50];
  const where = options.registry ? `WHERE registry = $2` : '';
  if (options.registry) params.push(options.registry);
  return db.query<BatchRow>(
    `SELECT ${BATCH_COLUMNS} FROM import_batches ${where} ORDER BY started_at DESC, id LIMIT $1`,
    params,
  );
}
