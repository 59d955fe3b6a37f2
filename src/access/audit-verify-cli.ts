import type { Queryable } from '../db/index.ts';
import { GENESIS_HASH, verifyAuditChain } from './audit.ts';
import { appendCheckpoint, checkAnchors, readCheckpoints } from './audit-anchor.ts';

export interface AuditVerifyOptions {
  pageSize?: number;
  /** The checkpoint file (GOVBASE_AUDIT_ANCHOR_FILE or --anchor-file). */
  anchorFile?: string | undefined;
  /** HMAC-SM3 key of the checkpoints (GOVBASE_AUDIT_ANCHOR_KEY). */
  anchorKey?: Buffer | undefined;
  /** --anchor: compare the chain with every checkpoint in the file (truncation, rebuilt chain). */
  compare?: boolean;
  /** Append a checkpoint of the verified head to the file (the default when a file is given). */
  record?: boolean;
}

/**
 * `npm run audit:verify [-- --anchor]`: re-computes the access audit's SM3 hash chain and names the first
 * record that does not verify, then prints the head. With --anchor, also compares the chain with the
 * checkpoints of the anchor file, so records cut from the end of the chain are found; with an anchor file,
 * a verified head is appended to it as a new checkpoint.
 *
 * Standard output, one verdict per line:
 *   OK: N records                         | TAMPERED: first bad record seq=S: <problem>
 *   HEAD seq=N hash=H
 *   ANCHORED: K checkpoints hold (latest seq=S of T) | TRUNCATED: … | REWRITTEN: … | ANCHOR FILE: line L …
 *   CHECKPOINT seq=N appended to FILE
 * Exit 0 when everything holds, 1 otherwise; progress goes to `progress`.
 */
export async function runAuditVerify(
  db: Queryable,
  io: { out(line: string): void; progress(checked: number, total: number): void },
  options: AuditVerifyOptions = {},
): Promise<number> {
  const [{ total } = { total: 0 }] = await db.query<{ total: number }>(
    'SELECT count(*)::int AS total FROM audit_log',
  );
  io.progress(0, total);
  const result = await verifyAuditChain(db, (checked) => io.progress(checked, total), options.pageSize);
  if (!result.ok) {
    io.out(`TAMPERED: first bad record seq=${result.firstBad!.seq}: ${result.firstBad!.problem}`);
    return 1;
  }
  io.out(`OK: ${result.checked} records`);
  const [last] = await db.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const head = last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
  io.out(`HEAD seq=${head.seq} hash=${head.hash}`);

  let code = 0;
  if (options.compare) {
    if (!options.anchorFile) {
      io.out('ANCHOR FILE: none given (set GOVBASE_AUDIT_ANCHOR_FILE or pass --anchor-file)');
      return 1;
    }
    const file = await readCheckpoints(options.anchorFile, options.anchorKey);
    for (const bad of file.bad) {
      io.out(`ANCHOR FILE: line ${bad.line} of ${options.anchorFile}: ${bad.problem}`);
      code = 1;
    }
    const anchors = await checkAnchors(db, file.checkpoints);
    if (!anchors.ok) {
      io.out(`${anchors.problem!.kind.toUpperCase()}: ${anchors.problem!.message}`);
      return 1;
    }
    if (anchors.latest) {
      io.out(
        `ANCHORED: ${anchors.checked} checkpoints hold (latest seq=${anchors.latest.seq} of ${anchors.latest.at})`,
      );
    } else {
      io.out(`ANCHORED: no checkpoints in ${options.anchorFile} yet`);
    }
  }
  // A chain that does not verify, or does not hold against its checkpoints, is not anchored anew.
  if (code === 0 && options.anchorFile && options.record !== false && head.seq > 0) {
    await appendCheckpoint(options.anchorFile, head, 'audit:verify', options.anchorKey);
    io.out(`CHECKPOINT seq=${head.seq} appended to ${options.anchorFile}`);
  }
  return code;
}
