import { getTableColumns, getTableName } from 'drizzle-orm';
import type { AtRestKind, FieldEntry } from '../../schema/catalogue.ts';
import { DATASETS } from '../../schema/datasets.ts';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/index.ts';
import {
  blindIndex,
  blindIndexBytes,
  CryptoError,
  type DataKey,
  decryptField,
  encryptField,
  encryptFieldBytes,
  keyVersionOf,
} from './field-cipher.ts';
import { type Kek, Keyring, resolveKek } from './keyring.ts';

/**
 * Encryption at rest, driven by the field catalogue: every column whose entry says `atRest` is stored as
 * an SM4 ciphertext (`sm4.<key version>.<…>`, fresh IV, HMAC-SM3), with a `<column>_bidx` blind index
 * beside it. Table code never decides what is encrypted; it passes rows through a codec:
 *
 * - writers: `encodeRow(table, row)` (or `encodeValue`) before a row goes to SQL or COPY;
 * - lookups and joins: `blindIndexFor(table, column, value)` against `<column>_bidx`;
 * - readers: `decodeValue(stored)`; in GraphQL the access plugin does it, after the access decision and
 *   before masking, so only fields the caller may see (in clear or masked) are ever decrypted.
 *
 * A codec belongs to one database (its keys live in that database's `data_keys`): `openAtRest` loads the
 * keys and binds the codec to the database object, `codecFor(db)` finds it. Values are never logged: no
 * error message here carries one.
 */

export interface EncryptedColumn {
  table: string;
  /** SQL column name, e.g. `id_number`. */
  column: string;
  /** Drizzle property name, e.g. `idNumber`. */
  property: string;
  /** `<column>_bidx` */
  bidxColumn: string;
  /** `<property>Bidx` */
  bidxProperty: string;
  kind: AtRestKind;
}

let columnsByTable: Map<string, EncryptedColumn[]> | undefined;

/** Encrypted columns per table, read from the catalogue once. */
function catalogue(): Map<string, EncryptedColumn[]> {
  if (columnsByTable) return columnsByTable;
  const byTable = new Map<string, EncryptedColumn[]>();
  for (const dataset of DATASETS) {
    const table = getTableName(dataset.table);
    const columns = getTableColumns(dataset.table) as Record<string, { name: string }>;
    for (const [property, entry] of Object.entries(dataset.fields as Record<string, FieldEntry>)) {
      if (!entry.atRest) continue;
      const column = columns[property]!.name;
      const bidxProperty = `${property}Bidx`;
      const bidx = columns[bidxProperty];
      if (!bidx || bidx.name !== `${column}_bidx`) {
        throw new Error(`${table}.${column} is encrypted at rest but has no ${column}_bidx column`);
      }
      const list = byTable.get(table) ?? [];
      list.push({ table, column, property, bidxColumn: bidx.name, bidxProperty, kind: entry.atRest.kind });
      byTable.set(table, list);
    }
  }
  columnsByTable = byTable;
  return byTable;
}

/** The encrypted columns of a table (none: an empty list). */
export function encryptedColumns(table: string): readonly EncryptedColumn[] {
  return catalogue().get(table) ?? [];
}

/** Tables holding encrypted columns. */
export function encryptedTables(): string[] {
  return [...catalogue().keys()];
}

export function isEncrypted(table: string, column: string): boolean {
  return encryptedColumns(table).some((c) => c.column === column || c.property === column);
}

function columnOf(table: string, column: string): EncryptedColumn {
  const found = encryptedColumns(table).find((c) => c.column === column || c.property === column);
  if (!found) throw new Error(`${table}.${column} is not encrypted at rest (schema catalogue)`);
  return found;
}

const NORMALISE: Record<AtRestKind, (value: string) => string> = {
  // Full-width digits and letters folded, spaces dropped, the check character upper-case.
  citizenId: (v) => v.normalize('NFKC').replace(/\s+/g, '').toUpperCase(),
  // Digits only, without the country code.
  phone: (v) => {
    const digits = v.normalize('NFKC').replace(/[\s()-]/g, '');
    return digits.replace(/^(\+86|0086)/, '');
  },
  address: (v) => v.normalize('NFKC').replace(/\s+/g, ' ').trim(),
};

/** The value a blind index is computed over (blank: null). Exported for tests. */
export function normalisedForIndex(kind: AtRestKind, value: string): string | null {
  const normalised = NORMALISE[kind](value);
  return normalised === '' ? null : normalised;
}

const isBlank = (value: unknown): boolean =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '');

/** The keys new values are sealed and indexed with (what a seal worker is given: src/crypto/seal-pool.ts). */
export interface SealKeys {
  data: DataKey;
  index: Buffer;
}

/** The stored form of a value of an encrypted column under `keys` (blank: null). */
export function sealWith(keys: SealKeys, value: unknown): string | null {
  return isBlank(value) ? null : encryptField(keys.data, String(value));
}

/** The blind index of a value of an encrypted column of `kind` under `keys` (blank: null). */
export function indexWith(keys: SealKeys, kind: AtRestKind, value: unknown): string | null {
  return indexBytesWith(keys, kind, value)?.toString('base64url') ?? null;
}

/** `sealWith` as bytes: those of field-cipher's encryptFieldBytes (blank: null). */
export function sealBytesWith(keys: SealKeys, value: unknown): Buffer | null {
  return isBlank(value) ? null : encryptFieldBytes(keys.data, String(value));
}

/** `indexWith` as bytes, in field-cipher's shared blind-index buffer (blank: null). */
export function indexBytesWith(keys: SealKeys, kind: AtRestKind, value: unknown): Buffer | null {
  if (isBlank(value)) return null;
  const normalised = normalisedForIndex(kind, String(value));
  return normalised === null ? null : blindIndexBytes(keys.index, kind, normalised);
}

export interface AtRestCodec {
  /** False only for the benchmark baseline (values stored as given). */
  readonly encrypted: boolean;
  /** The data-key version new values get. */
  readonly keyVersion: number;
  /** The stored form of a value of an encrypted column (blank: null). */
  encodeValue(table: string, column: string, value: unknown): string | null;
  /** The blind index of a value of an encrypted column, as `<column>_bidx` holds it (blank: null). */
  blindIndexFor(table: string, column: string, value: unknown): string | null;
  /**
   * A copy of `row` in stored form: each encrypted column present (by SQL name or drizzle property)
   * becomes a ciphertext, and its blind index is set beside it (`<column>_bidx` / `<property>Bidx`).
   */
  encodeRow<T extends Record<string, unknown>>(table: string, row: T): T & Record<string, unknown>;
  /** The clear value of a stored one; throws CryptoError on a wrong key, a tampered or a clear value. */
  decodeValue(stored: unknown): string | null;
  /** Decodes, in place, the encrypted columns of `table` present in `row` (by SQL name or property). */
  decodeRow<T extends Record<string, unknown>>(table: string, row: T): T;
  /** True when `stored` names a key version this process has not loaded yet (a rotation elsewhere). */
  needsReload(stored: unknown): boolean;
  /** Re-reads the keys (new versions, the active one). */
  reload(): Promise<void>;
  /** Re-reads the keys when the last read is a few seconds old: writers call it once per batch. */
  refresh(): Promise<void>;
  /** The keys new values get, for sealing off the main thread; null when values are stored as given. */
  sealKeys(): SealKeys | null;
}

abstract class BaseCodec implements AtRestCodec {
  abstract sealKeys(): SealKeys | null;
  abstract readonly encrypted: boolean;
  abstract readonly keyVersion: number;
  protected abstract seal(value: string): string;
  protected abstract index(kind: AtRestKind, normalised: string): string;
  abstract decodeValue(stored: unknown): string | null;
  abstract needsReload(stored: unknown): boolean;
  abstract reload(): Promise<void>;
  abstract refresh(): Promise<void>;

  encodeValue(table: string, column: string, value: unknown): string | null {
    columnOf(table, column);
    return isBlank(value) ? null : this.seal(String(value));
  }

  blindIndexFor(table: string, column: string, value: unknown): string | null {
    const { kind } = columnOf(table, column);
    if (isBlank(value)) return null;
    const normalised = normalisedForIndex(kind, String(value));
    return normalised === null ? null : this.index(kind, normalised);
  }

  encodeRow<T extends Record<string, unknown>>(table: string, row: T): T & Record<string, unknown> {
    const out: Record<string, unknown> = { ...row };
    for (const c of encryptedColumns(table)) {
      const [key, bidxKey] =
        c.column in row ? [c.column, c.bidxColumn] : c.property in row ? [c.property, c.bidxProperty] : [];
      if (!key) continue;
      const value = row[key];
      if (isBlank(value)) {
        out[key] = null;
        out[bidxKey!] = null;
        continue;
      }
      const text = String(value);
      out[key] = this.seal(text);
      const normalised = normalisedForIndex(c.kind, text);
      out[bidxKey!] = normalised === null ? null : this.index(c.kind, normalised);
    }
    return out as T & Record<string, unknown>;
  }

  decodeRow<T extends Record<string, unknown>>(table: string, row: T): T {
    const target = row as Record<string, unknown>;
    for (const c of encryptedColumns(table)) {
      if (c.column in target) target[c.column] = this.decodeValue(target[c.column]);
      else if (c.property in target) target[c.property] = this.decodeValue(target[c.property]);
    }
    return row;
  }
}

/** The codec of a database whose keys are loaded in a keyring. */
class KeyringCodec extends BaseCodec {
  readonly encrypted = true;

  constructor(readonly keyring: Keyring) {
    super();
  }

  get keyVersion(): number {
    return this.keyring.active.version;
  }

  protected seal(value: string): string {
    return encryptField(this.keyring.active, value);
  }

  protected index(kind: AtRestKind, normalised: string): string {
    return blindIndex(this.keyring.indexKey, kind, normalised);
  }

  sealKeys(): SealKeys {
    return { data: this.keyring.active, index: this.keyring.indexKey };
  }

  decodeValue(stored: unknown): string | null {
    if (stored === null || stored === undefined) return null;
    if (typeof stored !== 'string') throw new CryptoError(`an encrypted column holds a ${typeof stored}`);
    if (keyVersionOf(stored) === null) {
      throw new CryptoError(
        'an encrypted column holds a value in clear (written before encryption at rest, or by a writer ' +
          'that bypassed src/crypto/at-rest.ts): run `npm run keys -- rotate` to encrypt such values',
      );
    }
    return decryptField((v) => this.keyring.dataKey(v), stored);
  }

  needsReload(stored: unknown): boolean {
    if (typeof stored !== 'string') return false;
    const version = keyVersionOf(stored);
    return version !== null && !this.keyring.dataKey(version);
  }

  reload(): Promise<void> {
    return this.keyring.reload();
  }

  refresh(): Promise<void> {
    return this.keyring.refreshIfStale();
  }
}

/**
 * For the benchmark baseline only: values stored as given and the blind index is the normalised value
 * itself, so the same SQL (same columns, same indexes) runs without any cryptography. Nothing but
 * scripts/bench may use it: the data it writes is in clear.
 */
class UnencryptedBenchCodec extends BaseCodec {
  readonly encrypted = false;
  readonly keyVersion = 0;

  protected seal(value: string): string {
    return value;
  }

  protected index(_kind: AtRestKind, normalised: string): string {
    return normalised;
  }

  sealKeys(): null {
    return null;
  }

  decodeValue(stored: unknown): string | null {
    return stored === null || stored === undefined ? null : String(stored);
  }

  needsReload(): boolean {
    return false;
  }

  async reload(): Promise<void> {}

  async refresh(): Promise<void> {}
}

export function unencryptedCodecForBenchmarks(): AtRestCodec {
  if (process.env.GOVBASE_MODE === 'production' || process.env.NODE_ENV === 'production') {
    throw new Error('the unencrypted benchmark codec is refused in production');
  }
  return new UnencryptedBenchCodec();
}

const codecs = new WeakMap<object, AtRestCodec>();

/** Binds a codec to a database object (or a transaction handle that should use it). */
export function bindAtRest(db: object, codec: AtRestCodec): AtRestCodec {
  codecs.set(db, codec);
  return codec;
}

/** The codec bound to this database; fails loudly when its keys were never opened. */
export function codecFor(db: Queryable | object): AtRestCodec {
  const codec = codecs.get(db);
  if (!codec) {
    throw new Error(
      'no at-rest keys are open for this database: call openAtRest (src/crypto/at-rest.ts) after opening it',
    );
  }
  return codec;
}

/** The codec with its keys re-read when stale: writers call this once per batch, not per row. */
export async function atRest(db: Queryable | object): Promise<AtRestCodec> {
  const codec = codecFor(db);
  await codec.refresh();
  return codec;
}

/** Loads (or, in an empty database, makes) the keys wrapped by `kek` and binds the codec to `db`. */
export async function openAtRest(db: Queryable, kek: Buffer): Promise<AtRestCodec> {
  return bindAtRest(db, new KeyringCodec(await Keyring.open(db, kek)));
}

/** openAtRest with the KEK of the configuration (see resolveKek); returns where the KEK came from. */
export async function openAtRestFromConfig(
  db: Queryable,
  config: Config,
): Promise<{ codec: AtRestCodec; kek: Kek }> {
  const kek = resolveKek(config);
  return { codec: await openAtRest(db, kek.key), kek };
}

/**
 * A stored value in clear, reloading the keys first when it was written under a version this process has
 * not seen (a rotation running in another process). Synchronous when it can be.
 */
export function decodeStored(db: object, stored: unknown): string | null | Promise<string | null> {
  const codec = codecFor(db);
  if (codec.needsReload(stored)) return codec.reload().then(() => codec.decodeValue(stored));
  return codec.decodeValue(stored);
}

/** The keyring behind a codec (rotation and `keys status`); null for the benchmark codec. */
export function keyringOf(codec: AtRestCodec): Keyring | null {
  return codec instanceof KeyringCodec ? codec.keyring : null;
}
