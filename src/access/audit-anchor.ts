import { timingSafeEqual } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import type { Queryable } from '../db/index.ts';
import type { ChainHead } from './audit.ts';
import { hmacSm3 } from './sm3.ts';

/**
 * Anchors for the audit chain. The SM3 chain shows any edit, deletion or reordering *inside* the chain,
 * but not a cut at its end: delete the last N records and what is left still verifies. A checkpoint (the
 * head's seq and hash at some moment) kept outside the database closes that gap: a chain that ends before
 * a checkpoint's seq was truncated, one whose record at that seq has another hash was rebuilt.
 *
 * Checkpoints are JSON lines appended to a file (GOVBASE_AUDIT_ANCHOR_FILE) by the gateway (every
 * GOVBASE_AUDIT_ANCHOR_INTERVAL_MS while records are written) and by `npm run audit:verify` after a
 * successful verification. The file belongs outside the database's reach: another host, a WORM volume, a
 * log shipper (each line is self-contained). With GOVBASE_AUDIT_ANCHOR_KEY each line carries an
 * HMAC-SM3, so a checkpoint cannot be forged or altered without the key, only removed — and the
 * checkpoints already shipped elsewhere still hold.
 */
export interface Checkpoint {
  seq: number;
  hash: string;
  /** When the checkpoint was taken (ISO 8601). */
  at: string;
  /** Who wrote it: 'gateway:<pid>' or 'audit:verify'. */
  source: string;
  /** HMAC-SM3 (hex) over seq, hash, at and source, when a key is configured. */
  mac?: string;
}

function macOf(key: Buffer, c: Omit<Checkpoint, 'mac'>): string {
  return hmacSm3(key, `govbase-audit-anchor\n${c.seq}\n${c.hash}\n${c.at}\n${c.source}`).toString('hex');
}

export function checkpointLine(head: ChainHead, source: string, key?: Buffer, at = new Date()): string {
  const body = { seq: head.seq, hash: head.hash, at: at.toISOString(), source };
  const line: Checkpoint = key ? { ...body, mac: macOf(key, body) } : body;
  return `${JSON.stringify(line)}\n`;
}

/** Appends one checkpoint line and flushes it to disk before resolving. */
export async function appendCheckpoint(
  file: string,
  head: ChainHead,
  source: string,
  key?: Buffer,
): Promise<Checkpoint> {
  const line = checkpointLine(head, source, key);
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return JSON.parse(line) as Checkpoint;
}

export interface CheckpointFile {
  checkpoints: Checkpoint[];
  /** Lines that are not checkpoints, or (with a key) whose MAC does not verify. */
  bad: { line: number; problem: string }[];
}

export async function readCheckpoints(file: string, key?: Buffer): Promise<CheckpointFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], bad: [] };
    throw error;
  }
  const result: CheckpointFile = { checkpoints: [], bad: [] };
  for (const [i, raw] of text.split('\n').entries()) {
    if (!raw.trim()) continue;
    const line = i + 1;
    let c: Checkpoint;
    try {
      c = JSON.parse(raw) as Checkpoint;
    } catch {
      result.bad.push({ line, problem: 'not JSON' });
      continue;
    }
    if (
      !Number.isSafeInteger(c.seq) ||
      c.seq < 1 ||
      typeof c.hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(c.hash) ||
      typeof c.at !== 'string' ||
      typeof c.source !== 'string'
    ) {
      result.bad.push({ line, problem: 'not a checkpoint (seq, hash, at, source)' });
      continue;
    }
    if (key) {
      const expected = Buffer.from(
        macOf(key, { seq: c.seq, hash: c.hash, at: c.at, source: c.source }),
        'hex',
      );
      const given = Buffer.from(typeof c.mac === 'string' ? c.mac : '', 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        result.bad.push({
          line,
          problem: c.mac ? 'its MAC does not verify (forged or altered)' : 'unsigned',
        });
        continue;
      }
    }
    result.checkpoints.push(c);
  }
  return result;
}

export interface AnchorResult {
  ok: boolean;
  /** Checkpoints compared with the chain. */
  checked: number;
  /** The latest checkpoint (highest seq). */
  latest?: Checkpoint;
  problem?: { kind: 'truncated' | 'rewritten'; seq: number; message: string };
}

/**
 * Compares the chain with the checkpoints: every checkpointed seq must still exist with the same hash.
 * Reports the earliest checkpoint that does not hold (a truncation is named by the first missing seq).
 */
export async function checkAnchors(db: Queryable, checkpoints: Checkpoint[]): Promise<AnchorResult> {
  if (checkpoints.length === 0) return { ok: true, checked: 0 };
  const bySeq = new Map<number, Checkpoint>();
  for (const c of checkpoints) {
    const seen = bySeq.get(c.seq);
    if (seen && seen.hash !== c.hash) {
      return {
        ok: false,
        checked: 0,
        problem: {
          kind: 'rewritten',
          seq: c.seq,
          message: `checkpoints disagree on record ${c.seq} (${seen.at} and ${c.at}): the chain was rebuilt between them`,
        },
      };
    }
    if (!seen) bySeq.set(c.seq, c);
  }
  const ordered = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const latest = ordered.at(-1)!;
  const [{ head } = { head: 0 }] = await db.query<{ head: number | null }>(
    'SELECT coalesce(max(seq), 0) AS head FROM audit_log',
  );
  const stored = new Map(
    (
      await db.query<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit_log WHERE seq = ANY($1::int8[])',
        [ordered.map((c) => c.seq)],
      )
    ).map((r) => [Number(r.seq), r.hash]),
  );
  for (const c of ordered) {
    const hash = stored.get(c.seq);
    if (hash === undefined && c.seq > Number(head)) {
      const first = Number(head) + 1;
      return {
        ok: false,
        checked: ordered.indexOf(c),
        latest,
        problem: {
          kind: 'truncated',
          seq: first,
          message:
            `the chain ends at seq=${head} but a checkpoint of ${c.at} (${c.source}) recorded seq=${c.seq}: ` +
            `records ${first}..${latest.seq} at least were removed from its end`,
        },
      };
    }
    if (hash !== c.hash) {
      return {
        ok: false,
        checked: ordered.indexOf(c),
        latest,
        problem: {
          kind: 'rewritten',
          seq: c.seq,
          message:
            hash === undefined
              ? `record ${c.seq}, checkpointed on ${c.at} (${c.source}), is missing`
              : `record ${c.seq} does not match the checkpoint of ${c.at} (${c.source}): the chain was rebuilt`,
        },
      };
    }
  }
  return { ok: true, checked: ordered.length, latest };
}

/**
 * Appends a checkpoint of the latest committed head at most every `intervalMs`, off the request path.
 * Failures are logged, never thrown at a request: the audit record itself is already durable.
 */
export class AnchorWriter {
  private pending: ChainHead | null = null;
  private written: ChainHead | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastWrite = 0;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
    private readonly key?: Buffer,
    private readonly source = `gateway:${process.pid}`,
  ) {}

  /** Called after every committed batch with the new head. */
  note(head: ChainHead): void {
    if (this.pending && this.pending.seq >= head.seq) return;
    this.pending = head;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, wait);
    this.timer.unref();
  }

  /** Writes the pending head now (tests, shutdown). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const head = this.pending;
      if (!head || (this.written && this.written.seq >= head.seq)) return;
      this.lastWrite = Date.now();
      try {
        await appendCheckpoint(this.file, head, this.source, this.key);
        this.written = head;
      } catch (error) {
        console.error(`audit anchor: cannot append to ${this.file}: ${(error as Error).message}`);
      }
    });
    return this.flushing;
  }
}
