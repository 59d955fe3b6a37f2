import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { csvField, type Database, type Queryable, type Transaction } from '../../db/index.ts';
import {
  type BatchCounts,
  batchByKey,
  failBatch,
  fileChecksum,
  finishBatch,
  ImportError,
  loadSource,
  startBatch,
} from './batches.ts';
import { requiredOnInsert } from './checks.ts';
import { DirectPath } from './direct.ts';
import { Invalid, type ParseEnv, sridOf } from './fields.ts';
import { formatOf, type ImportFormat, openSource, type RecordSource, type SourceRecord } from './formats.ts';
import { rejectLowerAuthority } from './merge.ts';
import { registrySpec } from './registries/index.ts';
import { type MergeContext, type RegistrySpec, stagePhysicalColumns } from './spec.ts';
import { type StagedRow, type StorageRows, storageFor } from './storage-row.ts';

/**
 * The import pipeline, the same for every registry and for a file or a single correction. Everything after
 * the batch is registered runs in ONE transaction:
 *
 *   read (stream) → validate each row (codes, types, required fields, geometry and CRS) → per chunk: new
 *   records Node can vouch for COPYed straight into the registry table with their lineage (direct.ts),
 *   every other row COPYed into the attempt's staging table, refusals into its rejects table → set-based
 *   reference checks in SQL over the staged rows → conflict policy, update what really changed, insert
 *   what is new, lineage → the batch's rejects and counts, status `merged`, staging dropped → commit → the
 *   rejects file.
 *
 * History and the change log come from the registry tables' triggers inside that transaction. A process
 * killed at any point leaves the registry as it was (the transaction never committed); the next run of
 * the same delivery drops the dead attempt's staging tables and starts again. A delivery already merged
 * is recognised by its checksum and changes nothing.
 */

export type ImportPhase =
  | 'staged'
  | 'validated'
  | 'merge:checked'
  | 'merge:written'
  | 'merge:commit'
  | 'merged';

export interface ImportProgress {
  rows: number;
  bytes: number;
  totalBytes: number;
}

export type ImportInput =
  | { kind: 'file'; path: string; format?: ImportFormat | undefined }
  | { kind: 'records'; name: string; records: readonly Record<string, unknown>[] };

export interface ImportOptions {
  /** persons, entities, features, … (registries/index.ts). */
  registry: string;
  input: ImportInput;
  /** Department code of the source. */
  sourceDept: string;
  /** The batch id; default `<registry>-<source>-<checksum prefix>`. */
  batchId?: string | undefined;
  /** Validate and merge inside a transaction that is rolled back: exact counts, nothing written. */
  dryRun?: boolean | undefined;
  /** Who runs it: the OS user of the CLI, the principal of a correction. */
  submittedBy: string;
  /** Why (corrections). */
  note?: string | null | undefined;
  /** CRS of coordinates that declare none: EPSG:4490 (default) or EPSG:4326. */
  crs?: string | undefined;
  /** Values of fields a record does not carry (the CLI's --layer sets layer_id). */
  defaults?: Record<string, unknown> | undefined;
  /** Where the rejects go; default `<file>.rejects.csv` for a file, none for records. */
  rejectsPath?: string | null | undefined;
  onProgress?: (progress: ImportProgress) => void;
  /** Called as each phase is reached (tests stop the process here). */
  onPhase?: (phase: ImportPhase) => void | Promise<void>;
}

export interface RejectRow {
  row: number;
  field: string;
  reason: string;
}

export interface ImportReport extends BatchCounts {
  batchId: string;
  registry: string;
  sourceDept: string;
  checksum: string;
  /** merged; dry_run (nothing written); already_merged (this delivery was merged before: nothing to do). */
  status: 'merged' | 'dry_run' | 'already_merged';
  rejects: RejectRow[];
  rejectsFile: string | null;
}

class DryRunDone extends Error {
  constructor(
    readonly counts: BatchCounts,
    readonly rejects: RejectRow[],
  ) {
    super('dry run: rolled back');
  }
}

/** Rows sealed per worker round trip. */
const SEAL_BATCH = 1024;
/** Accepted rows per routing chunk: one key probe, then one COPY each into the table, lineage and staging. */
const CHUNK = 2048;

/** work_mem of the merge transaction (SET LOCAL: this transaction only). */
const MERGE_WORK_MEM = '128MB';

const CODE_LISTS = [
  'ethnicity',
  'marital_status',
  'education',
  'nationality',
  'industry_section',
  'household_relation',
];

async function loadCodeLists(db: Queryable): Promise<Map<string, Set<string>>> {
  const found = await db.query<{ list: string; code: string }>(
    `SELECT list, code FROM code_lists WHERE list = ANY($1::text[])`,
    [CODE_LISTS],
  );
  const lists = new Map<string, Set<string>>();
  for (const { list, code } of found) {
    const set = lists.get(list) ?? new Set<string>();
    set.add(code);
    lists.set(list, set);
  }
  return lists;
}

function stageBase(batchId: string): string {
  return `import_stage_${createHash('sha256').update(batchId).digest('hex').slice(0, 16)}`;
}

/** Drops the staging tables of every earlier attempt of a batch (a killed run leaves them behind). */
async function dropStaging(db: Queryable, base: string): Promise<void> {
  const tables = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`,
    [`${base}\\_%`],
  );
  for (const { name } of tables) await db.query(`DROP TABLE IF EXISTS ${name}`);
}

function recordsSource(records: readonly Record<string, unknown>[]): RecordSource {
  return {
    format: 'ndjson',
    totalBytes: records.length,
    bytesRead: () => records.length,
    records: (async function* () {
      yield records.map((record, i): SourceRecord => ({ row: i + 1, record: { ...record } }));
    })(),
  };
}

interface StageResult {
  total: number;
  staged: number;
  /** AND of the present masks of every staged row: the columns every row supplies. */
  presentInEveryRow: number;
}

/**
 * Reads and validates the delivery, chunk by chunk. Each chunk's accepted rows are routed (direct.ts):
 * new records Node can vouch for go straight into the registry table with their lineage, the others into
 * the staging table; refusals of the row checks go to the rejects table. A chunk is sealed (SM4, blind
 * indexes; on worker threads when the codec encrypts) and written while the next one is read.
 */
async function stage(
  tx: Transaction,
  spec: RegistrySpec,
  source: RecordSource,
  ctx: MergeContext,
  env: ParseEnv,
  direct: DirectPath | null,
  onProgress?: (progress: ImportProgress) => void,
  defaultValues?: Record<string, unknown>,
): Promise<StageResult> {
  const defaults = defaultValues ? Object.entries(defaultValues) : null;
  const columns = spec.columns;
  const names = new Set(columns.map((c) => c.name));
  if (source.columns) {
    const unknown = source.columns.filter((c) => !names.has(c));
    if (unknown.length > 0 && !spec.restColumn) {
      throw new ImportError(
        `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} for ${spec.name} ` +
          `(known: ${[...names].join(', ')})`,
      );
    }
    for (const key of spec.key) {
      if (!source.columns.includes(key)) throw new ImportError(`the header lacks the key column ${key}`);
    }
  }
  const physical = stagePhysicalColumns(spec, ctx.storage).map((c) => c.name);
  const stageTarget = `${ctx.stage} (row_no, present, ${physical.join(', ')})`;
  const bits = columns.map((_c, i) => 2 ** i);
  const bitByName = new Map(columns.map((c, i) => [c.name, 2 ** i]));
  const keyBits = spec.key.map((key) => bitByName.get(key)!);
  // One closure each for the whole delivery (not one per row): they read the row being staged.
  let rowNo = 0;
  let rowPresent = 0;
  const isPresent = (field: string) => (rowPresent & (bitByName.get(field) ?? 0)) !== 0;
  const presentWith = columns.map((c) =>
    c.presentWith ? columns.findIndex((o) => o.name === c.presentWith) : -1,
  );
  const refusals: string[] = [];
  const refuse = (row: number, field: string, reason: string) => {
    refusals.push(`${row},${csvField(field)},${csvField(reason)}\n`);
  };
  const reject = (field: string, reason: string) => refuse(rowNo, field, reason);
  const result: StageResult = { total: 0, staged: 0, presentInEveryRow: 2 ** columns.length - 1 };

  /** COPY text of rows in stored form, each line after its head, in batches spread over the seal workers. */
  const sealed = (
    into: readonly string[],
    heads: string[],
    batch: StagedRow[],
  ): Promise<(string | Uint8Array)[]> => {
    const parts: Promise<string | Uint8Array>[] = [];
    for (let i = 0; i < batch.length; i += SEAL_BATCH) {
      parts.push(
        ctx.storage.copyText(
          spec.table,
          into,
          heads.slice(i, i + SEAL_BATCH),
          batch.slice(i, i + SEAL_BATCH),
        ),
      );
    }
    return Promise.all(parts);
  };

  /** Routes a chunk and starts sealing it; returns what writes it (its COPYs), run after the chunks before. */
  const prepare = async (
    rows: StagedRow[],
    rowNos: number[],
    presents: number[],
    clean: boolean[],
  ): Promise<() => Promise<void>> => {
    const routed = direct
      ? await direct.route(rows, rowNos, clean, refuse)
      : { direct: [], staged: rows.map((_r, i) => i) };
    const heads: string[] = [];
    const stagedRows: StagedRow[] = [];
    for (const i of routed.staged) {
      heads.push(`${rowNos[i]},${presents[i]}`);
      stagedRows.push(rows[i]!);
      result.presentInEveryRow &= presents[i]!;
    }
    result.staged += stagedRows.length;
    const stagedText = stagedRows.length > 0 ? sealed(physical, heads, stagedRows) : null;
    // Awaited when the chunk is written: a failure meanwhile must not count as unhandled.
    stagedText?.catch(() => undefined);
    const directRows =
      direct && routed.direct.length > 0
        ? await direct.prepare(
            routed.direct.map((i) => rows[i]!),
            routed.direct.map((i) => rowNos[i]!),
            sealed,
          )
        : null;
    return async () => {
      if (directRows) await direct!.write(tx, directRows);
      if (stagedText) await tx.copyCsv(stageTarget, await stagedText);
    };
  };

  let rows: StagedRow[] = [];
  let rowNos: number[] = [];
  let presents: number[] = [];
  let clean: boolean[] = [];
  // Routing reads the keys of the rows before it, so chunks are routed one at a time, in order; chunk k+1
  // is routed and sealed while chunk k is COPYed, and no more than two chunks wait to be written.
  let routing: Promise<void> = Promise.resolve();
  let written: Promise<void> = Promise.resolve();
  let writtenBefore: Promise<void> = Promise.resolve();
  const flush = async () => {
    const chunk = [rows, rowNos, presents, clean] as const;
    rows = [];
    rowNos = [];
    presents = [];
    clean = [];
    await routing;
    await writtenBefore;
    routing = prepare(...chunk).then((writeChunk) => {
      writtenBefore = written;
      written = written.then(writeChunk);
      written.catch(() => undefined);
    });
    routing.catch(() => undefined);
  };

  for await (const batch of source.records)
    for (const item of batch) {
      result.total++;
      if (onProgress && (result.total & 0x3fff) === 0) {
        onProgress({ rows: result.total, bytes: source.bytesRead(), totalBytes: source.totalBytes });
      }
      rowNo = item.row;
      const refusedBefore = refusals.length;
      if (item.error) {
        reject('*', `row ${item.error}`);
        continue;
      }
      const record = item.record;
      if (defaults) for (const [key, value] of defaults) if (!(key in record)) record[key] = value;
      if (item.geometry !== undefined && spec.geometryColumn && !(spec.geometryColumn in record)) {
        record[spec.geometryColumn] = item.geometry;
      }
      if (item.featureId !== undefined && spec.featureIdColumn && !(spec.featureIdColumn in record)) {
        record[spec.featureIdColumn] = item.featureId;
      }
      if (spec.restColumn && !(spec.restColumn in record && typeof record[spec.restColumn] === 'object')) {
        const rest: Record<string, unknown> = {};
        for (const key of Object.keys(record)) {
          if (!names.has(key)) {
            rest[key] = record[key];
            delete record[key];
          }
        }
        record[spec.restColumn] = rest;
      } else if (!source.columns) {
        for (const key of Object.keys(record)) {
          if (!names.has(key)) reject(key, `is not a field of ${spec.name}`);
        }
      }
      const row: StagedRow = {};
      let present = 0;
      let bad = false;
      for (let i = 0; i < columns.length; i++) {
        const column = columns[i]!;
        if (!column.parse) continue;
        if (!(column.name in record)) {
          row[column.name] = null;
          continue;
        }
        present |= bits[i]!;
        const value = column.parse(record[column.name], env);
        if (value instanceof Invalid) {
          reject(column.name, value.reason);
          bad = true;
          row[column.name] = null;
        } else if (value === null && column.notEmpty) {
          reject(column.name, 'is required');
          bad = true;
          row[column.name] = null;
        } else row[column.name] = value;
      }
      for (let i = 0; i < keyBits.length; i++) {
        if (!(present & keyBits[i]!)) {
          reject(spec.key[i]!, 'is required: it identifies the record');
          bad = true;
        }
      }
      if (bad) {
        // Unknown fields alone do not stop the row's other defects from being reported, nor vice versa.
        continue;
      }
      const before = refusals.length;
      rowPresent = present;
      spec.rowCheck?.(row, isPresent, reject);
      if (refusals.length > before) continue;
      for (let i = 0; i < columns.length; i++) {
        if (presentWith[i]! >= 0 && present & bits[presentWith[i]!]!) present |= bits[i]!;
      }
      spec.derive?.(row, ctx.storage);
      rows.push(row);
      rowNos.push(item.row);
      presents.push(present);
      // A row refused for an unknown field is still staged (it counts as its key's first row) but never
      // written directly: staging keeps it out of the merge.
      clean.push(refusals.length === refusedBefore);
      if (rows.length === CHUNK) await flush();
    }
  if (rows.length > 0) await flush();
  await routing;
  await written;

  if (refusals.length > 0) await tx.copyCsv(`${ctx.rejects} (row_no, field, reason)`, refusals);
  if (result.staged === 0) result.presentInEveryRow = 0;
  onProgress?.({ rows: result.total, bytes: source.totalBytes, totalBytes: source.totalBytes });
  return result;
}

async function readRejects(db: Queryable, rejectsTable: string): Promise<RejectRow[]> {
  const found = await db.query<{ row: number; field: string; reason: string }>(
    `SELECT row_no AS row, field, reason FROM ${rejectsTable} ORDER BY row_no, field, reason`,
  );
  return found.map((r) => ({ row: Number(r.row), field: r.field, reason: r.reason }));
}

async function writeRejects(path: string, rejects: readonly RejectRow[]): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  out.write('row,field,reason\n');
  for (const r of rejects) {
    if (!out.write(`${r.row},${csvField(r.field)},${csvField(r.reason)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * A unique violation of the registry while the batch writes: another session committed a record under a
 * key this batch inserts after the batch looked (its probe, or its staged anti-join). The batch rolled back
 * whole, so the rerun sees that record and merges against it.
 */
function keyTakenMeanwhile(error: unknown, table: string): ImportError | null {
  const { code, constraint } = (error ?? {}) as { code?: string; constraint?: string };
  if (code !== '23505' || (constraint && !constraint.startsWith(`${table}_`))) return null;
  return new ImportError(
    `another session wrote a record with a key of this delivery meanwhile${constraint ? ` (${constraint})` : ''}: ` +
      'nothing of this batch was written; run the import again',
  );
}

/** Runs one import (or correction) to its end; see the module comment. */
export async function runImport(db: Database, options: ImportOptions): Promise<ImportReport> {
  const spec = registrySpec(options.registry);
  const source = await loadSource(db, options.sourceDept);
  const input = options.input;
  const format: ImportFormat | 'graphql' =
    input.kind === 'file' ? (input.format ?? formatOf(input.path)) : 'graphql';
  const checksum =
    input.kind === 'file'
      ? await fileChecksum(input.path)
      : createHash('sha256').update(JSON.stringify(input.records)).update(randomUUID()).digest('hex');
  const fileName = input.kind === 'file' ? basename(input.path) : input.name;
  const rejectsFile =
    options.rejectsPath !== undefined
      ? options.rejectsPath
      : input.kind === 'file'
        ? `${input.path}.rejects.csv`
        : null;
  const report = (
    status: ImportReport['status'],
    counts: BatchCounts,
    batchId: string,
    rejects: RejectRow[],
  ) => ({
    batchId,
    registry: spec.name,
    sourceDept: source.code,
    checksum,
    status,
    ...counts,
    rejects,
    rejectsFile,
  });

  const existing = await batchByKey(db, spec.name, source.code, checksum);
  if (existing && options.batchId && existing.id !== options.batchId) {
    throw new ImportError(
      `this delivery is batch '${existing.id}' already; it cannot also be '${options.batchId}'`,
    );
  }
  if (existing?.status === 'merged') {
    const rejects = (
      await db.query<{ row: number; field: string; reason: string }>(
        `SELECT row_no AS row, field, reason FROM import_rejects WHERE batch_id = $1 ORDER BY row_no, field, reason`,
        [existing.id],
      )
    ).map((r) => ({ row: Number(r.row), field: r.field, reason: r.reason }));
    if (rejectsFile) await writeRejects(rejectsFile, rejects);
    return report(
      'already_merged',
      {
        totalRows: existing.totalRows,
        accepted: existing.accepted,
        rejected: existing.rejected,
        inserted: 0,
        changed: 0,
        unchanged: existing.accepted,
      },
      existing.id,
      rejects,
    );
  }

  const batchId = existing?.id ?? options.batchId ?? `${spec.name}-${source.code}-${checksum.slice(0, 12)}`;
  const attempt = await startBatch(db, {
    id: batchId,
    registry: spec.name,
    sourceDept: source.code,
    fileName,
    checksum,
    format,
    submittedBy: options.submittedBy,
    note: options.note ?? null,
  });
  const base = stageBase(batchId);
  const storage: StorageRows = await storageFor(db);
  const ctx: MergeContext = {
    db,
    batchId,
    source,
    storage,
    stage: `${base}_${attempt}`,
    rejects: `${base}_${attempt}_rejects`,
  };
  const phase = async (name: ImportPhase) => {
    await options.onPhase?.(name);
  };

  try {
    await dropStaging(db, base);
    const physical = stagePhysicalColumns(spec, storage);
    await db.exec(
      `CREATE UNLOGGED TABLE ${ctx.stage} (row_no int NOT NULL, present bigint NOT NULL,
         ${physical.map((c) => `${c.name} ${c.type}`).join(', ')});
       CREATE UNLOGGED TABLE ${ctx.rejects} (row_no int NOT NULL, field text NOT NULL, reason text NOT NULL);
       CREATE INDEX ON ${ctx.rejects} (row_no)`,
    );
    const records =
      input.kind === 'file'
        ? await openSource(input.path, format as ImportFormat)
        : recordsSource(input.records);
    const declared = options.crs ? sridOf(options.crs) : 4490;
    if (declared === null)
      throw new ImportError(`--crs ${options.crs}: only EPSG:4490 and EPSG:4326 are accepted`);
    const env: ParseEnv = {
      today: new Date().toISOString().slice(0, 10),
      codeLists: await loadCodeLists(db),
      get srid() {
        const crs = records.crs?.();
        return crs ? (sridOf(crs) ?? -1) : declared;
      },
    };
    let counts: BatchCounts;
    let rejects: RejectRow[];
    try {
      ({ counts, rejects } = await db.transaction(async (tx) => {
        const txCtx: MergeContext = { ...ctx, db: tx };
        const [locked] = await tx.query<{ status: string }>(
          `SELECT status FROM import_batches WHERE id = $1 FOR UPDATE`,
          [batchId],
        );
        if (locked?.status === 'merged')
          throw new ImportError(`batch '${batchId}' was merged by another run meanwhile`);
        // The merge joins the whole delivery by key (update, insert, lineage) and the change-log triggers
        // keep transition tables: with the default 4 MB each hash join of a million keys spills to disk.
        await tx.query(`SET LOCAL work_mem = '${MERGE_WORK_MEM}'`);
        // PGlite has one connection: there the direct path's lookups wait their turn in the transaction.
        const direct = await DirectPath.open(spec, txCtx, db.kind === 'postgres' ? db : tx);
        const staged = await stage(
          tx,
          spec,
          records,
          txCtx,
          env,
          direct,
          options.onProgress,
          options.defaults,
        ).finally(() => storage.close());
        // Statistics for the joins only: a full ANALYZE of a staged geometry column costs as much as the COPY.
        const keys = spec.key.map((k) => storage.compareColumn(spec.table, k));
        await tx.query(`ANALYZE ${ctx.stage} (row_no, ${keys.join(', ')})`);
        await tx.query(`ANALYZE ${ctx.rejects}`);
        await phase('staged');

        // Nothing staged (every row written directly or refused): no check or merge has a row to read, and
        // their joins of an empty staging table with the registry would still scan it.
        const anyStaged = staged.staged > 0;
        if (anyStaged) {
          for (const check of spec.referenceChecks(txCtx)) await tx.query(check);
          const required = requiredOnInsert(spec, txCtx, staged.presentInEveryRow);
          if (required) await tx.query(required);
          // The merge's anti-joins read the rejects: plan them with what validation found.
          await tx.query(`ANALYZE ${ctx.rejects}`);
        }
        await phase('validated');

        if (anyStaged) await rejectLowerAuthority(spec, txCtx);
        await phase('merge:checked');
        const merged = anyStaged ? await spec.merge(txCtx) : { inserted: 0, changed: 0 };
        await phase('merge:written');
        const [refused] = await tx.query<{ n: number }>(
          `SELECT count(DISTINCT row_no)::int AS n FROM ${ctx.rejects}`,
        );
        const rejected = Number(refused?.n ?? 0);
        const accepted = staged.total - rejected;
        const inserted = merged.inserted + (direct?.inserted ?? 0);
        const counts: BatchCounts = {
          totalRows: staged.total,
          accepted,
          rejected,
          inserted,
          changed: merged.changed,
          unchanged: accepted - inserted - merged.changed,
        };
        const rejects = await readRejects(tx, ctx.rejects);
        if (options.dryRun) throw new DryRunDone(counts, rejects);
        await tx.query(
          `INSERT INTO import_rejects (batch_id, row_no, field, reason)
           SELECT $1, row_no, field, reason FROM ${ctx.rejects}`,
          [batchId],
        );
        await finishBatch(tx, batchId, 'merged', counts);
        await tx.query(`DROP TABLE ${ctx.stage}`);
        await tx.query(`DROP TABLE ${ctx.rejects}`);
        await phase('merge:commit');
        return { counts, rejects };
      }));
    } catch (error) {
      if (!(error instanceof DryRunDone)) throw error;
      await finishBatch(db, batchId, 'dry_run', error.counts);
      await dropStaging(db, base);
      if (rejectsFile) await writeRejects(rejectsFile, error.rejects);
      return report('dry_run', error.counts, batchId, error.rejects);
    }
    await phase('merged');
    if (rejectsFile) await writeRejects(rejectsFile, rejects);
    return report('merged', counts, batchId, rejects);
  } catch (caught) {
    const error = keyTakenMeanwhile(caught, spec.table) ?? caught;
    await failBatch(db, batchId, (error as Error).message).catch(() => undefined);
    await dropStaging(db, base).catch(() => undefined);
    throw error;
  }
}
