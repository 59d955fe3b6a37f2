import type { Queryable } from '../db/index.ts';
import { verifyAuditChain } from './audit.ts';

/**
 * `npm run audit:verify`: re-computes the access audit's SM3 hash chain and names the first record that
 * does not verify. Prints `OK: N records` (exit 0) or `TAMPERED: first bad record seq=S: <problem>`
 * (exit 1); progress goes to `progress`, so the verdict alone is on standard output.
 */
export async function runAuditVerify(
  db: Queryable,
  io: { out(line: string): void; progress(checked: number, total: number): void },
  pageSize?: number,
): Promise<number> {
  const [{ total } = { total: 0 }] = await db.query<{ total: number }>(
    'SELECT count(*)::int AS total FROM audit_log',
  );
  io.progress(0, total);
  const result = await verifyAuditChain(db, (checked) => io.progress(checked, total), pageSize);
  if (result.ok) {
    io.out(`OK: ${result.checked} records`);
    return 0;
  }
  io.out(`TAMPERED: first bad record seq=${result.firstBad!.seq}: ${result.firstBad!.problem}`);
  return 1;
}
