import { sql } from 'drizzle-orm';
import { bigint, check, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { dataset, f } from './catalogue.ts';

/**
 * Keys of the encryption at rest (src/crypto): data keys and the blind-index key, each wrapped (SM4 +
 * HMAC-SM3) by the key-encryption key from configuration (GOVBASE_KEK / GOVBASE_KEK_FILE), which is
 * never stored here. A copy of the database alone decrypts nothing.
 */
export const dataKeys = pgTable(
  'data_keys',
  {
    /** 'data' encrypts values; 'index' keys the blind indexes (one version, not rotated by `keys rotate`). */
    purpose: text('purpose', { enum: ['data', 'index'] }).notNull(),
    version: integer('version').notNull(),
    /** The key wrapped by the KEK, labelled with purpose and version (a row cannot pass for another). */
    wrapped: text('wrapped').notNull(),
    /** Key check value of the wrapping KEK (HMAC-SM3 under it of a fixed label): names a wrong KEK. */
    kekId: text('kek_id').notNull(),
    /** active: encrypts new values; decrypt_only: values may remain under it (a rotation is running);
     * retired: no value is under it any more (kept for backups). */
    status: text('status', { enum: ['active', 'decrypt_only', 'retired'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.purpose, t.version] }),
    check('data_keys_version_positive', sql`version > 0`),
  ],
);

/** One row per rotation to a data-key version: where each table's pass has got to (resumable). */
export const keyRotations = pgTable('key_rotations', {
  targetVersion: integer('target_version').primaryKey(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  /** Table name → the id the pass has reached (rows below it are under the target key, or were
   * written meanwhile and are caught by the final sweep). */
  progress: jsonb('progress').$type<Record<string, number>>().notNull().default({}),
  /** Values re-encrypted so far. */
  rewritten: bigint('rewritten', { mode: 'number' }).notNull().default(0),
});

const keys = { registry: 'governance', owner: 'PLATFORM', updateFrequency: 'yearly' } as const;

export const dataKeysDataset = dataset(
  dataKeys,
  {
    ...keys,
    id: 'governance.data_keys',
    name: '数据密钥 Data keys',
    description: 'Wrapped SM4 data keys and the blind-index key of the encryption at rest',
  },
  {
    purpose: f.closed('data or index'),
    version: f.closed('Key version, written into every ciphertext'),
    wrapped: f.closed('The key wrapped by the key-encryption key'),
    kekId: f.closed('Key check value of the wrapping key-encryption key'),
    status: f.closed('active, decrypt_only or retired'),
    createdAt: f.closed('When the key was made'),
    retiredAt: f.closed('When the last value under it was re-encrypted'),
  },
);

export const keyRotationsDataset = dataset(
  keyRotations,
  {
    ...keys,
    id: 'governance.key_rotations',
    name: '密钥轮换 Key rotations',
    description: 'Progress of re-encrypting stored values under a new data key',
  },
  {
    targetVersion: f.closed('The data-key version values are moved to'),
    startedAt: f.closed('Start of the rotation'),
    finishedAt: f.closed('When every value was under the target key'),
    progress: f.closed('Per table, the id the pass has reached'),
    rewritten: f.closed('Values re-encrypted'),
  },
);
