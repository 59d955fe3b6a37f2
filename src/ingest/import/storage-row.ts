import { atRest, encryptedColumns } from '../../crypto/at-rest.ts';
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
}

export interface StorageRows {
  /** A validated row of `table` (column → COPY text) in its stored form: ciphertexts and blind indexes. */
  row(table: string, row: StagedRow): StagedRow;
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
  encryptedColumns: (table: string) => readonly string[],
): StorageRows {
  // Per table, once: the encrypted columns and their blind-index columns (a row costs no lookups).
  const cache = new Map<string, { column: string; bidx: string }[]>();
  const columnsOf = (table: string) => {
    let found = cache.get(table);
    if (!found) {
      found = encryptedColumns(table).map((column) => ({ column, bidx: blindIndexColumn(column) }));
      cache.set(table, found);
    }
    return found;
  };
  const encrypted = (table: string, column: string) =>
    codec !== null && columnsOf(table).some((c) => c.column === column);
  return {
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
}

/** The storage rows of a database: its at-rest codec (its keys must be open: openAtRest) and catalogue. */
export async function storageFor(db: Queryable): Promise<StorageRows> {
  const codec = await atRest(db);
  return storageRows(codec, (table) => encryptedColumns(table).map((c) => c.column));
}
