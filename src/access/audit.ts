import type { Database, Queryable } from '../db/index.ts';
import { AnchorWriter } from './audit-anchor.ts';
import { auditSettings } from './audit-settings.ts';
import { canonicalJson, sm3Hex } from './sm3.ts';

export const GENESIS_HASH = '0'.repeat(64);
/** Serialises chain appends across gateway processes sharing one database. */
const CHAIN_LOCK = 0x6a7564; // 'jud'

export interface AuditEntry {
  principal: string;
  departmentCode: string | null;
  purpose: string | null;
  channel: 'graphql' | 'ogc' | 'tiles' | 'export' | 'script';
  operation: string | null;
  documentHash: string | null;
  fields: Record<string, unknown>;
  rowCounts: Record<string, number>;
  subjects: string[];
  outcome: 'ok' | 'partial' | 'error';
  /**
   * The arguments of a subscription's root field, recorded when it is set up (queries record the document
   * hash only: their variables may hold the very ID numbers being looked up). Absent on other records.
   */
  arguments?: Record<string, unknown> | null;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

/** The chain hash: SM3 over the previous hash and the canonical record. Changing any part breaks it. */
export function chainHash(prevHash: string, record: Omit<AuditRecord, 'hash' | 'prevHash'>): string {
  const {
    seq,
    at,
    principal,
    departmentCode,
    purpose,
    channel,
    operation,
    documentHash,
    fields,
    rowCounts,
    subjects,
    outcome,
    arguments: args,
  } = record;
  const body = canonicalJson({
    seq,
    at,
    principal,
    departmentCode,
    purpose,
    channel,
    operation,
    documentHash,
    fields,
    rowCounts,
    subjects,
    outcome,
    // Hashed only when present, so records written before the column existed verify unchanged.
    arguments: args ?? undefined,
  });
  return sm3Hex(`${prevHash}\n${body}`);
}

/** How a durable audit write is committed. 'off' is not offered: a record lost in a crash after its data was
 * answered would break "no audit, no data". See AuditLog. */
export type AuditSynchronousCommit = 'on' | 'local' | 'remote_write' | 'remote_apply';

export interface AuditLogOptions {
  /**
   * Longest wait, in milliseconds, of a batch that is about to be written for requests still executing
   * (announced with `slot()`), so that they join it. A batch never waits when nothing else is executing:
   * a lone sequential client pays no linger. @default 2
   */
  lingerMs?: number;
  /** The durable commit's time assumed until one is measured (it bounds the linger, see linger()). @default 1 */
  initialCommitMs?: number;
  /** Records per INSERT. @default 500 */
  maxBatch?: number;
  /** `synchronous_commit` of the audit transaction (SET LOCAL), whatever the server default. @default 'on' */
  synchronousCommit?: AuditSynchronousCommit;
  /** Called after every committed batch with the new chain head. */
  onCommit?: (head: ChainHead) => void;
  /** Append checkpoints of the committed head to this file, at most every intervalMs (audit-anchor.ts). */
  anchor?: { file: string; intervalMs: number; key?: Buffer | undefined };
}

/** The options a gateway runs with: GOVBASE_AUDIT_* (src/access/audit-settings.ts). */
export function auditLogOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AuditLogOptions {
  const settings = auditSettings(env);
  return {
    lingerMs: settings.lingerMs,
    synchronousCommit: settings.synchronousCommit,
    ...(settings.anchorFile
      ? {
          anchor: {
            file: settings.anchorFile,
            intervalMs: settings.anchorIntervalMs,
            key: settings.anchorKey,
          },
        }
      : {}),
  };
}

/** The last record of the chain: what the next record links to. */
export interface ChainHead {
  seq: number;
  hash: string;
}

const GENESIS: ChainHead = { seq: 0, hash: GENESIS_HASH };

interface Pending {
  entry: AuditEntry;
  at: string;
  /** performance.now() when appended: how long requests wait for their record (stats.waitMs). */
  queued: number;
  resolve: (seq: number) => void;
  reject: (error: unknown) => void;
}

/** A request that is executing and will append its record when it finishes (or release the slot). */
export interface AuditSlot {
  append(entry: AuditEntry): Promise<number>;
  release(): void;
}

const RECORD_COLUMNS = `seq, at, principal, department_code, purpose, channel, operation, document_hash, fields,
  row_counts, subjects, outcome, arguments, prev_hash, hash`;

const ROW_TYPES = [
  'int8',
  'timestamptz',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'jsonb',
  'jsonb',
  'text[]',
  'text',
  'jsonb',
  'text',
  'text',
] as const;

/**
 * One multi-row INSERT for a batch. With `lock`, the chain's advisory lock and the commit level are taken
 * in the same statement (FROM a one-row subquery, so no row is produced before the lock is held): sent
 * outside a transaction block, lock, insert and durable COMMIT are one round trip.
 */
function insertSql(rows: number, lock: boolean): string {
  const values = Array.from(
    { length: rows },
    (_, r) =>
      `(${ROW_TYPES.map((type, c) => `$${(lock ? 3 : 1) + r * ROW_TYPES.length + c}::${type}`).join(', ')})`,
  ).join(',\n  ');
  const source = `(VALUES ${values}) AS v(${RECORD_COLUMNS})`;
  return lock
    ? `INSERT INTO audit_log (${RECORD_COLUMNS})
SELECT v.* FROM (SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', $2, true)) AS l, ${source}`
    : `INSERT INTO audit_log (${RECORD_COLUMNS}) SELECT v.* FROM ${source}`;
}

function insertParams(records: AuditRecord[]): unknown[] {
  return records.flatMap((r) => [
    r.seq,
    r.at,
    r.principal,
    r.departmentCode,
    r.purpose,
    r.channel,
    r.operation,
    r.documentHash,
    JSON.stringify(r.fields),
    JSON.stringify(r.rowCounts),
    r.subjects,
    r.outcome,
    r.arguments == null ? null : JSON.stringify(r.arguments),
    r.prevHash,
    r.hash,
  ]);
}

/** A record for this seq exists already: another writer appended since this process last did. */
function isSeqTaken(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (e.constraint === undefined || e.constraint === 'audit_log_pkey');
}

async function readHead(tx: Queryable): Promise<ChainHead> {
  const [last] = await tx.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  return last ? { seq: Number(last.seq), hash: last.hash } : GENESIS;
}

function headOf(records: AuditRecord[]): ChainHead {
  const last = records.at(-1)!;
  return { seq: last.seq, hash: last.hash };
}

function link(head: ChainHead, batch: Pending[]): AuditRecord[] {
  let { seq, hash: prevHash } = head;
  return batch.map(({ entry, at }) => {
    seq += 1;
    const record = { ...entry, seq, at };
    const hash = chainHash(prevHash, record);
    const full = { ...record, prevHash, hash };
    prevHash = hash;
    return full;
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const badString = (text: string) => text.includes('\0') || LONE_SURROGATE.test(text);

/** A string PostgreSQL text and jsonb cannot hold (NUL, a lone surrogate) would fail its whole batch. */
function unstorable(value: unknown): boolean {
  if (typeof value === 'string') return badString(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(unstorable);
  return Object.entries(value).some(([k, v]) => badString(k) || unstorable(v));
}

/**
 * The append-only writer of the audit chain: group commit with one writer per process.
 *
 * - A request's record is durable before its data leaves: `append` resolves after the COMMIT of the batch
 *   holding it, with `synchronous_commit` set explicitly (default 'on': the WAL is flushed; with
 *   synchronous standbys configured, they confirm too). 'off' would answer reads whose records a crash
 *   can still lose, so it is refused.
 * - Records that arrive while a batch is being written form the next batch (one multi-row INSERT, one
 *   COMMIT, one WAL flush for all of them). A batch about to be written waits up to `lingerMs` only for
 *   requests announced as executing (`slot()`); with nothing executing it goes at once.
 * - Several processes may write: each batch takes a transaction-scoped advisory lock, so batches commit
 *   one at a time in chain order. The chain head is kept in memory: a batch is linked to it and sent as
 *   one statement (lock, multi-row INSERT, COMMIT in one round trip). The primary key on seq is the check
 *   that the head has not moved: if another writer appended meanwhile, record head+1 exists, the
 *   statement fails whole, and only then is the head re-read — in a transaction, after the lock — and the
 *   batch re-linked. Two writers can never both append record N, and no record links to a stale head.
 * - Any failure rejects every request of the batch (AUDIT_UNAVAILABLE) and forgets the cached head, since
 *   a failed COMMIT may or may not have landed.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private head: ChainHead | null = null;
  private executing = 0;
  private wake: (() => void) | null = null;
  /** Recent time of a batch's durable commit (moving average), in milliseconds. */
  private commitMs = 1;
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly synchronousCommit: AuditSynchronousCommit;
  /**
   * Batches committed, records written, head re-reads forced by another writer, the largest batch, and the
   * total time records waited from append to durable commit (for tests and benches).
   */
  readonly stats = { batches: 0, records: 0, headMoved: 0, largestBatch: 0, waitMs: 0 };

  /** Checkpoints of the head, when an anchor file is configured. */
  readonly anchor: AnchorWriter | null;

  constructor(
    private readonly db: Database,
    private readonly options: AuditLogOptions = auditLogOptionsFromEnv(),
  ) {
    this.lingerMs = options.lingerMs ?? 2;
    this.commitMs = options.initialCommitMs ?? 1;
    this.maxBatch = options.maxBatch ?? 500;
    this.synchronousCommit = options.synchronousCommit ?? 'on';
    if (!['on', 'local', 'remote_write', 'remote_apply'].includes(this.synchronousCommit)) {
      throw new Error(`audit synchronousCommit must be on, local, remote_write or remote_apply`);
    }
    const anchor = options.anchor;
    this.anchor = anchor ? new AnchorWriter(anchor.file, anchor.intervalMs, anchor.key) : null;
  }

  /** @deprecated kept for callers that read the batch count; use stats.batches. */
  get batches(): number {
    return this.stats.batches;
  }

  /** The head this process last committed or read (null before the first write or after a failure). */
  get cachedHead(): ChainHead | null {
    return this.head;
  }

  /**
   * Announces a request that will append a record when it finishes, so a batch forming meanwhile may wait
   * for it (up to lingerMs). Release the slot if the request ends without appending.
   */
  slot(): AuditSlot {
    this.executing++;
    let open = true;
    const release = () => {
      if (!open) return;
      open = false;
      this.executing--;
      if (this.executing === 0) this.wake?.();
    };
    return {
      append: (entry) => {
        // Queue first, then release: a lingering batch woken by the release then finds the record.
        const appended = this.append(entry);
        release();
        return appended;
      },
      release,
    };
  }

  /** Appends a record; resolves to its seq once it is durably committed, rejects when it cannot be. */
  append(entry: AuditEntry): Promise<number> {
    if (unstorable(entry))
      return Promise.reject(new Error('audit entry holds a string the database cannot store'));
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ entry, at: new Date().toISOString(), queued: performance.now(), resolve, reject });
      if (this.queue.length >= this.maxBatch) this.wake?.();
      if (!this.writing) this.writing = this.drain();
    });
  }

  /**
   * Waits while requests are still executing, unless the batch is full: at most lingerMs, and at most half
   * the recent time of a durable commit — waiting longer than the flush it may save only adds latency (on a
   * disk that flushes in 0.2 ms this is one turn of the event loop; on a slow or busy one, up to lingerMs).
   */
  private async linger(): Promise<void> {
    if (this.executing === 0 || this.lingerMs <= 0 || this.queue.length >= this.maxBatch) return;
    const wait = Math.min(this.lingerMs, this.commitMs / 2);
    await new Promise<void>((resolve) => {
      const self = this;
      // Below a millisecond a timer cannot wait less: give the requests finishing now one turn instead.
      const timer = wait >= 1 ? setTimeout(done, wait) : setImmediate(done);
      function done() {
        if (wait >= 1) clearTimeout(timer as NodeJS.Timeout);
        else clearImmediate(timer as NodeJS.Immediate);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.linger();
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const started = performance.now();
          const head = await this.write(batch);
          // Moving average of a durable commit's time, which bounds the linger.
          this.commitMs = 0.8 * this.commitMs + 0.2 * (performance.now() - started);
          this.head = head;
          const first = head.seq - batch.length + 1;
          this.stats.batches++;
          this.stats.records += batch.length;
          this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
          const now = performance.now();
          for (const [i, p] of batch.entries()) {
            this.stats.waitMs += now - p.queued;
            p.resolve(first + i);
          }
          this.anchor?.note(head);
          this.options.onCommit?.(head);
        } catch (error) {
          this.head = null;
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  /**
   * Fast path (the head is known): one statement outside a transaction block takes the lock, inserts the
   * batch linked to the cached head, and commits durably. If another writer appended meanwhile, the primary
   * key refuses the batch's first seq (nothing is written) and the slow path runs: a transaction that takes
   * the lock first, reads the head in a snapshot taken after it, links the batch to it and inserts.
   */
  private async write(batch: Pending[]): Promise<ChainHead> {
    if (this.head) {
      const records = link(this.head, batch);
      try {
        await this.db.query(insertSql(records.length, true), [
          CHAIN_LOCK,
          this.synchronousCommit,
          ...insertParams(records),
        ]);
        return headOf(records);
      } catch (error) {
        if (!isSeqTaken(error)) throw error;
        this.stats.headMoved++;
      }
    }
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', $2, true)`, [
        CHAIN_LOCK,
        this.synchronousCommit,
      ]);
      const records = link(await readHead(tx), batch);
      await tx.query(insertSql(records.length, false), insertParams(records));
      return headOf(records);
    });
  }
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first record that does not verify, and why. */
  firstBad?: { seq: number; problem: string };
}

/** Re-computes the whole chain in pages, in order; names the first record that breaks it. */
export async function verifyAuditChain(
  db: Queryable,
  onProgress?: (checked: number) => void,
  pageSize = 5000,
): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const page = await db.query<AuditRecord>(
      `SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, principal,
              department_code AS "departmentCode", purpose, channel, operation, document_hash AS "documentHash",
              fields, row_counts AS "rowCounts", subjects, outcome, arguments, prev_hash AS "prevHash", hash
         FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`,
      [expectedSeq, pageSize],
    );
    if (page.length === 0) return { ok: true, checked };
    for (const record of page) {
      const seq = Number(record.seq);
      if (seq !== expectedSeq) {
        return {
          ok: false,
          checked,
          firstBad: { seq: expectedSeq, problem: `record ${expectedSeq} is missing (next is ${seq})` },
        };
      }
      if (record.prevHash !== prevHash) {
        return {
          ok: false,
          checked,
          firstBad: { seq, problem: 'its link to the previous record is broken (reordered or removed)' },
        };
      }
      const { hash: stored, prevHash: _prev, ...body } = record;
      if (chainHash(prevHash, { ...body, seq }) !== stored) {
        return {
          ok: false,
          checked,
          firstBad: { seq, problem: 'its content does not match its hash (edited)' },
        };
      }
      prevHash = stored;
      expectedSeq++;
      checked++;
    }
    onProgress?.(checked);
  }
}
