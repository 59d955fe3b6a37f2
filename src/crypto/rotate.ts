import { type Database, type Queryable, quoteIdent } from '../db/index.ts';
import { type AtRestCodec, codecFor, encryptedColumns, encryptedTables, keyringOf } from './at-rest.ts';
import { CryptoError, keyVersionOf } from './field-cipher.ts';

/**
 * Data-key rotation: a new data key becomes the active one (new writes use it at once; processes pick it up
 * within seconds), then every stored value under an older key — or still in clear, from before encryption
 * at rest — is re-encrypted in batches, while the service keeps answering: old versions still decrypt
 * until the rotation is over, and a reader that meets the new version reloads the keys.
 *
 * Each batch is one short transaction: it locks its rows (`FOR UPDATE`), rewrites them and records how far
 * the table's pass got, with `govbase.rekey` set locally so the history and change-log triggers see a
 * re-encryption, not a change (no history row, no new version). A rotation killed at any point resumes
 * from the recorded position; whatever was written meanwhile under an older key is caught by the final
 * sweep, which repeats until no value is left under an older key. The blind indexes stay (the index key
 * is not rotated); they are recomputed on the way, which also fills them in for values that were in clear.
 */

export type RotationEvent =
  | { kind: 'start'; targetVersion: number; resumed: boolean; total: number }
  /** `done` and `total` count rows; `rewritten` the values of this batch. */
  | { kind: 'batch'; table: string; rewritten: number; done: number; total: number }
  | { kind: 'sweep'; remaining: number };

export interface RotateOptions {
  /** Rows per batch (one transaction each). @default 1000 */
  batchSize?: number;
  /** Pause between batches, to go easy on a busy database. @default 0 */
  pauseMs?: number;
  /** Full sweeps after the first pass before giving up (values keep arriving under an old key). @default 5 */
  maxSweeps?: number;
  onProgress?: (event: RotationEvent) => void;
}

export interface RotationResult {
  targetVersion: number;
  resumed: boolean;
  /** Values re-encrypted by this call. */
  rewritten: number;
  /** Rows still holding a value under an older key (0 when the rotation finished). */
  remaining: number;
  finished: boolean;
}

/** SQL: true when any encrypted column of the row holds a value under a key older than the parameter. */
function stalePredicate(table: string, param: string): string {
  return encryptedColumns(table)
    .map((c) => `gb_key_version(${quoteIdent(c.column)}) < ${param}`)
    .join(' OR ');
}

/** Rows holding a value under a key older than `target` (or in clear), per table: one scan each. */
export async function staleCounts(db: Queryable, target: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of encryptedTables()) {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::bigint AS n FROM ${quoteIdent(table)} WHERE ${stalePredicate(table, '$1')}`,
      [target],
    );
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Values per stored key version (0: in clear), per table and column: `keys status`. */
export async function versionCounts(
  db: Queryable,
): Promise<{ table: string; column: string; version: number; n: number }[]> {
  const out: { table: string; column: string; version: number; n: number }[] = [];
  for (const table of encryptedTables()) {
    for (const { column } of encryptedColumns(table)) {
      const found = await db.query<{ v: number; n: number }>(
        `SELECT gb_key_version(${quoteIdent(column)}) AS v, count(*)::bigint AS n FROM ${quoteIdent(table)}
          WHERE ${quoteIdent(column)} IS NOT NULL GROUP BY 1 ORDER BY 1`,
      );
      for (const r of found) out.push({ table, column, version: Number(r.v), n: Number(r.n) });
    }
  }
  return out;
}

/** Starts a rotation (a new active data key) or finds the unfinished one; returns its target version. */
async function beginRotation(
  db: Database,
  codec: AtRestCodec,
): Promise<{ target: number; resumed: boolean }> {
  const keyring = keyringOf(codec);
  if (!keyring) throw new CryptoError('rotation needs the database keyring, not the benchmark codec');
  const [open] = await db.query<{ target_version: number }>(
    'SELECT target_version FROM key_rotations WHERE finished_at IS NULL ORDER BY target_version DESC LIMIT 1',
  );
  if (open) {
    await keyring.reload();
    return { target: Number(open.target_version), resumed: true };
  }
  const target = await db.transaction(async (tx) => {
    // One rotation starts at a time: the key table is locked for the few statements below.
    await tx.query('LOCK TABLE data_keys IN EXCLUSIVE MODE');
    const [row] = await tx.query<{ v: number }>(
      "SELECT coalesce(max(version), 0)::int AS v FROM data_keys WHERE purpose = 'data'",
    );
    const version = Number(row!.v) + 1;
    await tx.query(
      `UPDATE data_keys SET status = 'decrypt_only' WHERE purpose = 'data' AND status = 'active'`,
    );
    await tx.query(
      `INSERT INTO data_keys (purpose, version, wrapped, kek_id, status) VALUES ('data', $1, $2, $3, 'active')`,
      [version, keyring.wrapNew(version), keyring.kekId],
    );
    await tx.query('INSERT INTO key_rotations (target_version) VALUES ($1)', [version]);
    return version;
  });
  await keyring.reload();
  return { target, resumed: false };
}

/** Re-encrypts one batch of `table` from id `from` on; returns the rows rewritten and the last id. */
async function rotateBatch(
  db: Database,
  codec: AtRestCodec,
  table: string,
  from: number,
  target: number,
  batchSize: number,
): Promise<{ rows: number; values: number; last: number }> {
  const columns = encryptedColumns(table);
  const t = quoteIdent(table);
  return db.transaction(async (tx) => {
    await tx.query("SELECT set_config('govbase.rekey', 'on', true)");
    const found = await tx.query<Record<string, unknown> & { ctid: string; id: number }>(
      `SELECT ctid::text AS ctid, id, ${columns.map((c) => quoteIdent(c.column)).join(', ')} FROM ${t}
        WHERE id >= $1 AND (${stalePredicate(table, '$2')}) ORDER BY id LIMIT $3 FOR UPDATE`,
      [from, target, batchSize],
    );
    if (found.length === 0) return { rows: 0, values: 0, last: from };
    let values = 0;
    const params: unknown[][] = [found.map((r) => r.ctid)];
    for (const c of columns) {
      const stored: (string | null)[] = [];
      const index: (string | null)[] = [];
      for (const row of found) {
        const value = row[c.column] as string | null;
        if (value === null) {
          stored.push(null);
          index.push(null);
          continue;
        }
        const version = keyVersionOf(value) ?? 0;
        // In clear (written before encryption at rest) or under an older key: re-encrypt.
        const clear = version === 0 ? value : codec.decodeValue(value);
        if (version < target) {
          stored.push(codec.encodeValue(table, c.column, clear));
          values++;
        } else stored.push(value);
        index.push(codec.blindIndexFor(table, c.column, clear));
      }
      params.push(stored, index);
    }
    const list = columns.flatMap((c) => [c.column, c.bidxColumn]);
    await tx.query(
      `UPDATE ${t} AS t SET ${list.map((name) => `${quoteIdent(name)} = v.${quoteIdent(name)}`).join(', ')}
         FROM unnest($1::tid[], ${list.map((_, i) => `$${i + 2}::text[]`).join(', ')})
              AS v(ctid, ${list.map(quoteIdent).join(', ')})
        WHERE t.ctid = v.ctid`,
      params,
    );
    const last = Number(found.at(-1)!.id);
    await tx.query(
      `UPDATE key_rotations SET progress = progress || jsonb_build_object($2::text, $3::bigint),
              rewritten = rewritten + $4 WHERE target_version = $1`,
      [target, table, last, values],
    );
    return { rows: found.length, values, last };
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Rotates the data key of `db` (whose keys are open, see openAtRest), or resumes the unfinished rotation.
 * Values are never logged; progress events carry counts only.
 */
export async function rotateDataKey(db: Database, options: RotateOptions = {}): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 1000;
  const maxSweeps = options.maxSweeps ?? 5;
  const codec = codecFor(db);
  const { target, resumed } = await beginRotation(db, codec);
  if (codec.keyVersion !== target) {
    throw new CryptoError(`the keyring did not pick up data key ${target} (active: ${codec.keyVersion})`);
  }
  const [state] = await db.query<{ progress: Record<string, number> }>(
    'SELECT progress FROM key_rotations WHERE target_version = $1',
    [target],
  );
  const stale = await staleCounts(db, target);
  const total = Object.values(stale).reduce((a, b) => a + b, 0);
  options.onProgress?.({ kind: 'start', targetVersion: target, resumed, total });

  let rewritten = 0;
  let done = 0;
  const pass = async (start: Record<string, number>) => {
    for (const table of encryptedTables()) {
      let from = start[table] ?? 0;
      for (;;) {
        const batch = await rotateBatch(db, codec, table, from, target, batchSize);
        if (batch.rows === 0) break;
        rewritten += batch.values;
        done += batch.rows;
        from = batch.last;
        options.onProgress?.({ kind: 'batch', table, rewritten: batch.values, done, total });
        if (options.pauseMs) await sleep(options.pauseMs);
      }
    }
  };

  await pass(state?.progress ?? {});
  let remaining = 0;
  for (let sweep = 0; sweep <= maxSweeps; sweep++) {
    // Rows written meanwhile by a process that had not yet seen the new key, or behind a resumed pass.
    remaining = Object.values(await staleCounts(db, target)).reduce((a, b) => a + b, 0);
    options.onProgress?.({ kind: 'sweep', remaining });
    if (remaining === 0 || sweep === maxSweeps) break;
    await pass({});
  }
  if (remaining === 0) {
    await db.transaction(async (tx) => {
      await tx.query('UPDATE key_rotations SET finished_at = now() WHERE target_version = $1', [target]);
      await tx.query(
        `UPDATE data_keys SET status = 'retired', retired_at = now()
          WHERE purpose = 'data' AND version < $1 AND status <> 'retired'`,
        [target],
      );
    });
  }
  return { targetVersion: target, resumed, rewritten, remaining, finished: remaining === 0 };
}

/** Wraps every key again under a new KEK (KEK rotation); one transaction. */
export async function rewrapKeys(db: Database, next: Buffer): Promise<number> {
  const keyring = keyringOf(codecFor(db));
  if (!keyring) throw new CryptoError('rewrap needs the database keyring');
  const rows = keyring.rewrapAll(next);
  await db.transaction(async (tx) => {
    for (const r of rows) {
      await tx.query('UPDATE data_keys SET wrapped = $3, kek_id = $4 WHERE purpose = $1 AND version = $2', [
        r.purpose,
        r.version,
        r.wrapped,
        r.kekId,
      ]);
    }
  });
  return rows.length;
}
