import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, ConfigError } from '../config.ts';
import type { Queryable } from '../db/index.ts';
import { CryptoError, type DataKey, SM4_KEY_BYTES, unwrapKey, wrapKey } from './field-cipher.ts';

/**
 * The keyring of the encryption at rest: the key-encryption key (KEK) from configuration, and the keys it
 * wraps in the `data_keys` table — data keys by version (values carry the version they were written with)
 * and one blind-index key.
 *
 * The blind-index key is not rotated by `keys rotate`: rotating it would change every blind index at once,
 * so lookups during the rotation would have to try two keys. Data-key rotation re-encrypts values and
 * leaves their blind indexes as they are (same key, same normalised value, same index).
 */

/** Bytes of a KEK: at least 128 bits, at most what HMAC-SM3 takes in one block. */
const KEK_MIN = 16;
const KEK_MAX = 64;
const INDEX_KEY_BYTES = 32;
const MAC_KEY_BYTES = 32;
/** Re-read the active data-key version at most this often (a rotation elsewhere makes a new one). */
const REFRESH_MS = 5000;

export interface Kek {
  key: Buffer;
  /** Where it came from, for messages (never the key). */
  source: string;
  /** A development key generated on this machine: said loudly at start. */
  development: boolean;
}

/** A KEK given as hex (32–128 digits) or base64: 16–64 bytes. */
export function parseKek(text: string, variable: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]+$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : Buffer.alloc(0);
  if (bytes.length < KEK_MIN || bytes.length > KEK_MAX) {
    throw new ConfigError(
      variable,
      `must be a key of ${KEK_MIN}–${KEK_MAX} bytes in hex or base64 (e.g. openssl rand -hex 32)`,
    );
  }
  return bytes;
}

/** Where the development KEK of an embedded data folder lives: beside it, never inside (a copy of the
 * data folder or a backup of it must not carry its key). */
export function developmentKekPath(dataDir: string): string {
  return `${resolve(dataDir)}.dev-kek`;
}

/**
 * The KEK of this process. Production demands GOVBASE_KEK or GOVBASE_KEK_FILE. Otherwise, without one, a
 * development KEK is read from (or generated into) a file beside the data folder; an in-memory database
 * gets a throw-away key.
 */
export function resolveKek(config: Config): Kek {
  if (config.kek)
    return { key: parseKek(config.kek, 'GOVBASE_KEK'), source: 'GOVBASE_KEK', development: false };
  if (config.kekFile) {
    let text: string;
    try {
      text = readFileSync(config.kekFile, 'utf8');
    } catch (error) {
      throw new ConfigError('GOVBASE_KEK_FILE', `cannot be read: ${(error as Error).message}`);
    }
    return {
      key: parseKek(text, 'GOVBASE_KEK_FILE'),
      source: `GOVBASE_KEK_FILE (${config.kekFile})`,
      development: false,
    };
  }
  if (config.mode === 'production') {
    throw new ConfigError(
      'GOVBASE_KEK',
      'or GOVBASE_KEK_FILE must be set in production: sensitive fields are encrypted at rest under keys it wraps',
    );
  }
  if (!config.databaseUrl && config.dataDir.startsWith('memory://')) {
    return { key: randomBytes(32), source: 'a throw-away key (in-memory database)', development: true };
  }
  const path = developmentKekPath(config.dataDir);
  if (!existsSync(path)) {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
  return {
    key: parseKek(readFileSync(path, 'utf8'), path),
    source: `the development key file ${path}`,
    development: true,
  };
}

/** The loud notice of a development KEK (stderr, at start). */
export function developmentKekNotice(kek: Kek): string {
  const line = '!'.repeat(78);
  return [
    line,
    `!! DEVELOPMENT ENCRYPTION KEY: sensitive fields are encrypted at rest under ${kek.source}.`,
    '!! Anyone with that file can decrypt them, and losing it loses the data. For real data set',
    '!! GOVBASE_KEK or GOVBASE_KEK_FILE (GOVBASE_MODE=production refuses to start without one).',
    line,
  ].join('\n');
}

/** Key check value of a KEK: tells which KEK wrapped a key without revealing anything about it. */
export function kekId(kek: Buffer): string {
  return createHmac('sm3', kek).update('govbase/kek-check-value').digest('hex').slice(0, 16);
}

const dataLabel = (version: number) => `govbase/data-key/${version}`;
const INDEX_LABEL = 'govbase/index-key/1';

export function wrapDataKey(kek: Buffer, key: DataKey): string {
  return wrapKey(kek, Buffer.concat([key.encKey, key.macKey]), dataLabel(key.version));
}

function unwrapDataKey(kek: Buffer, version: number, wrapped: string): DataKey {
  const raw = unwrapKey(kek, wrapped, dataLabel(version));
  if (raw.length !== SM4_KEY_BYTES + MAC_KEY_BYTES)
    throw new CryptoError(`data key ${version} has a wrong length`);
  return { version, encKey: raw.subarray(0, SM4_KEY_BYTES), macKey: raw.subarray(SM4_KEY_BYTES) };
}

export function newWrappedDataKey(kek: Buffer, version: number): { key: DataKey; wrapped: string } {
  const key: DataKey = {
    version,
    encKey: randomBytes(SM4_KEY_BYTES),
    macKey: randomBytes(MAC_KEY_BYTES),
  };
  return { key, wrapped: wrapDataKey(kek, key) };
}

interface KeyRow {
  purpose: 'data' | 'index';
  version: number;
  wrapped: string;
  kek_id: string;
  status: 'active' | 'decrypt_only' | 'retired';
}

export class Keyring {
  private readonly dataKeys = new Map<number, DataKey>();
  private indexKeyValue: Buffer | undefined;
  private activeVersion = 0;
  private loadedAt = 0;
  readonly kekId: string;

  private constructor(
    private readonly kek: Buffer,
    private readonly db: Queryable,
  ) {
    this.kekId = kekId(kek);
  }

  /**
   * Loads the keys wrapped in `data_keys` (making the first data key and the index key when the table is
   * empty). A KEK that did not wrap them fails here, loudly, before any value is read or written.
   */
  static async open(db: Queryable, kek: Buffer): Promise<Keyring> {
    const ring = new Keyring(kek, db);
    await ring.reload();
    if (ring.activeVersion === 0 || !ring.indexKeyValue) {
      const id = kekId(kek);
      const first = newWrappedDataKey(kek, 1);
      const index = wrapKey(kek, randomBytes(INDEX_KEY_BYTES), INDEX_LABEL);
      // Two processes starting on an empty table: the first insert wins, both then read the winner's keys.
      await db.query(
        `INSERT INTO data_keys (purpose, version, wrapped, kek_id, status)
         VALUES ('data', 1, $1, $3, 'active'), ('index', 1, $2, $3, 'active')
         ON CONFLICT DO NOTHING`,
        [first.wrapped, index, id],
      );
      await ring.reload();
    }
    return ring;
  }

  /** Re-reads `data_keys`: new versions (a rotation in another process) and the active one. */
  async reload(): Promise<void> {
    const found = await this.db.query<KeyRow>(
      'SELECT purpose, version, wrapped, kek_id, status FROM data_keys ORDER BY purpose, version',
    );
    let active = 0;
    for (const row of found) {
      const version = Number(row.version);
      if (row.kek_id !== this.kekId) {
        throw new CryptoError(
          `the ${row.purpose} key ${version} was wrapped by another key-encryption key (check value ${row.kek_id}; ` +
            `the configured one is ${this.kekId}): is GOVBASE_KEK / GOVBASE_KEK_FILE the right key?`,
        );
      }
      if (row.purpose === 'index') {
        this.indexKeyValue ??= unwrapKey(this.kek, row.wrapped, INDEX_LABEL);
        continue;
      }
      if (!this.dataKeys.has(version))
        this.dataKeys.set(version, unwrapDataKey(this.kek, version, row.wrapped));
      if (row.status === 'active') active = Math.max(active, version);
    }
    this.activeVersion = active;
    this.loadedAt = Date.now();
  }

  /** Re-reads the keys when the last read is older than a few seconds (writers call this per batch). */
  async refreshIfStale(maxAgeMs = REFRESH_MS): Promise<void> {
    if (Date.now() - this.loadedAt >= maxAgeMs) await this.reload();
  }

  /** The data key new values are encrypted with. */
  get active(): DataKey {
    const key = this.dataKeys.get(this.activeVersion);
    if (!key) throw new CryptoError('no active data key is loaded');
    return key;
  }

  dataKey(version: number): DataKey | undefined {
    return this.dataKeys.get(version);
  }

  get indexKey(): Buffer {
    if (!this.indexKeyValue) throw new CryptoError('no blind-index key is loaded');
    return this.indexKeyValue;
  }

  get versions(): number[] {
    return [...this.dataKeys.keys()].sort((a, b) => a - b);
  }

  /** Wraps a new data key under the KEK (for `keys rotate`); the caller stores it. */
  wrapNew(version: number): string {
    return newWrappedDataKey(this.kek, version).wrapped;
  }

  /** Wraps every key again under another KEK (for `keys rewrap`): rows to write, in one transaction. */
  rewrapAll(next: Buffer): { purpose: 'data' | 'index'; version: number; wrapped: string; kekId: string }[] {
    const id = kekId(next);
    return [
      {
        purpose: 'index' as const,
        version: 1,
        wrapped: wrapKey(next, this.indexKey, INDEX_LABEL),
        kekId: id,
      },
      ...this.versions.map((v) => ({
        purpose: 'data' as const,
        version: v,
        wrapped: wrapDataKey(next, this.dataKeys.get(v)!),
        kekId: id,
      })),
    ];
  }
}
