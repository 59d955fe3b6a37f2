import type { AtRestKind } from '../../../schema/catalogue.ts';
import { atRest, encryptedColumns, type SealKeys } from '../../crypto/at-rest.ts';
import { SealPool } from '../../crypto/seal-pool.ts';
import { BatchWriter, FIELD, NULL, ROW, type SealLayout } from '../../crypto/seal-worker-format.ts';
import { csvField } from '../../db/csv-field.ts';
import type { Queryable } from '../../db/index.ts';

/**
 * The one door between a validated import row and the database: every row an import or a correction
 * stages passes through `StorageRows.row` before it is written to COPY, and every SQL statement of the
 * import that joins or compares a registry column asks `compareColumn` which column to use.
 *
 * Why one door: sensitive personal fields (persons' id_number, phone, addresses; an entity's legal
 * representative's ID number) are encrypted at rest (issue #9, src/crypto/at-rest.ts): the stored value is
 * a ciphertext with a fresh IV per write, beside a `<column>_bidx` blind index computed in Node. Two
 * ciphertexts of one value differ, so an import never compares or joins on a ciphertext: it compares
 * blind indexes, and it writes a ciphertext only when the blind index says the value really changed.
 */

export type StagedValue = string | null;
export type StagedRow = Record<string, StagedValue>;

/** What the import needs of the at-rest codec (src/crypto/at-rest.ts `AtRestCodec`). */
export interface RowCodec {
  encodeValue(table: string, column: string, value: unknown): string | null;
  blindIndexFor(table: string, column: string, value: unknown): string | null;
  /** The keys new values get, when sealing may run in worker threads (null: stored as given). */
  sealKeys?(): SealKeys | null;
}

/** Batches smaller than this are sealed on the calling thread (a worker round trip would cost more). */
const POOL_BATCH = 256;
/** A value holding one of the batch encoding's separators is sealed on the calling thread instead. */
const holdsSeparator = (value: string) =>
  value.includes(FIELD) || value.includes(ROW) || value.includes(NULL);

export interface StorageRows {
  /** A validated row of `table` (column → COPY text) in its stored form: ciphertexts and blind indexes. */
  row(table: string, row: StagedRow): StagedRow;
  /**
   * The COPY lines of a batch of validated rows: each line is `heads[i]` then `columns` of the row's stored
   * form. On worker threads when the codec seals (a bulk import reads the next batch meanwhile), as UTF-8
   * bytes; the same text as `row` + csvField on each.
   */
  copyText(
    table: string,
    columns: readonly string[],
    heads: readonly string[],
    rows: StagedRow[],
  ): Promise<string | Uint8Array>;
  /** Ends the worker threads `copyText` started (and the copies of the keys they hold). */
  close(): Promise<void>;
  /** The value to look a record up by, in the form `compareColumn(table, column)` holds. */
  lookupKey(table: string, column: string, value: StagedValue): StagedValue;
  isEncrypted(table: string, column: string): boolean;
  /** The physical columns holding a logical column: itself, plus its blind index when encrypted. */
  storedColumns(table: string, column: string): string[];
  /** The column to join on or compare for a change: the blind index of an encrypted column. */
  compareColumn(table: string, column: string): string;
}

/** The blind-index column beside an encrypted column. */
export function blindIndexColumn(column: string): string {
  return `${column}_bidx`;
}

/**
 * Storage rows over a codec and the catalogue's list of encrypted columns per table. With no encrypted
 * column (or no codec), rows pass through unchanged and every column compares as itself.
 */
export function storageRows(
  codec: RowCodec | null,
  encryptedColumns: (table: string) => readonly { column: string; kind: AtRestKind }[],
): StorageRows {
  // Per table, once: the encrypted columns and their blind-index columns (a row costs no lookups).
  const cache = new Map<string, { column: string; bidx: string; kind: AtRestKind }[]>();
  const columnsOf = (table: string) => {
    let found = cache.get(table);
    if (!found) {
      found = encryptedColumns(table).map(({ column, kind }) => ({
        column,
        kind,
        bidx: blindIndexColumn(column),
      }));
      cache.set(table, found);
    }
    return found;
  };
  let pool: SealPool | null = null;
  const encrypted = (table: string, column: string) =>
    codec !== null && columnsOf(table).some((c) => c.column === column);
  // Per table and column list, once: how a worker builds a COPY line from the clear values.
  const layouts = new Map<string, { sent: string[]; layout: SealLayout } | null>();
  const layoutOf = (table: string, columns: readonly string[]) => {
    const key = `${table}:${columns.join(',')}`;
    let found = layouts.get(key);
    if (found === undefined) {
      const sealedColumns = columnsOf(table);
      const bidxOf = new Map(sealedColumns.map((c) => [c.bidx, c]));
      const sent = columns.filter((name) => !bidxOf.has(name));
      const fields = columns.map((name): SealLayout['fields'][number] => {
        const index = bidxOf.get(name);
        if (index) return { from: sent.indexOf(index.column), as: 'index', kind: index.kind };
        const sealed = sealedColumns.some((c) => c.column === name);
        return { from: sent.indexOf(name), as: sealed ? 'sealed' : 'value' };
      });
      // A blind index whose clear column is not written cannot be made from the batch: this thread does it.
      found = fields.every((f) => f.from >= 0) ? { sent, layout: { fields } } : null;
      layouts.set(key, found);
    }
    return found;
  };
  const storage: StorageRows = {
    async copyText(table, columns, heads, rows) {
      const keys = codec?.sealKeys?.() ?? null;
      const plan = keys && rows.length >= POOL_BATCH ? layoutOf(table, columns) : null;
      if (keys && plan) {
        const { sent, layout } = plan;
        const batch = new BatchWriter();
        let plain = true;
        for (let i = 0; i < rows.length && plain; i++) {
          const row = rows[i]!;
          batch.field(heads[i]!);
          for (const name of sent) {
            const value = row[name] ?? null;
            if (value !== null && holdsSeparator(value)) plain = false;
            batch.field(value);
          }
          batch.endRow();
        }
        if (plain) {
          pool ??= new SealPool(keys);
          return pool.copyText(layout, batch.take());
        }
      }
      // On this thread: small batches, the clear codec, and values that hold a separator character.
      const lines: string[] = [];
      for (let i = 0; i < rows.length; i++) {
        const stored = storage.row(table, rows[i]!);
        lines.push(heads[i]!);
        for (const name of columns) lines.push(',', csvField(stored[name]));
        lines.push('\n');
      }
      return lines.join('');
    },
    async close() {
      await pool?.close();
      pool = null;
    },
    row(table, row) {
      if (!codec) return row;
      // What codec.encodeRow does, in place (a staged row is not kept): each encrypted column becomes its
      // ciphertext and its blind index is set beside it. A million rows need no million copies.
      for (const { column, bidx } of columnsOf(table)) {
        if (!(column in row)) continue;
        const value = row[column];
        row[bidx] = codec.blindIndexFor(table, column, value);
        row[column] = codec.encodeValue(table, column, value);
      }
      return row;
    },
    lookupKey(table, column, value) {
      if (value === null || !encrypted(table, column)) return value;
      return codec!.blindIndexFor(table, column, value);
    },
    isEncrypted: encrypted,
    storedColumns: (table, column) =>
      encrypted(table, column) ? [column, blindIndexColumn(column)] : [column],
    compareColumn: (table, column) => (encrypted(table, column) ? blindIndexColumn(column) : column),
  };
  return storage;
}

/** The storage rows of a database: its at-rest codec (its keys must be open: openAtRest) and catalogue. */
export async function storageFor(db: Queryable): Promise<StorageRows> {
  const codec = await atRest(db);
  return storageRows(codec, encryptedColumns);
}
