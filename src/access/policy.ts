import { type FieldEntry, LEVELS } from '../../schema/catalogue.ts';
import type { Principal } from './principal.ts';

/**
 * The policy decision for one field, read from the field catalogue and the principal's grants.
 *
 *  1. public fields: ALLOW for everyone, anonymous callers included.
 *  2. not-shared fields (share 'none'): ALLOW only to the owning department, else DENY.
 *  3. no grant on the dataset: DENY.
 *  4. grant level ≥ field level:
 *       unconditional → ALLOW;
 *       conditional   → ALLOW with a declared purpose the grant approves; no purpose → DENY
 *                       (PURPOSE_REQUIRED); another purpose → DENY (PURPOSE_NOT_APPROVED).
 *  5. grant level one below the field level and the field has a mask rule → MASK (no purpose needed:
 *     a masked value is not the conditional data).
 *  6. otherwise DENY.
 * So with the four levels: a grant at 'internal' masks restricted fields (names → 张**); a grant at
 * 'restricted' masks sensitive ones (ID numbers → 110101********1234); sensitive data in clear needs a
 * 'sensitive' grant and an approved purpose.
 */
export type Decision =
  | { kind: 'allow' }
  | { kind: 'mask' }
  | { kind: 'deny'; reason: 'forbidden' | 'purpose_required' | 'purpose_not_approved' };

const ALLOW: Decision = { kind: 'allow' };
const MASK: Decision = { kind: 'mask' };

export function decideField(
  principal: Principal,
  datasetId: string,
  owner: string,
  entry: FieldEntry,
): Decision {
  const level = LEVELS[entry.level];
  if (level === LEVELS.public) return ALLOW;
  if (entry.share === 'none') {
    return principal.department?.code === owner ? ALLOW : { kind: 'deny', reason: 'forbidden' };
  }
  const grant = principal.grants.get(datasetId);
  if (!grant) return { kind: 'deny', reason: 'forbidden' };
  if (grant.maxLevel >= level) {
    if (entry.share === 'unconditional') return ALLOW;
    if (!principal.purpose) return { kind: 'deny', reason: 'purpose_required' };
    return grant.purposes.has(principal.purpose) ? ALLOW : { kind: 'deny', reason: 'purpose_not_approved' };
  }
  if (grant.maxLevel === level - 1 && entry.mask !== 'none') return MASK;
  return { kind: 'deny', reason: 'forbidden' };
}
