import type { Database, Queryable } from '../db/index.ts';
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
  });
  return sm3Hex(`${prevHash}\n${body}`);
}

interface Pending {
  entry: AuditEntry;
  at: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Appends audit records with one writer: requests that finish while a write is in flight are batched
 * into the next one, so the chain stays strictly ordered and each request waits for its own record.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  batches = 0;

  constructor(private readonly db: Database) {}

  append(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, at: new Date().toISOString(), resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 500);
        try {
          await this.db.transaction((tx) => this.write(tx, batch));
          this.batches++;
          for (const p of batch) p.resolve();
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async write(tx: Queryable, batch: Pending[]): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const [last] = await tx.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS_HASH;
    const records: AuditRecord[] = batch.map(({ entry, at }) => {
      seq += 1;
      const record = { ...entry, seq, at };
      const hash = chainHash(prevHash, record);
      const full = { ...record, prevHash, hash };
      prevHash = hash;
      return full;
    });
    await tx.query(
      `INSERT INTO audit_log (seq, at, principal, department_code, purpose, channel, operation, document_hash, fields,
                              row_counts, subjects, outcome, prev_hash, hash)
       SELECT seq, at::timestamptz, principal, "departmentCode", purpose, channel, operation, "documentHash", fields,
              "rowCounts", subjects, outcome, "prevHash", hash
         FROM jsonb_to_recordset($1::jsonb) AS r(seq bigint, at text, principal text, "departmentCode" text,
              purpose text, channel text, operation text, "documentHash" text, fields jsonb, "rowCounts" jsonb,
              subjects text[], outcome text, "prevHash" text, hash text)`,
      [JSON.stringify(records)],
    );
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
              fields, row_counts AS "rowCounts", subjects, outcome, prev_hash AS "prevHash", hash
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
